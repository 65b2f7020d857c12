"""What the customer's mail program sees of the intranet's emails, through the real worker and
a real SMTP server: one thread per case and address, replies and bounces addressed to the feedback
mailbox when it is read (and only then the emails say that the customer may reply), and RFC 3834
marks that keep auto-responders quiet. Staff mail is untouched by all of it.
"""

import re
from datetime import timedelta
from email.header import decode_header, make_header

import pytest
import sqlalchemy as sa

from feedback_intranet import outbox
from feedback_intranet.extensions import db
from feedback_intranet.intake.emails import (
    queue_confirmation,
    queue_confirmation_of_emailed_feedback,
)
from feedback_intranet.models import Case, OutboxKind, OutboxMessage, OutboxStatus
from feedback_intranet.notifications import ASSIGNED, notify

from .conftest import SMTPRecorder, running_smtp_server
from .test_case_pages import post_action
from .test_intake import form
from .test_replies import answer

MAILBOX = "replies@bank.example"
SENDER = "feedback@bank.example"
# The sentence, and the footer it replaces, as each language reads them.
YOU_MAY_REPLY = {
    "fi": ("Voit vastata tähän viestiin, ja vastauksesi käsitellään samassa asiassa.",
           "salasanoja tai tunnuslukuja", "Emme säilytä viestien liitteitä."),
    "sv": ("Du kan svara på det här meddelandet, och ditt svar kopplas till samma ärende.",
           "lösenord eller bankkoder", "Bilagor sparas inte."),
    "en": ("You can reply to this email, and your reply will go to the same case.",
           "passwords or banking codes", "Attachments are not kept."),
}
NOT_READ = {"fi": "ei lueta", "sv": "läses inte", "en": "are not read"}
TEXTS = {"fi": "Päätös viimeistään 4.12.2026.", "sv": "Beslut senast 4.12.2026.",
         "en": "A decision by 4.12.2026."}


class EnvelopeRecorder(SMTPRecorder):
    """Also keeps the envelope sender each message came with (MAIL FROM, later Return-Path)."""

    async def handle_DATA(self, server, session, envelope):
        reply = await super().handle_DATA(server, session, envelope)
        if reply.startswith("250"):
            self.messages[-1].envelope_sender = envelope.mail_from
        return reply


@pytest.fixture
def smtp_server():
    """Overrides conftest's: `mail_app` and `run_worker` then talk to this one."""
    with running_smtp_server(EnvelopeRecorder()) as recorder:
        yield recorder


@pytest.fixture
def mailbox_read(app, data, mail_app, monkeypatch):
    """The feedback mailbox is read: the web app writes the emails, the worker sends them."""
    for flask_app in (app, data, mail_app):
        monkeypatch.setitem(flask_app.config, "INBOUND_ADDRESS", MAILBOX)


@pytest.fixture
def agent(bank, make_user):
    return make_user("cs.agent", units=[bank["units"]["cs"]])


def header(value):
    return str(make_header(decode_header(value))) if value is not None else None


def bodies(mail):
    """The plain-text and HTML bodies of a received email."""
    parts = {part.get_content_type(): part.get_payload(decode=True).decode()
             for part in mail.walk() if part.get_content_type() in ("text/plain", "text/html")}
    return parts["text/plain"], parts["text/html"]


def customer_writes(client, bank, language="fi", email="aino.virtanen@example.fi"):
    client.post("/feedback", data=form(bank, language=language, email=email,
                                       submission_token=f"token-{language}"))
    return db.session.scalars(sa.select(Case).order_by(Case.id.desc())).first()


def staff_take_it_and_give_a_notice(client, login, case, language="fi"):
    login("cs.agent")
    assert post_action(client, case, "take").status_code == 302
    assert post_action(client, case, "interim_notice", estimate="2026-12-04",
                       text=TEXTS[language]).status_code == 302


def correct_the_email(client, case, address):
    page = client.get(f"/cases/{case.reference}/correct").get_data(as_text=True)
    field = {name: re.search(rf'name="{name}" type="hidden" value="([^"]+)"', page).group(1)
             for name in ("token", "version")}
    response = client.post(f"/cases/{case.reference}/correct", data={
        "contact_name": case.contact_name, "contact_phone": "", "contact_email": address,
        "topic_id": str(case.topic_id), "case_type": "complaint", "segment": "private", **field})
    assert response.status_code == 302


def sent_to(smtp_server, address):
    return [m for m in smtp_server.messages if m["To"] == address]


# One thread per case and address


def test_the_confirmation_notice_and_answer_to_one_customer_form_one_thread(
        client, login, bank, agent, smtp_server, run_worker, clock):
    case = customer_writes(client, bank)
    staff_take_it_and_give_a_notice(client, login, case)
    clock.advance(timedelta(days=1))
    answer(client, case, body="Jonotilanne on korjattu.")
    assert run_worker() == {"sent": 3}

    confirmation, notice, answered = smtp_server.messages
    assert [header(m["Subject"]).split(" ")[0] for m in smtp_server.messages] == [
        "Olemme", "Palautteesi", "Vastaus"]
    assert confirmation["In-Reply-To"] is None and confirmation["References"] is None
    assert notice["In-Reply-To"] == confirmation["Message-ID"]
    assert notice["References"] == confirmation["Message-ID"]
    assert answered["In-Reply-To"] == notice["Message-ID"]
    assert answered["References"].split() == [confirmation["Message-ID"], notice["Message-ID"]]
    # Each keeps its own Message-ID, the one the outbox gave it.
    rows = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [r.message_id for r in rows] == [m["Message-ID"] for m in smtp_server.messages]
    assert len(set(r.message_id for r in rows)) == 3


