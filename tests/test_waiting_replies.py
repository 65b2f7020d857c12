"""What waits for the customer: an answer moves the case's version, and a case is not closed by
hand while an answer or notice is still on its way; what waits can be cancelled first."""

from datetime import datetime, timedelta
from io import BytesIO

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from feedback_intranet.extensions import db
from feedback_intranet.models import (
    Answer,
    CallbackTask,
    CaseStatus,
    Letter,
    OutboxMessage,
    UnitKind,
)

from .conftest import HELSINKI
from .test_case_pages import post_action

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=HELSINKI)  # Wednesday


@pytest.fixture
def org(make_unit, make_user):
    cs = make_unit(code="cs", name="Customer service", kind=UnitKind.CUSTOMER_SERVICE)
    return cs, {
        "cs.agent": make_user("cs.agent", units=[cs]),
        "cs.lead": make_user("cs.lead", lead_of=[cs]),
    }


@pytest.fixture
def case(org, make_case, clock):
    clock.set(NOW)
    case = make_case(org[0], received_at=NOW, status=CaseStatus.ASSIGNED,
                     assignee=org[1]["cs.agent"], contact_name="Åsa Lindqvist")
    case.contact_street, case.contact_postal_code, case.contact_city = "Slottsgatan 3", "20100", "Åbo"
    case.contact_phone = "+358401234567"
    db.session.commit()
    return case


def page_of(client, case):
    return client.get(f"/cases/{case.reference}").get_data(as_text=True)


def answer(client, case, page=None, **fields):
    fields = {"channel": "email", "final": "y", "send": "Send", "body": "Vastaus.", **fields}
    if fields["channel"] != "email":
        fields.setdefault("reason", "Asiakas pyysi.")
    return post_action(client, case, "answer", page=page, **fields)


def cancel(client, case, answer_row, page=None):
    return post_action(client, case, "cancel_reply", page=page, answer_id=str(answer_row.id))


def only_answer():
    db.session.expire_all()
    return db.session.scalars(sa.select(Answer)).one()


def test_a_case_cannot_be_closed_from_a_page_loaded_before_an_answer_was_sent(case, login, client):
    login("cs.agent")
    before = page_of(client, case)
    answer(client, case)
    refused = post_action(client, case, "close", page=before, resolution="other")
    assert "This case changed since you opened it" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert case.status == CaseStatus.ASSIGNED and case.closed_at is None


def test_an_interim_notice_moves_the_case_version_too(case, login, client):
    login("cs.agent")
    before = page_of(client, case)
    response = post_action(client, case, "interim_notice", estimate="2026-12-04",
                           text="Vastaamme viimeistään 4.12.2026.")
    assert response.status_code == 302
    refused = answer(client, case, page=before).get_data(as_text=True)
    assert "This case changed since you opened it" in refused
    assert len(db.session.scalars(sa.select(Answer)).all()) == 1


@pytest.mark.parametrize("close", [
    {"action": "close", "resolution": "withdrawn"},
    {"action": "close", "resolution": "other"},
    {"action": "duplicate", "original": "FB-2026-999999"},
])
def test_a_case_is_not_closed_while_an_email_waits_in_the_outbox(case, login, client, close,
                                                                  make_case, org):
    login("cs.agent")
    answer(client, case)
    fields = dict(close)
    action = fields.pop("action")
    if action == "duplicate":
        fields["original"] = make_case(org[0]).reference
    page = post_action(client, case, action, **fields).get_data(as_text=True)
    assert "Not closed: Answer by email, still in the outbox." in page
    assert "Cancel before it goes out" in page  # offered right there
    db.session.expire_all()
    assert case.status == CaseStatus.ASSIGNED and case.duplicate_of_id is None


def test_an_email_cancelled_before_the_worker_took_it_never_goes_out(
        case, login, client, smtp_server, run_worker):
    login("cs.agent")
    answer(client, case)
    assert cancel(client, case, only_answer()).status_code == 302
    assert run_worker() == {}
    assert smtp_server.messages == []
    db.session.expire_all()
    message = db.session.scalars(sa.select(OutboxMessage)).one()
    assert (message.status, only_answer().status) == ("cancelled", "cancelled")
    page = page_of(client, case)
    assert "Cs Agent cancelled the email answer before it went out." in page
    post_action(client, case, "close", resolution="other")
    db.session.expire_all()
    assert case.status == CaseStatus.CLOSED


