"""Two people act on the same case at the same moment, on PostgreSQL, through real requests in
two threads: of an answer and anything else done on the same picture of the case, exactly one
goes through and the other is told, never two answers and never a 500."""

import threading
from datetime import datetime

import pytest
import sqlalchemy as sa

from feedback_intranet.extensions import db
from feedback_intranet.models import (
    Answer,
    CallbackTask,
    CaseEvent,
    CaseStatus,
    Letter,
    OutboxMessage,
    UnitKind,
)

from .conftest import HELSINKI, PASSWORD
from .test_case_pages import hidden_fields

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=HELSINKI)  # Wednesday
ROUNDS = 50
# Requests in two threads, each with its own connection, race on committed rows.
pytestmark = pytest.mark.committed
REFUSALS = ("This case changed since you opened it", "is already on its way")
ACTIONS = {
    "answer": {"channel": "email", "final": "y", "send": "Send", "body": "Vastaus."},
    "close": {"resolution": "other"},
    "forward": {"note": "Teille."},
    "interim_notice": {"estimate": "2026-12-04", "text": "Vastaamme viimeistään 4.12.2026."},
}
# What each action leaves on the timeline after "received": whoever writes to the customer of a
# case nobody holds becomes its holder first.
EVENTS = {"answer": ["assigned", "replied"], "close": ["closed"], "forward": ["forwarded"],
          "interim_notice": ["assigned", "interim_notice"]}


