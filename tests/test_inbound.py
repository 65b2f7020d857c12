"""Customers' mail read from the feedback mailbox, against a real IMAP server (Debian's Dovecot,
tests/imap_server.py): replies thread into their cases, strangers' mail becomes new feedback,
automatic replies and delivery reports are recorded, the rest is quarantined; each mail once,
and never left on the server with numbers in it."""

import threading
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from feedback_intranet.closing_days import banking_calendar
from feedback_intranet.extensions import db
from feedback_intranet.inbound import operations
from feedback_intranet.inbound.mailbox import Mailbox, MailboxUnavailable, Settings
from feedback_intranet.models import (
    AnswerStatus,
    Case,
    CaseStatus,
    EventKind,
    InboundMail,
    InboundOutcome,
    IntakeChannel,
    OutboxKind,
    OutboxMessage,
    ReplyChannel,
    UnitKind,
)
from tests import imap_server
from tests.sample_mail import BANK_MTA, CUSTOMER, delivery_report, mail

from .conftest import HELSINKI, said
from .test_close_when_delivered import answer

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=HELSINKI)  # a Wednesday


@pytest.fixture(scope="session")
def mail_server():
    if not imap_server.available():
        pytest.skip("Dovecot is not installed: apt-get install dovecot-imapd")
    server = imap_server.MailServer()
    server.start()
    yield server
    server.remove()


@pytest.fixture
def mailbox(app, data, mail_server, clock):
    """The app reads the test mailbox; replies come back to replies@bank.example, and only the
    bank's own mail server's DMARC verdicts count."""
    clock.set(NOW)
    settings = {**mail_server.settings(), "INBOUND_ADDRESS": "replies@bank.example",
                "INBOUND_AUTHSERV_ID": BANK_MTA}
    app.config.update(settings)
    data.config.update(settings)
    yield mail_server
    if mail_server.process is None:
        mail_server.start()
    mail_server.empty()


@pytest.fixture
def org(make_unit, make_user):
    cs = make_unit(code="cs", name="Customer service", kind=UnitKind.CUSTOMER_SERVICE)
    make_unit(code="business-cs", name="Business customer service",
              kind=UnitKind.BUSINESS_CUSTOMER_SERVICE)
    agent = make_user("cs.agent", units=[cs])
    return cs, agent


@pytest.fixture
def case(org, make_case):
    cs, agent = org
    case = make_case(cs, received_at=NOW, status=CaseStatus.ASSIGNED, assignee=agent)
    case.contact_email = CUSTOMER
    db.session.commit()
    return case


def fetch(data, clock):
    return operations.fetch(Settings.from_config(data.config),
                            operations.Rules.from_config(data.config), clock_now=clock,
                            calendar=banking_calendar(HELSINKI))


def outcomes():
    db.session.expire_all()
    return [(m.outcome, m.case_id) for m in db.session.scalars(
        sa.select(InboundMail).order_by(InboundMail.id))]


def customer_mail(case):
    """The case's last message to the customer, as the outbox has it."""
    return db.session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.case_id == case.id, OutboxMessage.kind != OutboxKind.NOTIFICATION)
        .order_by(OutboxMessage.id.desc())).first()


def events(case, kind):
    db.session.expire_all()
    return [e for e in db.session.get(Case, case.id).events if e.kind is kind]


def answered(client, login, case):
    """cs.agent answers by email: the answer's message waits in the outbox."""
    login("cs.agent")
    assert answer(client, case, how={"send": "Send"}).status_code == 302
    client.post("/logout")
    return customer_mail(case)


def test_a_reply_naming_the_answer_threads_into_its_case_and_leaves_the_server(
        client, login, data, clock, mailbox, case):
    sent = answered(client, login, case)
    mailbox.deliver(mail(in_reply_to=sent.message_id, body="Kiitos, mutta maksu näkyy yhä."))
    done = fetch(data, clock)
    assert done.outcomes == {"threaded": 1}
    assert outcomes() == [(InboundOutcome.THREADED, case.id)]
    [replied] = events(case, EventKind.CUSTOMER_REPLIED)
    assert "maksu näkyy yhä" in replied.text
    # Processed and committed, the mail is gone from the server.
    assert mailbox.uids() == [] and mailbox.uids("Quarantine") == []


def test_a_reply_naming_only_the_reference_threads_when_the_bank_saw_dmarc_pass(
        data, clock, mailbox, case):
    mailbox.deliver(mail(subject=f"Re: {case.reference}", dmarc="pass"))
    fetch(data, clock)
    assert outcomes() == [(InboundOutcome.THREADED, case.id)]


