"""Retention: closed cases past the period lose their personal data, keep their figures."""

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from feedback_intranet.extensions import db
from feedback_intranet.models import (
    Answer,
    AuditEvent,
    CallbackStatus,
    CallbackTask,
    Case,
    CaseEvent,
    CaseStatus,
    EventKind,
    InboundMail,
    InboundOutcome,
    Letter,
    OutboxMessage,
    Purpose,
    ReplyChannel,
    Resolution,
    Segment,
    UsedFormToken,
)

from .conftest import HELSINKI

NOW = datetime(2026, 11, 25, 10, tzinfo=HELSINKI)


@pytest.fixture
def aged(units, make_user, make_case, clock, data):
    clock.set(NOW)
    staff = make_user("branch.staff", units=[units["helsinki"]])

    def closed(months_ago, name):
        received = NOW - timedelta(days=round(months_ago * 30.44) + 3)
        case = make_case(units["helsinki"], received_at=received, contact_name=name,
                         message=f"Viesti {name} kortista.")
        case = db.session.merge(case)
        case.contact_phone, case.contact_email = "+358401234567", "aino@example.fi"
        case.contact_country = "SE"  # an address abroad: the country goes with the address
        case.email_refused = "aino@example.fi"  # her mail server once refused it
        case.status, case.resolution = CaseStatus.CLOSED, Resolution.ANSWERED
        case.closed_at = NOW - timedelta(days=round(months_ago * 30.44))
        case.first_answer_banking_days = 2
        answer = Answer(case_id=case.id, purpose=Purpose.ANSWER, channel=ReplyChannel.EMAIL,
                        subject="Vastaus", text=f"Hei {name}", created_at=received,
                        created_by_id=staff.id)
        db.session.add(answer)
        db.session.flush()
        db.session.add_all([
            CaseEvent(case_id=case.id, kind=EventKind.NOTE, text=f"Soitin {name}", at=received),
            CaseEvent(case_id=case.id, kind=EventKind.CALLBACK, at=received, facts={
                "attempt": 1, "phone": "+358401234567", "outcome": "busy"}),
            CaseEvent(case_id=case.id, kind=EventKind.CUSTOMER_MATCHED, at=received, facts={
                "customer": name, "number": "C1"}),
            OutboxMessage(kind="answer", recipient="aino@example.fi", sender="f@bank.example",
                          subject="Vastaus", body_text=f"Hei {name}", message_id=f"<{name}@x>",
                          next_attempt_at=received, created_at=received, case_id=case.id,
                          answer_id=answer.id),
            CallbackTask(case_id=case.id, answer_id=answer.id, unit_id=units["helsinki"].id,
                         phone="+358401234567", segment=Segment.PRIVATE, window_start=received,
                         window_end=received, due_at=received, status=CallbackStatus.DONE,
                         created_at=received),
            Letter(case_id=case.id, answer_id=answer.id, unit_id=units["helsinki"].id,
                   pdf=b"%PDF-1.4 Aino", created_at=received),
            InboundMail(mailbox="feedback@mail/INBOX", uidvalidity=1, uid=case.id,
                        sha256=name, processed_at=received, outcome=InboundOutcome.THREADED,
                        case_id=case.id, sender="aino@example.fi", sender_name=name,
                        subject=f"Re: {name}", excerpt=f"Kiitos, {name}"),
        ])
        db.session.commit()
        return case

    old = closed(37, "Vanhatalo")
    recent = closed(35, "Uusitalo")
    still_open = make_case(units["helsinki"], received_at=NOW - timedelta(days=1200),
                           contact_name="Avoinna")
    db.session.add(UsedFormToken(token="t" * 64, used_at=NOW - timedelta(days=2)))
    db.session.commit()
    return old, recent, still_open


