""""Send, close when delivered": the answer goes out by its channel as usual, and the case closes
as answered, by itself, when the answer reaches the customer (the email handed to the mail
server, the letter posted, the customer reached by phone); a failure keeps it open, or opens it
again when learned after the close."""

import re
from datetime import datetime, timedelta
from functools import partial

import pytest
import sqlalchemy as sa

from feedback_intranet.cases.common import claim_version
from feedback_intranet.extensions import db
from feedback_intranet.models import (
    Answer,
    CallbackTask,
    CaseEvent,
    CaseStatus,
    Letter,
    OutboxMessage,
    ReplyChannel,
    UnitKind,
)
from feedback_intranet.replies.answers import mark_failed

from .conftest import HELSINKI, PASSWORD, said, together
from .test_case_pages import hidden_fields, post_action

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=HELSINKI)  # Wednesday
SEND_AND_CLOSE = {"send_and_close": "Send, close when delivered"}


@pytest.fixture
def org(make_unit, make_user):
    cs = make_unit(code="cs", name="Customer service", kind=UnitKind.CUSTOMER_SERVICE)
    people = {name: make_user(name, units=[cs])
              for name in ("cs.agent", "cs.other")}
    return cs, people


@pytest.fixture
def case(org, make_case, clock):
    clock.set(NOW)
    cs, people = org
    case = make_case(cs, received_at=NOW, status=CaseStatus.ASSIGNED, assignee=people["cs.agent"],
                     contact_name="Åsa Lindqvist")
    case.contact_street, case.contact_postal_code, case.contact_city = "Slottsgatan 3", "20100", "Åbo"
    case.contact_phone = "+358401234567"
    db.session.commit()
    return case


def answer(client, case, page=None, how=SEND_AND_CLOSE, **fields):
    fields.setdefault("channel", "email")
    fields.setdefault("final", "y")
    fields.setdefault("body", "Kortti on nyt avattu.")
    if fields["channel"] != "email":
        fields.setdefault("reason", "Asiakas pyysi.")
    return post_action(client, case, "answer", page=page, **fields, **how)


def flashed(client, response):
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    return re.search(r'class="flash flash-success"[^>]*>([^<]*)<', page).group(1)


def kinds(case):
    db.session.expire_all()
    return [e.kind.value for e in case.events]


def closing(case):
    [event] = [e for e in case.events if e.kind.value == "closed"]
    return (event.actor.full_name if event.actor else None), said(event)


def record_call(client, task, outcome, summary=""):
    page = client.get("/callbacks/cs").get_data(as_text=True)
    token = re.search(rf'name="task{task.id}-token" type="hidden" value="([^"]+)"', page).group(1)
    return client.post(f"/callbacks/task/{task.id}", data={
        f"task{task.id}-outcome": outcome, f"task{task.id}-summary": summary,
        f"task{task.id}-token": token})


def post_letter(client, letter):
    page = client.get("/letters/cs").get_data(as_text=True)
    return client.post(f"/letters/{letter.id}/posted",
                       data=hidden_fields(page, f"letter{letter.id}"))


def waiting_line(client, case):
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    table = page[page.index('id="answers-title"'):]
    return re.sub(r"\s+", " ", table[:table.index("</tbody>")])


# By each channel


def test_by_email_the_case_closes_once_the_worker_hands_the_answer_to_the_mail_server(
        client, login, case, smtp_server, run_worker, clock):
    login("cs.agent")
    response = answer(client, case)
    assert response.status_code == 302
    assert flashed(client, response) == (
        f"The answer to {case.reference} is on its way by email; the case closes when the mail "
        "server has taken it.")
    assert "on its way by email; closes the case when delivered" in waiting_line(client, case)
    db.session.expire_all()
    assert case.status == CaseStatus.ASSIGNED and case.closed_at is None
    assert said(case.events[-1]).endswith("The case closes when the answer is delivered.")

    clock.set(NOW + timedelta(hours=1))
    assert run_worker() == {"sent": 1}
    assert len(smtp_server.messages) == 1
    assert kinds(case) == ["received", "replied", "delivered", "closed"]
    assert (case.status, case.resolution) == (CaseStatus.CLOSED, "answered")
    assert case.closed_at == case.first_answered_at == NOW + timedelta(hours=1)
    assert closing(case) == (None, "Closed when the answer was delivered, as Cs Agent "
                                   "asked when sending it.")
    assert case.delivery_problem == ""
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert "Closed (Answered)" in page and "closes the case when delivered" not in page
    # A worker's next round finds nothing more to do: one closing event, ever.
    assert run_worker() == {}
    assert kinds(case).count("closed") == 1


