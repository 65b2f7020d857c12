"""A callback still to make moves to another window in service hours, on the case page: the call
list, the inbox row and the timeline say the new time; what is not offered is refused."""

import re
from datetime import datetime

import pytest
import sqlalchemy as sa

from feedback_intranet.extensions import db
from feedback_intranet.models import CallbackTask, CaseEvent

from .conftest import said
from .test_case_pages import hidden_fields, post_action
from .test_one_answer_per_case import ROUNDS, _together, desk  # noqa: F401  (a fixture)
from .test_waiting_replies import NOW, answer, case, org, page_of  # noqa: F401  (fixtures)


def task_of(of):
    db.session.expire_all()
    return db.session.scalars(sa.select(CallbackTask).where(CallbackTask.case_id == of.id)).one()


def offered_windows(page):
    select = page.split('name="move_callback-window"')[1].split("</select>")[0]
    return re.findall(r'<option value="([^"]+)"', select)


def test_a_waiting_callback_moves_to_an_offered_window(case, login, client):  # noqa: F811
    login("cs.agent")
    assert "Move the callback" not in page_of(client, case)  # nothing waits yet
    answer(client, case, channel="phone")
    page = page_of(client, case)
    windows = offered_windows(page)
    planned = task_of(case).window_start
    assert len(windows) == 12 and datetime.fromisoformat(windows[0]) == planned
    response = post_action(client, case, "move_callback", page=page, window=windows[5])
    assert response.status_code == 302
    task = task_of(case)
    assert task.window_start == datetime.fromisoformat(windows[5])
    assert task.status == "open" and task.version == 2
    moved = db.session.scalars(sa.select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.kind == "callback")).one()
    assert said(moved).startswith("Cs Agent moved the callback from 25.11.2026 10–11 to ")
    page = page_of(client, case)
    assert "The callback for" in page or "callback planned" in page
    # The inbox says the new time too.
    inbox = client.get("/inbox/cs?filter=mine").get_data(as_text=True)
    local = datetime.fromisoformat(windows[5])
    assert f"callback planned {local.day}.{local.month}.{local.year} {local:%H:%M}" in inbox


@pytest.mark.parametrize("window", ["2026-11-25T03:00:00+02:00", "tomorrow", ""])
def test_a_time_not_offered_is_refused_at_the_field_and_nothing_moves(
        case, login, client, window):  # noqa: F811
    login("cs.agent")
    answer(client, case, channel="phone")
    before = task_of(case).window_start
    response = post_action(client, case, "move_callback", window=window)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="move_callback-window-error"' in page and "Choose one of the times offered." in page
    assert task_of(case).window_start == before


def test_moving_to_the_time_already_planned_is_refused(case, login, client):  # noqa: F811
    login("cs.agent")
    answer(client, case, channel="phone")
    planned = task_of(case).window_start.astimezone(NOW.tzinfo).isoformat()
    page = post_action(client, case, "move_callback", window=planned).get_data(as_text=True)
    assert "already planned for that time" in page


def test_only_those_who_may_answer_move_it(case, login, client, make_user, org, make_unit):  # noqa: F811
    turku = make_unit(code="turku", name="Turku")
    make_user("cs.other", units=[org[0]])
    make_user("turku.staff", units=[turku])
    login("cs.agent")
    answer(client, case, channel="phone")
    windows = offered_windows(page_of(client, case))
    data = {"move_callback-version": str(task_of(case).case.version),
            "move_callback-token": "t" * 16, "move_callback-window": windows[1]}
    client.post("/logout")
    login("cs.other")  # a colleague who does not hold the case
    assert "Move the callback" not in page_of(client, case)
    assert client.post(f"/cases/{case.reference}/move_callback", data=data).status_code == 403
    client.post("/logout")
    login("turku.staff")
    assert client.post(f"/cases/{case.reference}/move_callback", data=data).status_code == 404
    assert task_of(case).window_start == datetime.fromisoformat(windows[0])


@pytest.mark.committed
def test_moving_while_a_colleague_records_the_call_does_one_of_them(desk, make_case):  # noqa: F811
    """On PostgreSQL, in two threads: the move and the call recorded on the old picture never
    both go through; whichever comes second is told, and nothing is left half done."""
    cs, _turku, (first, second) = desk
    for round_number in range(ROUNDS):
        this = make_case(cs, received_at=NOW)
        this.contact_phone = "+358401234567"
        db.session.commit()
        page = first.get(f"/cases/{this.reference}").get_data(as_text=True)
        data = hidden_fields(page, "answer") | {
            "answer-channel": "phone", "answer-body": "Vastaus.", "answer-final": "y",
            "answer-reason": "Asiakas pyysi.", "answer-send": "Send"}
        assert first.post(f"/cases/{this.reference}/answer", data=data).status_code == 302
        page = first.get(f"/cases/{this.reference}").get_data(as_text=True)
        move = hidden_fields(page, "move_callback") | {
            "move_callback-window": offered_windows(page)[3]}
        task = task_of(this)
        record = {f"task{task.id}-outcome": "reached", f"task{task.id}-summary": "Soitettu.",
                  f"task{task.id}-token": f"t{round_number:015d}"}
        results = _together([(first, f"/cases/{this.reference}/move_callback", move),
                             (second, f"/callbacks/task/{task.id}", record)])
        assert all(r is not None and r[0] in (200, 302) for r in results), (round_number, results)
        task = task_of(this)
        events = db.session.scalars(sa.select(CaseEvent.facts).where(
            CaseEvent.case_id == this.id, CaseEvent.kind == "callback")
            .order_by(CaseEvent.at, CaseEvent.id)).all()
        moved = any("moved_from" in facts for facts in events)
        reached = task.status == "done"
        # One of them, or both one after the other: the call recorded on the moved task.
        assert moved or reached, (round_number, events, task.status)
        if moved and reached:
            assert "moved_from" in events[0] and task.attempts == 1, round_number