def test_an_email_handed_to_the_mail_server_cannot_be_cancelled(case, login, client, data):
    login("cs.agent")
    answer(client, case)
    page = page_of(client, case)
    # The worker claims it between the page load and the click.
    db.session.execute(sa.update(OutboxMessage).values(status="sending"))
    db.session.commit()
    response = cancel(client, case, only_answer(), page=page).get_data(as_text=True)
    assert "The email has already been handed to the mail server" in response
    assert only_answer().status == "pending"
    assert "reply_cancelled" not in [e.kind for e in case.events]


def test_a_cancelled_letter_leaves_the_print_queue_and_cannot_be_posted(case, login, client):
    login("cs.agent")
    answer(client, case, channel="letter")
    letter = db.session.scalars(sa.select(Letter)).one()
    queue = client.get("/letters/cs").get_data(as_text=True)
    assert f"/letters/{letter.id}/posted" in queue
    refused = post_action(client, case, "close", resolution="withdrawn").get_data(as_text=True)
    assert "Answer by letter, not yet marked posted" in refused
    cancel(client, case, only_answer())
    assert f"/letters/{letter.id}/posted" not in client.get("/letters/cs").get_data(as_text=True)
    response = client.post(f"/letters/{letter.id}/posted", data={
        f"letter{letter.id}-token": "t" * 16})
    assert "was cancelled" in client.get(response.location).get_data(as_text=True)
    db.session.expire_all()
    assert letter.posted_at is None
    waiting = client.get("/letters/cs/waiting.pdf")
    assert waiting.status_code == 302  # "No letters are waiting."


def test_a_posted_letter_cannot_be_cancelled(case, login, client):
    login("cs.agent")
    answer(client, case, channel="letter")
    page = page_of(client, case)
    letter = db.session.scalars(sa.select(Letter)).one()
    client.post(f"/letters/{letter.id}/posted", data={f"letter{letter.id}-token": "t" * 16})
    response = cancel(client, case, only_answer(), page=page).get_data(as_text=True)
    # Posting moved the case (it is answered now): the stale page is refused, nothing changes.
    assert "changed since you opened it" in response or "already been marked posted" in response
    assert only_answer().status == "delivered"


def test_waiting_letters_download_even_when_some_were_never_rendered_and_closed_cases_stay_out(
        case, login, client, make_case, org, data):
    """Letters loaded in bulk carry no PDF; a closed case's letter (from before this rule, and
    blanked by retention) no longer sits in the queue and never breaks the download."""
    login("cs.agent")
    answer(client, case, channel="letter")
    db.session.execute(sa.update(Letter).values(pdf=b""))
    closed = make_case(org[0], status=CaseStatus.CLOSED)
    old = Answer(case_id=closed.id, channel="letter", text="", created_at=NOW,
                 created_by_id=org[1]["cs.agent"].id)
    db.session.add(old)
    db.session.flush()
    db.session.add(Letter(case_id=closed.id, answer_id=old.id, unit_id=org[0].id, pdf=b"",
                          created_at=NOW))
    db.session.commit()
    # The upgrade's migration cancels such letters; until then the queue leaves them out.
    db.session.execute(sa.update(Answer).where(Answer.id == old.id).values(status="cancelled"))
    db.session.commit()
    assert closed.reference not in client.get("/letters/cs").get_data(as_text=True)
    response = client.get("/letters/cs/waiting.pdf")
    assert response.status_code == 200
    assert len(PdfReader(BytesIO(response.data)).pages) == 1


def test_a_call_still_to_make_is_cancelled_on_the_timeline(case, login, client):
    login("cs.agent")
    answer(client, case, channel="phone")
    cancel(client, case, only_answer())
    db.session.expire_all()
    task = db.session.scalars(sa.select(CallbackTask)).one()
    assert task.status == "cancelled"
    assert "Cs Agent cancelled the callback before the call was made." in page_of(client, case)


def test_only_those_who_may_answer_cancel(case, login, client, make_user, org):
    make_user("cs.other", units=[org[0]])
    login("cs.agent")
    answer(client, case)
    client.post("/logout")
    login("cs.other")  # a colleague who does not hold the case
    assert "Cancel before it goes out" not in page_of(client, case)
    response = client.post(f"/cases/{case.reference}/cancel_reply", data={
        "cancel_reply-version": str(case.version + 1), "cancel_reply-token": "t" * 16,
        "cancel_reply-answer_id": str(only_answer().id)})
    assert response.status_code == 403
    assert only_answer().status == "pending"