def test_a_letter_closes_the_case_when_marked_posted(client, login, case, clock):
    login("cs.agent")
    response = answer(client, case, channel="letter")
    assert "waits in the print queue; the case closes when the letter is marked posted" in \
        flashed(client, response)
    assert "waiting in the print queue to be posted; closes the case when delivered" in \
        waiting_line(client, case)
    letter = db.session.scalar(sa.select(Letter))
    client.post("/logout")
    login("cs.other")  # a colleague at the print queue posts it
    clock.set(NOW + timedelta(days=1))
    assert post_letter(client, letter).status_code == 302
    assert kinds(case)[-3:] == ["replied", "delivered", "closed"]
    assert (case.status, case.resolution) == (CaseStatus.CLOSED, "answered")
    assert case.closed_at == NOW + timedelta(days=1)
    assert closing(case) == ("Cs Other", "Closed when the answer was delivered, as Cs Agent "
                                         "asked when sending it.")
    # The case closed, the holder stays on record.
    assert case.assignee.username == "cs.agent"


def test_a_call_that_reaches_the_customer_closes_the_case(client, login, case):
    login("cs.agent")
    response = answer(client, case, channel="phone")
    assert "The case closes when the customer is reached." in flashed(client, response)
    task = db.session.scalar(sa.select(CallbackTask))
    record_call(client, task, "no_answer")
    assert case.status == CaseStatus.ASSIGNED and "closed" not in kinds(case)
    record_call(client, task, "reached", "Kerroin, että kortti on avattu.")
    assert kinds(case)[-3:] == ["callback", "delivered", "closed"]
    assert (case.status, case.resolution) == (CaseStatus.CLOSED, "answered")
    assert closing(case)[0] == "Cs Agent"


def test_the_plain_send_still_leaves_the_case_answered_not_closed(client, login, case,
                                                                    run_worker):
    login("cs.agent")
    answer(client, case, how={"send": "Send"})
    assert "closes the case" not in waiting_line(client, case)
    assert run_worker() == {"sent": 1}
    assert kinds(case)[-2:] == ["replied", "delivered"]
    assert case.status == CaseStatus.ANSWERED and case.closed_at is None
    assert db.session.scalar(sa.select(Answer.close_when_delivered)) is False


def test_whoever_answers_an_unassigned_case_holds_it_and_it_closes_on_delivery(
        client, login, case, run_worker):
    case.assignee, case.status = None, CaseStatus.NEW
    db.session.commit()
    login("cs.other")
    answer(client, case)
    assert run_worker() == {"sent": 1}
    assert kinds(case)[-4:] == ["assigned", "replied", "delivered", "closed"]
    assert case.assignee.username == "cs.other" and case.status == CaseStatus.CLOSED


# Failures


def test_an_email_refused_for_good_keeps_the_case_open_and_flagged(client, login, case,
                                                                    smtp_server, run_worker):
    smtp_server.reject = True
    login("cs.agent")
    answer(client, case)
    assert run_worker() == {"failed": 1}
    assert kinds(case)[-2:] == ["replied", "delivery_failed"]
    assert case.status == CaseStatus.ASSIGNED and case.closed_at is None
    assert case.delivery_problem.startswith("Email could not be delivered: 550")


@pytest.mark.parametrize("outcomes", [["wrong_number"], ["no_answer", "busy", "no_answer"]])
def test_a_call_that_never_reaches_the_customer_keeps_the_case_open_and_flagged(
        client, login, case, outcomes):
    login("cs.agent")
    answer(client, case, channel="phone")
    task = db.session.scalar(sa.select(CallbackTask))
    for outcome in outcomes:
        record_call(client, task, outcome)
    assert "closed" not in kinds(case) and kinds(case)[-1] == "delivery_failed"
    assert case.status == CaseStatus.ASSIGNED and case.delivery_problem


def bounce_later(case, reason="550 5.1.1 Mailbox does not exist (bounce)", hours=3):
    """A failure learned after the delivery (a bounce), recorded as the worker records news of
    an email: under the case's row lock, in one transaction."""
    answer_row = db.session.scalar(sa.select(Answer).where(Answer.case_id == case.id))
    claim_version(case)
    mark_failed(answer_row, case, reason, NOW + timedelta(hours=hours))
    db.session.commit()