def run(app, *args):
    result = app.test_cli_runner().invoke(args=["retention", "apply", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_dry_run_counts_and_changes_nothing(app, aged):
    output = run(app, "--dry-run")
    assert output == ("Would anonymise the cases closed more than 36 months ago: 1 case (1 answer, "
                      "4 timeline events, 1 email, 1 call, 1 letter, 1 inbound mail record).\n")
    db.session.expire_all()
    assert db.session.get(Case, aged[0].id).contact_name == "Vanhatalo"
    (event,) = db.session.scalars(sa.select(AuditEvent))
    assert event.facts == {"dry_run": True, "months": 36, "cases": 1, "rows": {
        "answers": 1, "events": 4, "emails": 1, "calls": 1, "letters": 1, "inbound_mail": 1}}


def test_old_closed_cases_lose_personal_data_and_keep_their_figures(app, client, login, aged):
    old, recent, still_open = aged
    assert run(app) == (
        "Anonymised the cases closed more than 36 months ago: 1 case (1 answer, 4 timeline events, "
        "1 email, 1 call, 1 letter, 1 inbound mail record, 1 used form token).\n"
        # Then the mailbox's purge: the recent case's record (35 months old) forgets its sender.
        "Inbound mail: no mailbox configured; the sender blanked in 1 record older than 30 "
        "days.\n")
    db.session.expire_all()
    case = db.session.get(Case, old.id)
    assert (case.contact_name, case.contact_phone, case.contact_email, case.email_refused,
            case.customer_id, case.contact_country) == ("", "", "", "", None, "FI")
    assert "Vanhatalo" not in case.message and case.anonymised_at is not None
    assert (case.topic_id, case.current_unit_id, case.first_answer_banking_days,
            case.resolution, case.received_at) == (
        old.topic_id, old.current_unit_id, 2, Resolution.ANSWERED, old.received_at)
    everything = " ".join(str(value) for model, column in (
        (Answer, Answer.text), (CaseEvent, CaseEvent.text), (CaseEvent, CaseEvent.facts),
        (OutboxMessage, OutboxMessage.body_text),
        (OutboxMessage, OutboxMessage.recipient), (CallbackTask, CallbackTask.phone),
        (InboundMail, InboundMail.sender), (InboundMail, InboundMail.subject))
        for value in db.session.scalars(sa.select(column).where(model.case_id == old.id)))
    assert "Vanhatalo" not in everything and "358" not in everything and "@" not in everything
    assert db.session.scalar(sa.select(Letter.pdf).where(Letter.case_id == old.id)) == b""
    assert db.session.get(Case, recent.id).contact_name == "Uusitalo"
    assert db.session.get(Case, still_open.id).contact_name == "Avoinna"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UsedFormToken)) == 0
    (event,) = db.session.scalars(sa.select(AuditEvent))
    assert event.kind == "retention" and event.facts == {"dry_run": False, "months": 36, "cases": 1,
                                                         "rows": {"answers": 1, "events": 4,
                                                                  "emails": 1, "calls": 1,
                                                                  "letters": 1, "inbound_mail": 1,
                                                                  "form_tokens": 1}}


def test_the_search_index_forgets_them(app, client, login, aged, make_user, units):
    make_user("reader", units=[units["helsinki"]])
    run(app)
    login("reader")
    assert aged[0].reference not in client.get("/cases/search?q=Vanhatalo").get_data(as_text=True)
    assert aged[1].reference in client.get("/cases/search?q=Uusitalo").get_data(as_text=True)


def test_running_again_finds_nothing_new(app, aged):
    run(app)
    assert " 36 months ago: 0 cases.\n" in run(app)
    assert " 34 months ago: 1 case (1 answer, 4 timeline events, 1 email, 1 call, 1 letter, 1 " \
        "inbound mail record).\n" in run(app, "--months", "34")


def test_an_anonymised_case_takes_no_new_personal_data(app, client, login, aged, make_user, units):
    make_user("holder", units=[units["helsinki"]])
    run(app)
    login("holder")
    page = client.get(f"/cases/{aged[0].reference}").get_data(as_text=True)
    assert f'action="/cases/{aged[0].reference}/' not in page
    response = client.post(f"/cases/{aged[0].reference}/note",
                           data={"text": "Aino soitti", "version": "99", "token": "t" * 32})
    assert response.status_code in (400, 403, 404)
    db.session.expire_all()
    assert not db.session.scalars(sa.select(CaseEvent).where(CaseEvent.text == "Aino soitti")).all()
    assert db.session.get(Case, aged[0].id).suggested_unit_id is None


def test_a_case_reopened_after_it_was_picked_keeps_its_data(app, aged):
    """The batch is picked, then someone reopens one of its cases before the blanking."""
    from feedback_intranet import retention

    old = db.session.merge(aged[0])
    old.status, old.closed_at = CaseStatus.ASSIGNED, None
    db.session.commit()
    outcome = retention.Outcome()
    retention._anonymise([old.id], NOW, outcome)
    db.session.commit()
    db.session.expire_all()
    assert outcome.cases == 0
    assert db.session.get(Case, old.id).contact_name == "Vanhatalo"
    assert db.session.scalar(sa.select(Answer.text).where(Answer.case_id == old.id)) == "Hei Vanhatalo"