def test_a_corrected_address_starts_a_thread_of_its_own(
        client, login, bank, agent, smtp_server, run_worker, clock):
    case = customer_writes(client, bank)
    staff_take_it_and_give_a_notice(client, login, case)
    correct_the_email(client, case, "aino@elsewhere.example")
    assert post_action(client, case, "interim_notice", estimate="2026-12-07",
                       text="Päätös viimeistään 7.12.2026.").status_code == 302
    answer(client, case, body="Vastaus uuteen osoitteeseen.")
    assert run_worker() == {"sent": 4}

    confirmation, notice = sent_to(smtp_server, "aino.virtanen@example.fi")
    first, second = sent_to(smtp_server, "aino@elsewhere.example")
    assert notice["In-Reply-To"] == confirmation["Message-ID"]
    # The new address never saw the earlier mail: its thread starts with the first answer.
    assert first["In-Reply-To"] is None and first["References"] is None
    assert second["In-Reply-To"] == first["Message-ID"] == second["References"]


def test_mail_that_never_reached_the_customer_is_not_answered(
        data, make_unit, make_case, clock, smtp_server, run_worker):
    """A cancelled email never left and a failed one never arrived: the next one answers the
    last one the customer has, or will have."""
    case = make_case(make_unit(code="cs"))

    def send(kind, status=None):
        message = outbox.enqueue(kind=kind, recipient=case.contact_email, subject="Hei",
                                 body_text="Hei", case_id=case.id, now=clock())
        if status is not None:
            message.status = status
        db.session.commit()
        return message

    confirmation = send(OutboxKind.CONFIRMATION)
    send(OutboxKind.INTERIM_NOTICE, OutboxStatus.CANCELLED)
    send(OutboxKind.ANSWER, OutboxStatus.FAILED)
    # Staff mail about the case is no part of the customer's thread.
    outbox.enqueue(kind=OutboxKind.NOTIFICATION, recipient=case.contact_email, subject="Hei",
                   body_text="Hei", case_id=case.id, now=clock())
    queued = send(OutboxKind.ANSWER)
    last = send(OutboxKind.WRITTEN_CONFIRMATION)
    assert (queued.in_reply_to, queued.references) == ((confirmation.message_id,) * 2)
    assert last.in_reply_to == queued.message_id  # still queued: it goes out first
    assert last.references == f"{confirmation.message_id} {queued.message_id}"
    assert run_worker() == {"sent": 4}
    assert smtp_server.messages[-1]["References"].split() == last.references.split()


def test_a_long_thread_names_its_first_email_and_the_last_ten(data, make_unit, make_case, clock,
                                                             smtp_server, run_worker):
    case = make_case(make_unit(code="cs"))
    sent = []
    for n in range(15):
        sent.append(outbox.enqueue(kind=OutboxKind.INTERIM_NOTICE, recipient=case.contact_email,
                                   subject=f"Notice {n}", body_text="Hei", case_id=case.id,
                                   now=clock()))
    db.session.commit()
    ids = [m.message_id for m in sent]
    last = sent[-1]
    assert last.in_reply_to == ids[-2]
    assert last.references.split() == [ids[0], *ids[-11:-1]]
    assert run_worker() == {"sent": 15}
    received = smtp_server.messages[-1]
    # Folded on the wire, the same ids once unfolded.
    assert received["References"].split() == last.references.split()
    assert len(received["References"]) < 1000


# Replies and bounces go to the mailbox, when it is read


def test_customer_mail_answers_to_the_mailbox_and_bounces_there_too(
        client, login, bank, agent, mailbox_read, smtp_server, run_worker):
    case = customer_writes(client, bank)
    staff_take_it_and_give_a_notice(client, login, case)
    answer(client, case, body="Jonotilanne on korjattu.")
    assert run_worker() == {"sent": 3}
    for mail in smtp_server.messages:
        assert mail.envelope_sender == MAILBOX
        assert header(mail["From"]).endswith(f"<{SENDER}>")  # who it is from does not change
        assert header(mail["Reply-To"]) == header(mail["From"]).replace(SENDER, MAILBOX)
    assert header(smtp_server.messages[0]["Reply-To"]) == f"Asiakaspalvelu <{MAILBOX}>"


def test_without_a_mailbox_customer_mail_keeps_the_plain_sender(
        client, login, bank, agent, smtp_server, run_worker):
    case = customer_writes(client, bank)
    staff_take_it_and_give_a_notice(client, login, case)
    assert run_worker() == {"sent": 2}
    for mail in smtp_server.messages:
        assert mail.envelope_sender == SENDER
        assert mail["Reply-To"] is None