def test_a_failure_learned_after_the_close_reopens_the_case_to_its_holder(
        client, login, case, run_worker, org, clock):
    org[1]["cs.agent"].notify_by_email = True
    db.session.commit()
    login("cs.agent")
    answer(client, case)
    clock.set(NOW + timedelta(hours=1))
    run_worker()
    db.session.expire_all()
    assert case.status == CaseStatus.CLOSED and case.first_answered_at is not None

    bounce_later(case)
    assert kinds(case)[-3:] == ["closed", "delivery_failed", "reopened"]
    assert (case.status, case.assignee.username) == (CaseStatus.ASSIGNED, "cs.agent")
    assert case.resolution is None and case.closed_at is None
    assert case.first_answered_at is None and case.first_answer_banking_days is None
    assert case.delivery_problem == ("Email could not be delivered: 550 5.1.1 Mailbox does not "
                                     "exist (bounce)")
    reopened = case.events[-1]
    assert reopened.actor is None
    assert said(reopened) == "Reopened: the answer the case closed on did not reach the customer."
    assert said(reopened, "fi") == ("Avattiin uudelleen: vastaus, jonka perusteella asia "
                                    "suljettiin, ei mennyt perille.")
    # Flagged, in the holder's own list, and the holder is told.
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert "Not delivered." in page and 'id="answer-title"' in page
    assert case.reference in client.get("/inbox/cs?filter=mine").get_data(as_text=True)
    [notice] = db.session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.kind == "notification")).all()
    assert notice.recipient == "cs.agent@bank.example"
    assert "is open again: the answer did not reach the customer" in notice.body_text


def test_a_late_failure_reopens_to_the_inbox_when_the_holder_has_left(client, login, case,
                                                                     run_worker, org):
    login("cs.agent")
    answer(client, case)
    run_worker()
    org[1]["cs.agent"].active = False
    db.session.commit()
    bounce_later(case)
    assert kinds(case)[-1] == "reopened"
    assert case.status == CaseStatus.NEW and case.assignee is None


def test_a_late_failure_leaves_a_case_closed_by_hand_closed_and_flags_it(client, login, case,
                                                                       run_worker):
    """Only the close the answer itself caused is undone."""
    login("cs.agent")
    answer(client, case, how={"send": "Send"})
    run_worker()
    post_action(client, case, "close", resolution="answered")
    db.session.expire_all()
    assert case.status == CaseStatus.CLOSED
    bounce_later(case)
    assert kinds(case)[-1] == "delivery_failed" and case.status == CaseStatus.CLOSED
    assert case.delivery_problem


# Complaints


def test_for_a_complaint_send_and_close_is_always_the_final_answer(client, login, case):
    case.case_type = "complaint"
    db.session.commit()
    login("cs.agent")
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert 'name="answer-final"' in page and "Send, close when delivered" in page
    # The final box left unticked: with "Send, close when delivered" it is final all the same.
    answer(client, case, final="", channel="letter")
    [sent] = db.session.scalars(sa.select(Answer)).all()
    assert sent.close_when_delivered and "FINE, www.fine.fi" in sent.text
    assert "www.kuluttajariita.fi" in sent.text


def test_a_complaint_answered_with_the_plain_send_may_still_be_interim(client, login, case):
    case.case_type = "complaint"
    db.session.commit()
    login("cs.agent")
    answer(client, case, final="", how={"send": "Send"})
    [sent] = db.session.scalars(sa.select(Answer)).all()
    assert "FINE" not in sent.text and not sent.close_when_delivered


# The rules of closing


def test_something_else_still_waiting_keeps_the_case_open_and_the_timeline_says_why(
        client, login, case, run_worker):
    case.reply_channel = ReplyChannel.LETTER
    db.session.commit()
    login("cs.agent")
    post_action(client, case, "interim_notice", estimate="2026-12-04",
                text="Vastaamme viimeistään 4.12.2026.")
    assert db.session.scalar(sa.select(Letter)) is not None  # the notice waits to be posted
    answer(client, case, reason="Asiakas pyysi sähköpostia.")
    assert run_worker() == {"sent": 1}
    assert "closed" not in kinds(case) and case.status == CaseStatus.ANSWERED
    delivered = case.events[-1]
    assert said(delivered) == (
        "The answer was handed to the mail server. The case was not closed: something addressed "
        "to the customer still waits.")


def test_closing_by_hand_while_the_answer_waits_is_still_refused(client, login, case):
    login("cs.agent")
    answer(client, case)
    page = post_action(client, case, "close", resolution="other").get_data(as_text=True)
    assert "Not closed: Answer by email, still in the outbox." in page
    assert "closed" not in kinds(case)