@pytest.mark.parametrize("forged", [
    # No verdict of the bank's server at all: anyone can write any From:.
    {},
    # The bank's server saw DMARC fail; the sender's own header below it claims a pass.
    {"dmarc": "fail", "headers": [("Authentication-Results",
                                   f"{BANK_MTA}; dmarc=pass header.from=example.fi")]},
    # A pass from a server the bank does not trust.
    {"headers": [("Authentication-Results", "mx.elsewhere.example; dmarc=pass "
                                            "header.from=example.fi")]},
])
def test_a_forged_from_with_the_reference_does_not_thread(data, clock, mailbox, case, forged):
    mailbox.deliver(mail(subject=f"Re: {case.reference}", body="Muuttakaa tilinumeroni.",
                         **forged))
    fetch(data, clock)
    [(outcome, case_id)] = outcomes()
    assert outcome is InboundOutcome.NEW_FEEDBACK and case_id != case.id
    assert events(case, EventKind.CUSTOMER_REPLIED) == []


def test_mail_from_a_stranger_becomes_new_feedback_without_a_confirmation(
        data, clock, mailbox, org, topic):
    mailbox.deliver(mail(sender="Pekka Puupää <pekka@elsewhere.example>",
                         subject="Konttorin aukioloajat", body="Miksi konttori on kiinni?",
                         attachments=["tiliote.pdf", "kuva.pdf"]))
    fetch(data, clock)
    [(outcome, case_id)] = outcomes()
    assert outcome is InboundOutcome.NEW_FEEDBACK
    new = db.session.get(Case, case_id)
    assert said(new.events[0]) == "Received by email. 2 attachments were not kept."
    assert said(new.events[0], "fi") == "Vastaanotettu sähköpostilla. 2 liitettä jätettiin tallentamatta."
    assert (new.intake_channel, new.reply_wanted, new.reply_channel) == (
        IntakeChannel.EMAIL, True, ReplyChannel.EMAIL)
    assert (new.contact_name, new.contact_email) == ("Pekka Puupää", "pekka@elsewhere.example")
    assert "Konttorin aukioloajat" in new.message and "Miksi konttori on kiinni?" in new.message
    assert new.current_unit.code == "cs"
    # The sender's domain was not proven: no confirmation goes to whoever the From: names.
    assert customer_mail(new) is None


def test_a_proven_stranger_is_confirmed_once_a_day(data, clock, mailbox, org, topic):
    for subject in ("Ensimmäinen asia", "Toinen asia"):
        mailbox.deliver(mail(sender="pekka@elsewhere.example", subject=subject, dmarc="pass"))
    fetch(data, clock)
    records = db.session.scalars(sa.select(InboundMail).order_by(InboundMail.id)).all()
    assert [r.confirmation_sent for r in records] == [True, False]
    confirmation = customer_mail(db.session.get(Case, records[0].case_id))
    assert confirmation.kind is OutboxKind.CONFIRMATION and confirmation.auto_replied


def test_numbers_are_masked_before_anything_is_stored_and_the_raw_mail_is_gone(
        client, login, data, clock, mailbox, case):
    sent = answered(client, login, case)
    mailbox.deliver(mail(sender=f"Aino 131052-308T <{CUSTOMER}>",
                         subject="Re: kortti 4111 1111 1111 1111", in_reply_to=sent.message_id,
                         body="Henkilötunnukseni on 131052-308T ja kortti 4111 1111 1111 1111."))
    fetch(data, clock)
    [replied] = events(case, EventKind.CUSTOMER_REPLIED)
    [record] = db.session.scalars(sa.select(InboundMail)).all()
    stored = " ".join([replied.text, str(replied.facts), record.subject, record.sender_name,
                       record.excerpt])
    for number in ("131052-308T", "4111 1111 1111 1111", "4111"):
        assert number not in stored
    assert mailbox.uids() == [] and mailbox.uids("Quarantine") == []


def test_an_out_of_office_reply_is_recorded_and_nothing_is_sent(
        client, login, data, clock, mailbox, case):
    sent = answered(client, login, case)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
    mailbox.deliver(mail(subject="Automaattinen vastaus: Palautteenne", in_reply_to=sent.message_id,
                         headers=[("Auto-Submitted", "auto-replied")], body="Olen lomalla."))
    mailbox.deliver(mail(sender="loma@elsewhere.example", subject="Out of office",
                         body="I am away."))
    fetch(data, clock)
    assert [o for o, _ in outcomes()] == [InboundOutcome.AUTOMATIC_REPLY] * 2
    assert len(events(case, EventKind.AUTOMATIC_REPLY)) == 1
    assert events(case, EventKind.CUSTOMER_REPLIED) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == before