@pytest.mark.parametrize("read", [True, False])
def test_staff_notifications_and_morning_summaries_are_unchanged(
        request, data, make_unit, make_user, make_case, clock, smtp_server, run_worker, read):
    if read:
        request.getfixturevalue("mailbox_read")
    unit = make_unit(code="cs")
    agent = make_user("cs.agent", units=[unit])
    agent.email, agent.notify_by_email = "cs.agent@bank.example", True
    case = make_case(unit)
    notify([agent], case, ASSIGNED, clock(), actor="Cs Lead")
    outbox.enqueue(kind=OutboxKind.MORNING_DIGEST, recipient=agent.email, subject="Summary",
                   body_text="Overdue", now=clock())
    db.session.commit()
    assert run_worker() == {"sent": 2}
    for mail in smtp_server.messages:
        assert mail.envelope_sender == SENDER
        assert mail["Reply-To"] is None and mail["In-Reply-To"] is None
        assert mail["Auto-Submitted"] == "auto-generated"
    notification, _summary = smtp_server.messages
    assert YOU_MAY_REPLY["en"][0] not in bodies(notification)[0]


# RFC 3834: automatic mail says so


def test_a_web_form_confirmation_is_auto_generated_and_an_answer_is_not_automatic(
        client, login, bank, agent, smtp_server, run_worker):
    case = customer_writes(client, bank)
    login("cs.agent")
    post_action(client, case, "take")
    answer(client, case, body="Vastaus.")
    assert run_worker() == {"sent": 2}
    confirmation, answered = smtp_server.messages
    assert confirmation["Auto-Submitted"] == "auto-generated"
    assert answered["Auto-Submitted"] is None  # written by staff


def test_the_confirmation_of_emailed_feedback_is_an_auto_reply_to_the_customers_mail(
        data, make_unit, make_case, clock, mailbox_read, smtp_server, run_worker):
    case = make_case(make_unit(code="cs"))
    message = queue_confirmation_of_emailed_feedback(case, clock(),
                                                     replying_to="<CAF=x+1@mail.example.fi>")
    db.session.commit()
    assert message.auto_replied and message.kind == OutboxKind.CONFIRMATION
    assert run_worker() == {"sent": 1}
    [mail] = smtp_server.messages
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["In-Reply-To"] == mail["References"] == "<CAF=x+1@mail.example.fi>"
    assert header(mail["Subject"]) == f"Olemme vastaanottaneet palautteesi {case.reference}"
    assert YOU_MAY_REPLY["fi"][0] in bodies(mail)[0]


@pytest.mark.parametrize("message_id", [
    "", "CAF123@mail.example.fi", "<a b@example.fi>", "<a@example.fi>\r\nBcc: x@example.com",
    "<<a@example.fi>>", "<" + "a" * 200 + "@example.fi>",
])
def test_a_customers_message_id_goes_into_a_header_only_when_it_is_plain(
        data, make_unit, make_case, clock, mailbox_read, message_id):
    case = make_case(make_unit(code="cs"))
    message = queue_confirmation_of_emailed_feedback(case, clock(), replying_to=message_id)
    assert (message.in_reply_to, message.references) == ("", "")


def test_a_case_without_an_email_address_gets_no_confirmation(data, make_unit, make_case, clock):
    case = make_case(make_unit(code="cs"))
    case.contact_email = ""
    assert queue_confirmation_of_emailed_feedback(case, clock()) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


# "You may reply", in the customer's language, only when replies are read


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_the_emails_tell_the_customer_they_may_reply_and_what_not_to_send(
        client, login, bank, agent, mailbox_read, smtp_server, run_worker, clock, language):
    case = customer_writes(client, bank, language=language)
    staff_take_it_and_give_a_notice(client, login, case, language)
    answer(client, case, body=TEXTS[language])
    assert run_worker() == {"sent": 3}
    for mail in smtp_server.messages:
        for body in bodies(mail):
            body = body.replace("&#39;", "'")
            for words in YOU_MAY_REPLY[language]:
                assert words in body
            assert NOT_READ[language] not in body
    text, html = bodies(smtp_server.messages[-1])
    assert f'<html lang="{language}">' in html


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_while_the_mailbox_is_not_read_the_emails_say_replies_are_not_read(
        client, login, bank, agent, smtp_server, run_worker, language):
    case = customer_writes(client, bank, language=language)
    staff_take_it_and_give_a_notice(client, login, case, language)
    assert run_worker() == {"sent": 2}
    for mail in smtp_server.messages:
        for body in bodies(mail):
            assert YOU_MAY_REPLY[language][0] not in body
            assert NOT_READ[language] in body


def test_the_web_forms_confirmation_keeps_its_texts_without_the_mailbox(data, make_unit,
                                                                       make_case, clock):
    case = make_case(make_unit(code="cs"))
    message = queue_confirmation(case, clock())
    for body in (message.body_text, message.body_html):
        assert "Älä koskaan lähetä tilinumeroita" in body  # the security paragraph
        assert "Tämä viesti on lähetetty automaattisesti" in body
    assert not message.auto_replied