def test_someone_who_may_not_answer_is_refused_and_nothing_is_written(client, login, case,
                                                                     make_user, make_unit):
    turku = make_unit(code="turku", name="Turku")
    make_user("turku.staff", units=[turku])
    # A colleague of the holder may not answer (403); another unit does not see the case (404).
    for who, status in (("cs.other", 403), ("turku.staff", 404)):
        login(who)
        response = client.post(f"/cases/{case.reference}/answer", data={
            "answer-token": who.ljust(16, "t"), "answer-version": str(case.version),
            "answer-channel": "email", "answer-body": "x",
            "answer-send_and_close": "Send, close when delivered"})
        assert response.status_code == status, who
        client.post("/logout")
    assert db.session.scalars(sa.select(Answer)).all() == []
    assert db.session.scalars(sa.select(OutboxMessage)).all() == []
    assert kinds(case) == ["received"]


def test_a_page_loaded_before_a_colleagues_change_is_refused_and_nothing_is_written(
        client, login, case):
    login("cs.agent")
    stale = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    post_action(client, case, "banking_matter", value="")  # moves the case's version
    response = answer(client, case, page=stale)
    assert response.status_code == 200
    assert "This case changed since you opened it" in response.get_data(as_text=True)
    assert db.session.scalars(sa.select(Answer)).all() == []
    assert db.session.scalars(sa.select(OutboxMessage)).all() == []
    assert kinds(case)[-1] == "banking_matter"


# Acting at the same moment (PostgreSQL): a colleague closes by hand while the delivery closes.

ROUNDS = 50


@pytest.fixture
def two_people(app, make_unit, make_user, clock, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("two sessions acting at once need PostgreSQL's row locks")
    clock.set(NOW)
    cs = make_unit(code="cs", name="Customer service", kind=UnitKind.CUSTOMER_SERVICE)
    clients = []
    for name in ("cs.first", "cs.second"):
        make_user(name, units=[cs])
        client = app.test_client()
        assert client.post("/login", data={"username": name, "password": PASSWORD}).status_code \
            == 302
        clients.append(client)
    return cs, clients


@pytest.mark.committed
@pytest.mark.parametrize("channel", ["email", "letter"])
def test_a_hand_close_and_a_close_on_delivery_at_the_same_moment_close_once(
        two_people, make_case, mail_app, channel):
    """The colleague's close and the delivery both take the case's row first: the close either
    finds the answer still waiting or the case changed, never a second closing event."""
    from feedback_intranet.outbox import deliver_due

    cs, (first, second) = two_people

    def deliver():
        with mail_app.app_context():
            try:
                return deliver_due()
            finally:
                db.session.remove()

    for round_number in range(ROUNDS):
        case = make_case(cs, received_at=NOW)
        case.contact_street, case.contact_postal_code, case.contact_city = "Katu 1", "20100", "Åbo"
        db.session.commit()
        fields = {"channel": channel, "body": "Vastaus.", "final": "y"}
        if channel == "letter":
            fields["reason"] = "Asiakas pyysi."
        assert answer(first, case, **fields).status_code == 302
        close_page = second.get(f"/cases/{case.reference}").get_data(as_text=True)
        close = hidden_fields(close_page, "close") | {"close-resolution": "other"}
        if channel == "letter":
            letter = db.session.scalar(sa.select(Letter).where(Letter.case_id == case.id))
            posted = hidden_fields(first.get("/letters/cs").get_data(as_text=True),
                                   f"letter{letter.id}")
            delivery = partial(first.post, f"/letters/{letter.id}/posted", data=posted)
        else:
            delivery = deliver
        closed_by_hand, delivered = together(
            partial(second.post, f"/cases/{case.reference}/close", data=close), delivery)
        assert closed_by_hand is not None and delivered is not None, round_number
        assert closed_by_hand.status_code == 200, (round_number, closed_by_hand.status_code)
        refusal = closed_by_hand.get_data(as_text=True)
        assert ("This case changed since you opened it" in refusal
                or "Not closed: Answer by" in refusal), round_number
        db.session.expire_all()
        events = db.session.scalars(sa.select(CaseEvent.kind).where(
            CaseEvent.case_id == case.id).order_by(CaseEvent.at, CaseEvent.id)).all()
        assert events.count("closed") == 1, (round_number, events)
        assert events[-2:] == ["delivered", "closed"], (round_number, events)
        assert (case.status, case.resolution) == (CaseStatus.CLOSED, "answered"), round_number