def test_an_out_of_office_reply_to_a_confirmation_makes_no_mail_loop(
        data, clock, mailbox, org, topic):
    mailbox.deliver(mail(sender="pekka@elsewhere.example", subject="Kiitos", dmarc="pass"))
    fetch(data, clock)
    [confirmation] = db.session.scalars(sa.select(OutboxMessage)).all()
    assert confirmation.auto_replied
    mailbox.deliver(mail(sender="pekka@elsewhere.example", dmarc="pass",
                         subject=f"Poissa toimistolta: {confirmation.subject}",
                         in_reply_to=confirmation.message_id, body="Olen lomalla."))
    fetch(data, clock)
    assert [o for o, _ in outcomes()] == [InboundOutcome.NEW_FEEDBACK,
                                           InboundOutcome.AUTOMATIC_REPLY]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == 1


def test_a_failed_delivery_report_marks_the_answer_failed_and_a_delayed_one_does_not(
        client, login, data, clock, mailbox, case, run_worker):
    sent = answered(client, login, case)
    run_worker()
    mailbox.deliver(delivery_report(sent, action="delayed", status="4.4.1"))
    fetch(data, clock)
    db.session.expire_all()
    assert db.session.get(Case, case.id).delivery_problem == ""
    mailbox.deliver(delivery_report(sent))
    fetch(data, clock)
    assert [o for o, _ in outcomes()] == [InboundOutcome.BOUNCE] * 2
    db.session.expire_all()
    flagged = db.session.get(Case, case.id)
    assert flagged.delivery_problem
    assert flagged.answers[-1].status is AnswerStatus.FAILED


def test_a_crash_between_the_commit_and_taking_the_mail_out_does_not_duplicate_it(
        client, login, data, clock, mailbox, case, monkeypatch):
    sent = answered(client, login, case)
    mailbox.deliver(mail(in_reply_to=sent.message_id))
    real_delete = Mailbox.delete

    def connection_lost(self, uid):
        raise MailboxUnavailable("the connection broke")

    monkeypatch.setattr(Mailbox, "delete", connection_lost)
    with pytest.raises(MailboxUnavailable):
        fetch(data, clock)
    assert mailbox.uids() != []
    monkeypatch.setattr(Mailbox, "delete", real_delete)
    done = fetch(data, clock)
    assert (done.outcomes, done.finished) == ({}, 1)
    assert len(events(case, EventKind.CUSTOMER_REPLIED)) == 1
    assert mailbox.uids() == []