def test_an_answer_moves_the_inbox_so_the_leads_selection_carries_the_new_version(
        case, login, client):
    login("cs.lead")
    assert f'value="{case.id}:{case.version}"' in client.get("/inbox/cs").get_data(as_text=True)
    client.post("/logout")
    login("cs.agent")
    answer(client, case)
    client.post("/logout")
    login("cs.lead")
    db.session.expire_all()
    assert f'value="{case.id}:{case.version}"' in client.get("/inbox/cs").get_data(as_text=True)


def test_a_cancelled_email_is_shown_as_such_in_the_outbox(case, login, client, make_user, org,
                                                          clock):
    login("cs.agent")
    answer(client, case)
    cancel(client, case, only_answer())
    make_user("admin", is_admin=True)
    client.post("/logout")
    login("admin")
    clock.advance(timedelta(minutes=1))
    assert "Cancelled" in client.get("/admin/outbox").get_data(as_text=True)


def test_an_answered_case_whose_interim_notice_still_waits_can_cancel_it_and_close(
        case, login, client, make_user, org, run_worker):
    """The notice went by phone; the answer went by email and reached the customer."""
    login("cs.agent")
    post_action(client, case, "interim_notice", estimate="2026-12-04",
                text="Vastaamme viimeistään 4.12.2026.")
    db.session.execute(sa.update(Answer).values(channel="phone"))
    db.session.execute(sa.delete(OutboxMessage))
    db.session.add(CallbackTask(case_id=case.id, answer_id=only_answer().id, unit_id=org[0].id,
                                phone=case.contact_phone, segment="private", window_start=NOW,
                                window_end=NOW + timedelta(hours=1), due_at=NOW + timedelta(days=2),
                                created_at=NOW))
    db.session.commit()
    answer(client, case)
    run_worker()
    db.session.expire_all()
    assert case.status == CaseStatus.ANSWERED
    page = post_action(client, case, "close", resolution="answered").get_data(as_text=True)
    assert "Not closed: Interim notice by phone, the call not yet made." in page
    notice = db.session.scalars(sa.select(Answer).where(Answer.purpose == "interim_notice")).one()
    cancel(client, case, notice)
    post_action(client, case, "close", resolution="answered")
    db.session.expire_all()
    assert case.status == CaseStatus.CLOSED


def test_cancelling_an_interim_notice_brings_back_the_date_it_replaced(case, login, client):
    login("cs.agent")
    post_action(client, case, "interim_notice", estimate="2026-12-04",
                text="Vastaamme viimeistään 4.12.2026.")
    post_action(client, case, "interim_notice", estimate="2026-12-09",
                text="Vastaamme viimeistään 9.12.2026.")
    db.session.expire_all()
    first, second = db.session.scalars(sa.select(Answer).order_by(Answer.id)).all()
    assert str(case.effective_due_date) == "2026-12-09"
    cancel(client, case, second)
    db.session.expire_all()
    assert str(case.effective_due_date) == "2026-12-04"
    assert "The estimated decision date 4.12.2026 holds again." in page_of(client, case)
    cancel(client, case, first)
    db.session.expire_all()
    assert case.estimated_decision_date is None and case.effective_due_date == case.due_date


@pytest.mark.parametrize("fate", ["sent", "failed"])
def test_an_answer_whose_worker_died_before_telling_the_case_is_settled_by_the_next_round(
        case, login, client, run_worker, fate):
    login("cs.agent")
    answer(client, case)
    # The worker recorded the email's fate and died before the case heard of it.
    db.session.execute(sa.update(OutboxMessage).values(status=fate, sent_at=NOW,
                                                       last_error="550 5.1.1 User unknown"))
    db.session.commit()
    assert only_answer().status == "pending"
    run_worker()
    settled = only_answer()
    assert settled.status == ("delivered" if fate == "sent" else "failed")
    db.session.expire_all()
    assert case.status == (CaseStatus.ANSWERED if fate == "sent" else CaseStatus.ASSIGNED)
    run_worker()  # settled once: no second delivery event
    kinds = [e.kind for e in case.events]
    assert kinds.count("delivered") + kinds.count("delivery_failed") == 1