@pytest.fixture
def desk(app, make_unit, make_user, clock, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("two sessions acting at once need PostgreSQL's row locks")
    clock.set(NOW)
    cs = make_unit(code="cs", name="Customer service", kind=UnitKind.CUSTOMER_SERVICE)
    turku = make_unit(code="turku", name="Turku")
    clients = []
    for name in ("cs.first", "cs.second"):
        make_user(name, units=[cs])
        client = app.test_client()
        assert client.post("/login", data={"username": name, "password": PASSWORD}).status_code == 302
        clients.append(client)
    return cs, turku, clients


def act_together(clients, case, actions, fields):
    """Both load the case page, then post their action at the same moment."""
    pages = [c.get(f"/cases/{case.reference}").get_data(as_text=True) for c in clients]
    barrier, results = threading.Barrier(2), [None, None]

    def post(i):
        data = hidden_fields(pages[i], actions[i])
        data.update({f"{actions[i]}-{k}": v for k, v in fields[i].items()})
        barrier.wait()
        response = clients[i].post(f"/cases/{case.reference}/{actions[i]}", data=data)
        results[i] = (response.status_code, response.get_data(as_text=True))

    threads = [threading.Thread(target=post, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.parametrize("pair", [("answer", "answer"), ("close", "answer"),
                                  ("answer", "forward"), ("interim_notice", "answer")])
def test_of_two_simultaneous_actions_one_goes_through_and_the_other_is_told(desk, make_case, pair):
    cs, turku, clients = desk
    fields = [dict(ACTIONS[action]) for action in pair]
    for i, action in enumerate(pair):
        if action == "forward":
            fields[i]["unit"] = str(turku.id)
    for round_number in range(ROUNDS):
        case = make_case(cs, received_at=NOW)
        results = act_together(clients, case, pair, fields)
        assert all(r is not None and r[0] in (200, 302) for r in results), (round_number, results)
        done = [i for i, r in enumerate(results) if r[0] == 302]
        assert len(done) == 1, (round_number, [r[0] for r in results])
        [refused] = [results[i][1] for i in (0, 1) if i not in done]
        assert any(reason in refused for reason in REFUSALS), round_number

        winner = pair[done[0]]
        db.session.expire_all()
        answers = db.session.scalars(sa.select(Answer).where(Answer.case_id == case.id)).all()
        emails = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.case_id == case.id,
                                           OutboxMessage.answer_id.is_not(None))).all()
        events = db.session.scalars(
            sa.select(CaseEvent.kind).where(CaseEvent.case_id == case.id)
            .order_by(CaseEvent.at, CaseEvent.id)).all()
        sent = winner in ("answer", "interim_notice")
        assert (len(answers), len(emails)) == ((1, 1) if sent else (0, 0)), round_number
        assert events == ["received", *EVENTS[winner]], round_number
        assert (case.status == CaseStatus.CLOSED) == (winner == "close")
        assert case.current_unit_id == (turku.id if winner == "forward" else cs.id)


def _together(posts):
    """Run the prepared posts at the same moment; their (status, body)."""
    barrier, results = threading.Barrier(len(posts)), [None] * len(posts)

    def run(i):
        client, url, data = posts[i]
        barrier.wait()
        response = client.post(url, data=data)
        results[i] = (response.status_code, response.get_data(as_text=True))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(posts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.parametrize("channel", ["phone", "letter"])
def test_cancelling_while_a_colleague_records_the_call_or_posts_the_letter_never_deadlocks(
        desk, make_case, channel):
    cs, _turku, (first, second) = desk
    for round_number in range(ROUNDS):
        case = make_case(cs, received_at=NOW)
        case.contact_phone, case.contact_street = "+358401234567", "Slottsgatan 3"
        case.contact_postal_code, case.contact_city = "20100", "Åbo"
        db.session.commit()
        page = first.get(f"/cases/{case.reference}").get_data(as_text=True)
        data = hidden_fields(page, "answer")
        data.update({"answer-channel": channel, "answer-body": "Vastaus.", "answer-final": "y",
                     "answer-reason": "Asiakas pyysi.", "answer-send": "Send"})
        assert first.post(f"/cases/{case.reference}/answer", data=data).status_code == 302
        db.session.expire_all()
        waiting = db.session.scalars(sa.select(Answer).where(Answer.case_id == case.id)).one()
        page = first.get(f"/cases/{case.reference}").get_data(as_text=True)
        cancel = hidden_fields(page, "cancel_reply") | {"cancel_reply-answer_id": str(waiting.id)}
        if channel == "phone":
            task = db.session.scalars(sa.select(CallbackTask).where(
                CallbackTask.case_id == case.id)).one()
            url, record = f"/callbacks/task/{task.id}", {
                f"task{task.id}-outcome": "reached", f"task{task.id}-summary": "Soitettu.",
                f"task{task.id}-token": f"t{round_number:015d}"}
        else:
            letter = db.session.scalars(sa.select(Letter).where(Letter.case_id == case.id)).one()
            url, record = f"/letters/{letter.id}/posted", {
                f"letter{letter.id}-token": f"t{round_number:015d}"}
        results = _together([(first, f"/cases/{case.reference}/cancel_reply", cancel),
                             (second, url, record)])
        assert all(r is not None and r[0] in (200, 302) for r in results), (round_number, results)
        db.session.expire_all()
        events = db.session.scalars(sa.select(CaseEvent.kind).where(
            CaseEvent.case_id == case.id).order_by(CaseEvent.at, CaseEvent.id)).all()
        # Exactly one of them happened: cancelled, or reached the customer.
        assert waiting.status in ("cancelled", "delivered"), round_number
        assert ("reply_cancelled" in events) == (waiting.status == "cancelled"), round_number


def test_a_form_sent_twice_at_the_same_moment_acts_once_and_neither_is_refused(app, desk,
                                                                               make_case):
    """A double click that reaches two workers at once: the second post's one-time token waits
    for the first's commit, then finds it used. One note, and both are told it is done."""
    cs, _turku, clients = desk
    again = app.test_client()
    assert again.post("/login", data={"username": "cs.first", "password": PASSWORD}) \
        .status_code == 302
    for round_number in range(ROUNDS):
        case = make_case(cs, received_at=NOW)
        page = clients[0].get(f"/cases/{case.reference}").get_data(as_text=True)
        data = {**hidden_fields(page, "note"), "note-text": f"Soitin asiakkaalle {round_number}."}
        url = f"/cases/{case.reference}/note"
        results = _together([(clients[0], url, data), (again, url, data)])
        assert [status for status, _body in results] == [302, 302], round_number
        notes = db.session.scalars(sa.select(CaseEvent.text).where(
            CaseEvent.case_id == case.id, CaseEvent.kind == "note")).all()
        assert notes == [f"Soitin asiakkaalle {round_number}."], round_number
        told = [c.get(f"/cases/{case.reference}").get_data(as_text=True) for c in (clients[0], again)]
        assert sum("That was already done." in page for page in told) == 1, round_number