@pytest.mark.committed  # the rollback must be the fetch's own, not the test's transaction's
def test_a_crash_before_the_commit_leaves_the_mail_to_be_read_again(
        client, login, data, clock, mailbox, case, monkeypatch):
    sent = answered(client, login, case)
    mailbox.deliver(mail(in_reply_to=sent.message_id))

    def fails(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(operations.cases, "record_customer_reply", fails)
    with pytest.raises(RuntimeError):
        fetch(data, clock)
    assert outcomes() == [] and len(mailbox.uids()) == 1
    monkeypatch.undo()
    fetch(data, clock)
    assert len(events(case, EventKind.CUSTOMER_REPLIED)) == 1 and mailbox.uids() == []


@pytest.mark.parametrize("setting, raw, reason", [
    ({}, lambda: mail(sender="feedback@bank.example"), operations.OWN_ADDRESS),
    ({}, lambda: b"\x00\x01 not a mail at all", operations.UNREADABLE),
    ({}, lambda: mail(sender="Aino <aino@example.fi>, Pekka <pekka@example.fi>"),
     operations.NO_SENDER),
    ({"INBOUND_MAX_BYTES": 200}, lambda: mail(body="x" * 500), operations.OVERSIZED),
    ({}, lambda: mail(headers=[("X-Spam-Flag", "YES")]), operations.SPAM),
])
def test_what_cannot_be_processed_waits_in_quarantine(
        data, clock, mailbox, org, topic, setting, raw, reason):
    data.config.update(setting)
    mailbox.deliver(raw())
    fetch(data, clock)
    [record] = db.session.scalars(sa.select(InboundMail)).all()
    assert record.outcome is InboundOutcome.QUARANTINED and record.reason.startswith(reason)
    assert mailbox.uids() == [] and len(mailbox.uids("Quarantine")) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == 0


def test_a_server_without_move_copies_deletes_and_expunges(data, clock, mailbox, org, topic,
                                                             monkeypatch):
    real_enter = Mailbox.__enter__

    def without_move(self):
        real_enter(self)
        self.capabilities -= {"MOVE"}
        return self

    monkeypatch.setattr(Mailbox, "__enter__", without_move)
    mailbox.deliver(mail(sender="feedback@bank.example"))
    fetch(data, clock)
    assert mailbox.uids() == [] and len(mailbox.uids("Quarantine")) == 1


def test_one_sender_opens_at_most_the_days_limit_of_new_cases(data, clock, mailbox, org, topic):
    data.config["INBOUND_NEW_CASES_PER_SENDER_PER_DAY"] = 2
    for number in range(3):
        mailbox.deliver(mail(sender="flood@elsewhere.example", subject=f"Asia {number}"))
    fetch(data, clock)
    assert [o for o, _ in outcomes()] == [InboundOutcome.NEW_FEEDBACK] * 2 + [
        InboundOutcome.QUARANTINED]


def test_quarantined_mail_is_purged_after_its_days_and_old_records_forget_the_sender(
        data, clock, mailbox, org, topic):
    mailbox.deliver(mail(sender="feedback@bank.example"), arrived=NOW)
    fetch(data, clock)
    settings = Settings.from_config(data.config)
    calendar = banking_calendar(HELSINKI)
    # Dovecot files it by the day it arrived, which moving it keeps: a week later it goes.
    assert operations.purge(settings, NOW + timedelta(days=2), calendar, quarantine_days=7,
                            log_days=30) == (0, 0)
    assert len(mailbox.uids("Quarantine")) == 1
    assert operations.purge(settings, NOW + timedelta(days=8), calendar, quarantine_days=7,
                            log_days=30) == (1, 0)
    assert mailbox.uids("Quarantine") == []
    assert operations.purge(None, NOW + timedelta(days=31), calendar, quarantine_days=7,
                            log_days=30) == (0, 1)
    [record] = db.session.scalars(sa.select(InboundMail)).all()
    assert (record.sender, record.subject, record.excerpt) == ("", "", "")
    assert record.purged_at is not None


def test_the_fetch_command_says_what_it_did_and_when_the_mailbox_is_down(
        runner, data, clock, mailbox, org, topic):
    mailbox.deliver(mail(sender="pekka@elsewhere.example"))
    result = runner.invoke(args=["inbound", "fetch"])
    assert result.exit_code == 0, result.output
    assert "1 new feedback." in result.output
    mailbox.stop()
    result = runner.invoke(args=["inbound", "fetch"])
    assert result.exit_code == 1 and "The mailbox cannot be used" in result.output


def test_fetch_without_a_mailbox_says_what_to_set(runner):
    result = runner.invoke(args=["inbound", "fetch"])
    assert result.exit_code == 1 and "IMAP_URL is not set" in result.output


@pytest.mark.committed
def test_fetches_at_once_process_each_mail_once(data, clock, mailbox, org, topic, app):
    """Three fetch services on one mailbox (say, after a failover left them all running), over
    several rounds of mail: each mail is one record and one case, and none stays behind."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("writers at once need PostgreSQL")
    errors, rounds, per_round = [], 5, 8

    def run():
        with app.app_context():
            try:
                fetch(app, clock)
            except Exception as error:  # the test reports every failure below
                errors.append(error)
            finally:
                db.session.remove()

    for round_number in range(rounds):
        for number in range(per_round):
            mailbox.deliver(mail(sender=f"person{round_number}.{number}@elsewhere.example",
                                 subject=f"Asia {number}"))
        threads = [threading.Thread(target=run) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert mailbox.uids() == []
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(InboundMail)) == \
        rounds * per_round
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == rounds * per_round


def test_admins_see_what_became_of_each_mail_masked_and_staff_cannot(
        client, login, data, clock, mailbox, case, make_user):
    make_user("admin", is_admin=True)
    mailbox.deliver(mail(subject=f"Re: {case.reference} kortti 4111 1111 1111 1111",
                         dmarc="pass", body="Kortti 4111 1111 1111 1111 on yhä kiinni."))
    mailbox.deliver(mail(sender="feedback@bank.example", subject="Loop"))
    fetch(data, clock)
    login("cs.agent")
    assert client.get("/admin/inbound-mail").status_code == 403
    client.post("/logout")
    login("admin")
    response = client.get("/admin/inbound-mail")
    page = response.get_data(as_text=True)
    assert "4111 1111 1111 1111" not in page and "on yhä kiinni" in page
    assert case.reference in page and "Threaded into its case" in page
    assert "Matched by the case reference in the subject" in page
    assert "The mail came from the intranet&#39;s own address." in page
    assert int(response.headers["X-Query-Count"]) <= 8
    quarantined = client.get("/admin/inbound-mail?outcome=quarantined").get_data(as_text=True)
    assert "Loop" in quarantined and "on yhä kiinni" not in quarantined
    # An outcome that does not exist shows them all, never a 500.
    assert client.get("/admin/inbound-mail?outcome=nonsense").status_code == 200
