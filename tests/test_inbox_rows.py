"""Inbox rows cached by everything they show (inboxes.rows): a row rendered once serves every
list it appears in, and each change a row shows moves the case's version, so no cached row
outlives it."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from feedback_intranet.extensions import cache as inbox_cache
from feedback_intranet.extensions import db
from feedback_intranet.models import (
    CallbackTask,
    Case,
    ClosingDay,
    Customer,
    Language,
    Letter,
    Segment,
)

from .test_case_pages import post_action
from .test_waiting_replies import NOW, answer, case, org, page_of  # noqa: F401  (fixtures)


def row_of(client, case):  # noqa: F811
    """The case's inbox row as the agent sees it now (open or answered), the rest of the inbox
    left to the cache."""
    for filter_name in ("open", "answered"):
        page = client.get(f"/inbox/cs?filter={filter_name}").get_data(as_text=True)
        found = re.search(rf'<tr[^>]*>(?:(?!</tr>).)*/cases/{case.reference}".*?</tr>', page,
                          re.S)
        if found:
            return found.group(0)
    raise AssertionError(f"{case.reference} is in no list")


def status_of(row):
    return re.search(r'<td class="col-status[^"]*" title="([^"]*)"', row).group(1)


def version_of(case):  # noqa: F811
    db.session.expire_all()
    return db.session.get(Case, case.id).version


def test_a_row_rendered_for_one_list_serves_the_others(case, login, client):  # noqa: F811
    login("cs.agent")
    first = client.get("/inbox/cs")
    with client.application.app_context():
        # Only the rows stay: the lists and counts are computed as after a change.
        inbox_cache.cache.delete_many(*[key for key in inbox_cache.cache._entries
                                        if not key.startswith("row:")])
    again = client.get("/inbox/cs?sort=received")
    assert row_of(client, case) in again.get_data(as_text=True)
    # No answer waiting was read: the row was not rendered again.
    assert int(again.headers["X-Query-Count"]) == int(first.headers["X-Query-Count"]) - 1


def record_call(client, task, outcome, summary=""):
    calls = client.get("/callbacks/cs").get_data(as_text=True)
    token = re.search(rf'name="task{task.id}-token" type="hidden" value="([^"]+)"', calls)
    return client.post(f"/callbacks/task/{task.id}", data={
        f"task{task.id}-outcome": outcome, f"task{task.id}-summary": summary,
        f"task{task.id}-token": token.group(1)})


def latest(model):
    db.session.expire_all()
    return db.session.scalars(sa.select(model).order_by(model.id.desc())).first()


def post_letter(client):
    letter = latest(Letter)
    client.post(f"/letters/{letter.id}/posted", data={f"letter{letter.id}-token": "t" * 16})


def move_callback(client, case):  # noqa: F811
    windows = re.findall(r'<option value="([^"]+)"', page_of(client, case).split(
        'name="move_callback-window"')[1].split("</select>")[0])
    post_action(client, case, "move_callback", window=windows[-1])


def deliver_email(request, refused=False):
    request.getfixturevalue("smtp_server").reject = refused
    request.getfixturevalue("run_worker")()


# Each change a row shows, after the answer it follows: (channel, change, status shown after).
CHANGES = {
    "letter posted": ("letter", lambda client, of, request: post_letter(client), "answered"),
    "letter cancelled": ("letter", lambda client, of, request: post_action(
        client, of, "cancel_reply", answer_id=str(latest(Letter).answer_id)), "held by Cs Agent"),
    "callback moved": ("phone", lambda client, of, request: move_callback(client, of),
                       "callback planned"),
    "call not reached": ("phone", lambda client, of, request: record_call(
        client, latest(CallbackTask), "no_answer"), "callback planned"),
    "call reached": ("phone", lambda client, of, request: record_call(
        client, latest(CallbackTask), "reached", "Soitettu, asia selvitetty."), "answered"),
    "email sent": ("email", lambda client, of, request: deliver_email(request), "answered"),
    "email refused": ("email", lambda client, of, request: deliver_email(request, True),
                      "not delivered"),
}


@pytest.mark.parametrize("change", CHANGES)
def test_each_change_a_row_shows_moves_the_version_and_reaches_the_cached_row(
        case, login, client, request, change):  # noqa: F811
    channel, make_change, status_after = CHANGES[change]
    login("cs.agent")

    def step(act):
        row, version = row_of(client, case), version_of(case)  # cached before the change
        act()
        assert version_of(case) > version
        fresh = row_of(client, case)
        assert fresh != row
        return status_of(fresh)

    waiting = step(lambda: answer(client, case, channel=channel))
    assert waiting == {"email": "answer on its way by email",
                       "letter": "letter waiting to be posted"}.get(channel, waiting)
    assert channel != "phone" or waiting.startswith("callback planned")
    after = step(lambda: make_change(client, case, request))
    assert after.startswith(status_after) and after != waiting


def test_names_and_badges_shown_on_a_cached_row_follow_their_own_tables(
        case, org, login, client):  # noqa: F811
    login("cs.agent")
    row = row_of(client, case)
    customer = Customer(customer_number="C0000001", name="Registered Name",
                        street_address="Katu 1", postal_code="00100", city="Helsinki",
                        language=Language.FI, segment=Segment.PRIVATE, home_office_id=org[0].id)
    db.session.add(customer)
    db.session.flush()
    db.session.get(Case, case.id).customer_id = customer.id
    db.session.get(Case, case.id).contact_name = ""
    db.session.commit()
    row = row_of(client, case)
    assert "Registered Name" in row
    # Renamed in the register, not on the case: the case's version stays, the row follows.
    version = version_of(case)
    db.session.get(Customer, customer.id).name = "Renamed Customer"
    db.session.commit()
    assert version_of(case) == version
    assert "Renamed Customer" in row_of(client, case)
    # A closing day moves the due date's badge without touching the case.
    badge = re.search(r'<td class="col-due" title="([^"]*)"', row_of(client, case)).group(1)
    db.session.add(ClosingDay(day=NOW.date() + timedelta(days=1), reason="Strike"))
    db.session.commit()
    assert re.search(r'<td class="col-due" title="([^"]*)"', row_of(client, case)).group(1) != badge


@pytest.mark.parametrize(("user", "selectable"), [("cs.lead", True), ("cs.agent", False)])
def test_the_header_has_a_column_for_every_cell_of_the_rows(case, login, client, user,  # noqa: F811
                                                            selectable):
    login(user)
    page = client.get("/inbox/cs").get_data(as_text=True)
    header = re.search(r"<thead>.*?</thead>", page, re.S).group(0)
    assert len(re.findall(r"<th[ >]", header)) == len(re.findall(r"<td[ >]", row_of(client, case)))
    assert ('class="col-select"' in header) is selectable
