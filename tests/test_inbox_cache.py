"""The inbox cache: counts and rows filed under each unit's stamp, never stale, never leaking."""

import logging
import os
import re
import sys
import uuid
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from feedback_intranet import create_app
from feedback_intranet.cases import operations
from feedback_intranet.extensions import db
from feedback_intranet.inboxes import cache as inbox_cache
from feedback_intranet.inboxes import stamps
from feedback_intranet.models import CaseStatus, ClosingDay, InboxStamp, Language, User

from .conftest import HELSINKI, PASSWORD, statements_sent

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=HELSINKI)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def people(make_user, units):
    return {
        "branch.staff": make_user("branch.staff", units=[units["helsinki"]]),
        "branch.lead": make_user("branch.lead", lead_of=[units["helsinki"]]),
        "cs.agent": make_user("cs.agent", units=[units["cs"]]),
    }


def session_for(app, username):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert client.post("/login", data={"username": username, "password": PASSWORD}
                       ).status_code == 302
    return client


def view(client, unit_code="helsinki-centre", **query):
    response = client.get(f"/inbox/{unit_code}", query_string=query)
    assert response.status_code == 200
    return response.get_data(as_text=True), int(response.headers["X-Query-Count"])


def without_csrf(response):
    return re.sub(r'name="csrf_token" value="[^"]*"', "", response.get_data(as_text=True))


def case_table(page):
    """The rows and pager: the part of the page the cache keeps."""
    return page[page.index('<table class="cases inbox-rows">'):page.index('<nav class="pager"')]


def count_of(page, filter_name):
    return int(re.search(rf'filter={filter_name}"[^>]*>[^<]*<span class="count">(\d+)</span>',
                         page).group(1))


def current_stamps(units):
    db.session.expire_all()
    return stamps.stamps([unit.id for unit in units.values()])


def test_a_cached_inbox_is_served_without_counting_and_a_change_shows_at_once(
    app, client, login, units, people, make_case
):
    taken = make_case(units["helsinki"], contact_name="Aino Asiakas")
    make_case(units["helsinki"], contact_name="Britt Holmberg")
    login("branch.staff")
    first, computed = view(client)
    again, cached = view(client)
    assert case_table(again) == case_table(first)
    assert count_of(again, "unassigned") == 2
    # The user and the stamps: no counting, no case rows, no calendar.
    assert cached == 2 < computed

    operations.take(people["branch.staff"], taken, now=NOW)
    db.session.commit()
    after, recomputed = view(client)
    assert recomputed == computed
    assert count_of(after, "unassigned") == 1 and count_of(after, "mine") == 1
    assert "Branch Staff" in case_table(after)


def test_stamps_move_with_exactly_the_units_a_change_touches(app, units, people, make_case, topic):
    case = make_case(units["cs"])
    before = current_stamps(units)
    operations.forward(people["cs.agent"], case, units["helsinki"].id, "For the branch.", now=NOW)
    db.session.commit()
    after = current_stamps(units)
    moved = {code for code, unit in units.items() if after[unit.id] != before[unit.id]}
    assert moved == {"cs", "helsinki"}

    # A login writes the user's row, which no inbox shows: nothing moves.
    people["cs.agent"].failed_logins = 3
    db.session.commit()
    assert current_stamps(units) == after

    # A renamed topic shows in every inbox.
    topic.name = "Cards and payments"
    db.session.commit()
    renamed = current_stamps(units)
    assert all(renamed[u] != after[u] for u in renamed)

    # A closing day moves every badge.
    db.session.add(ClosingDay(day=NOW.date() + timedelta(days=1), reason="Strike"))
    db.session.commit()
    closed = current_stamps(units)
    assert all(closed[u] != renamed[u] for u in closed)


def test_a_change_rolled_back_leaves_the_stamps(app, units, people, make_case):
    case = make_case(units["helsinki"])
    before = current_stamps(units)
    case.status = CaseStatus.ASSIGNED
    db.session.flush()
    db.session.rollback()
    assert current_stamps(units) == before


def test_renames_reach_cached_rows(app, client, login, units, people, make_case, topic):
    make_case(units["helsinki"], status=CaseStatus.ASSIGNED, assignee=people["branch.lead"])
    login("branch.staff")
    view(client)
    topic.name = "Cards and payments"
    db.session.get(User, people["branch.lead"].id).full_name = "Leena Lead"
    db.session.commit()
    table = case_table(view(client)[0])
    assert "Cards and payments" in table and "Leena Lead" in table


def test_a_new_day_is_counted_afresh(app, client, login, units, people, make_case, clock):
    make_case(units["helsinki"], received_at=NOW)
    login("branch.staff")
    assert count_of(view(client)[0], "overdue") == 0
    clock.advance(timedelta(days=7))
    page = view(client)[0]
    assert count_of(page, "overdue") == 1
    assert "overdue" in case_table(page)


def test_the_leads_selectable_rows_never_reach_a_member(app, units, people, make_case):
    make_case(units["helsinki"])
    lead, staff = session_for(app, "branch.lead"), session_for(app, "branch.staff")
    assert 'name="case_ids"' in view(lead)[0]
    assert 'name="case_ids"' not in view(staff)[0]
    assert 'name="case_ids"' in view(lead)[0]


def test_each_language_has_its_own_rows(app, units, people, make_case):
    make_case(units["helsinki"])
    staff = session_for(app, "branch.staff")
    assert 'title="new"' in case_table(view(staff)[0])
    db.session.get(User, people["branch.staff"].id).language = Language.FI
    db.session.commit()
    assert 'title="uusi"' in case_table(view(staff)[0])


def test_the_workload_reads_its_figures_from_the_cache(app, units, people, make_case):
    make_case(units["helsinki"], status=CaseStatus.ASSIGNED, assignee=people["branch.staff"])
    lead = session_for(app, "branch.lead")
    first = lead.get("/workload/helsinki-centre")
    again = lead.get("/workload/helsinki-centre")
    # The same page but for the logout form's CSRF token, which is signed with the second.
    assert without_csrf(again) == without_csrf(first)
    assert int(again.headers["X-Query-Count"]) < int(first.headers["X-Query-Count"])


def test_a_leads_cached_inbox_and_workload_read_the_members_by_name(app, units, people,
                                                                   make_case):
    """The assign forms and the workload list members by name: the only user read whole is the
    signed-in one (a team lead's every view read each member's whole row)."""
    make_case(units["helsinki"], status=CaseStatus.ASSIGNED, assignee=people["branch.staff"])
    lead = session_for(app, "branch.lead")
    for path in ("/inbox/helsinki-centre", "/workload/helsinki-centre"):
        lead.get(path)  # the figures cached
        with statements_sent(app) as sent:
            page = lead.get(path).get_data(as_text=True)
        assert "Branch Staff" in page and "Branch Lead" in page
        whole_users = [statement for statement in sent if "staff_user.password_hash" in statement]
        assert len(whole_users) == 1, whole_users  # the signed-in lead's


def test_workers_share_one_redis_cache(app, database_url, clock, units, people, make_case):
    """Two apps stand for two gunicorn workers (or hosts) with one Redis."""
    make_case(units["helsinki"])
    config = {"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": database_url, "CLOCK": clock,
              "INBOX_CACHE_URI": REDIS_URL}
    one, two = create_app(config), create_app(config)
    page, computed = view(session_for(one, "branch.staff"))
    shared, cached = view(session_for(two, "branch.staff"))
    assert case_table(shared) == case_table(page)
    assert cached == 2 < computed
    for worker in (one, two):
        with worker.app_context():
            db.engine.dispose()


def test_an_unreachable_cache_only_slows_the_inbox(app, database_url, clock, units, people,
                                                   make_case, caplog):
    case = make_case(units["helsinki"])
    broken = create_app({"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": database_url,
                         "CLOCK": clock, "INBOX_CACHE_URI": "redis://127.0.0.1:9/0"})
    caplog.set_level(logging.WARNING)
    page, _ = view(session_for(broken, "branch.staff"))
    assert case.reference in case_table(page)
    assert "inbox cache unreachable" in caplog.text
    with broken.app_context():
        db.engine.dispose()


def test_an_unknown_cache_is_refused_at_start(database_url):
    with pytest.raises(ValueError, match="INBOX_CACHE_URI"):
        create_app({"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": database_url,
                    "INBOX_CACHE_URI": f"memcached://{uuid.uuid4().hex}"})


def test_a_new_units_first_case_shows_in_its_cached_empty_inbox(app, make_unit, make_user,
                                                                 make_case):
    unit = make_unit(code="oulu", name="Oulu")
    make_user("oulu.staff", units=[unit])
    staff = session_for(app, "oulu.staff")
    assert "No cases here." in view(staff, "oulu")[0]
    case = make_case(unit)
    assert case.reference in case_table(view(staff, "oulu")[0])


def test_a_renamed_or_recoded_unit_shows_in_its_cached_rows(app, client, login, units, people,
                                                            make_case):
    make_case(units["helsinki"])
    login("branch.staff")
    view(client)
    unit = db.session.merge(units["helsinki"])
    unit.name, unit.code = "Helsinki Kamppi", "kamppi"
    db.session.commit()
    page = view(client, "kamppi")[0]
    assert "in Helsinki Kamppi" in case_table(page)
    assert "/inbox/kamppi?" in page[page.index('<nav class="pager"'):]
    assert "helsinki-centre" not in page


def test_a_note_leaves_the_inbox_cached(app, units, people, make_case):
    """Notes are the most frequent change and show nowhere in the inbox."""
    case = make_case(units["helsinki"])
    before = current_stamps(units)
    operations.add_note(people["branch.staff"], case, "Soitin asiakkaalle.", now=NOW)
    db.session.commit()
    assert current_stamps(units) == before


@pytest.mark.committed  # writes through connections of its own (db.engine.begin)
def test_a_restored_database_never_reuses_a_stamp(app, units, make_case):
    """Stamps are drawn afresh, so a backup restored (or a copy) under a shared cache moves on
    to stamps the cache has never seen, not to the ones the original went through."""
    make_case(units["helsinki"])
    unit_id = units["helsinki"].id
    backup = current_stamps(units)[unit_id]
    with db.engine.begin() as connection:
        stamps.touch(connection, [unit_id])
    original_next = current_stamps(units)[unit_id]
    with db.engine.begin() as connection:
        connection.execute(sa.update(InboxStamp).values(stamp=backup))
        stamps.touch(connection, [unit_id])
    assert current_stamps(units)[unit_id] not in (backup, original_next)


def test_redis_is_given_short_timeouts_unless_the_uri_sets_its_own():
    assert inbox_cache._with_timeouts("redis://r:6379/1") == (
        "redis://r:6379/1?socket_timeout=0.25&socket_connect_timeout=0.25")
    assert "socket_timeout=2" in inbox_cache._with_timeouts("rediss://r/1?socket_timeout=2")


def test_my_cases_are_cached_and_follow_each_change(app, units, people, make_case):
    staff = session_for(app, "branch.staff")
    mine = make_case(units["helsinki"], status=CaseStatus.ASSIGNED, assignee=people["branch.staff"])
    first = staff.get("/my-cases")
    again = staff.get("/my-cases")
    assert mine.reference in again.get_data(as_text=True)
    assert int(again.headers["X-Query-Count"]) < int(first.headers["X-Query-Count"])
    operations.unassign(people["branch.staff"], mine, now=NOW)
    db.session.commit()
    assert "You hold no open cases." in staff.get("/my-cases").get_data(as_text=True)
    # Another member's cases are never served from this member's entry, nor the other way.
    other = session_for(app, "branch.lead")
    theirs = make_case(units["helsinki"], status=CaseStatus.ASSIGNED,
                       assignee=people["branch.lead"])
    assert theirs.reference in other.get("/my-cases").get_data(as_text=True)
    assert theirs.reference not in staff.get("/my-cases").get_data(as_text=True)


def test_a_workers_cache_gives_each_caller_its_own_copy_and_drops_the_oldest_when_full():
    row = "<tr>1</tr>"
    worker = inbox_cache.WorkerCache(max_bytes=400)
    counts = {"open": 3}
    worker.set("counts", counts)
    counts["open"] = 4  # the caller's own copy, not the cached one
    read = worker.get("counts")
    read["open"] = 5
    assert worker.get("counts") == {"open": 3}
    worker.set("row:1", row)
    worker.set("row:2", "<tr>2</tr>")
    assert worker.get_many("row:2", "row:9", "counts", "row:1") == [
        "<tr>2</tr>", None, {"open": 3}, row]
    # Fills what row:1, the one read last, leaves: the two read before it go.
    filler = "x" * (400 - sys.getsizeof(row) - sys.getsizeof(""))
    worker.set("row:3", filler)
    assert worker.get_many("counts", "row:2", "row:1", "row:3") == [None, None, row, filler]


def test_a_workers_cache_holds_no_more_memory_than_its_bound_whatever_the_characters():
    worker = inbox_cache.WorkerCache(max_bytes=2000)
    rows = {f"row:{n}": f"<td>{n}</td>" + "\N{GRINNING FACE}" * 100 for n in range(10)}
    for key, row in rows.items():
        worker.set(key, row)
    kept = [row for row in worker.get_many(*rows) if row is not None]
    assert kept == list(rows.values())[-len(kept):]
    assert 0 < sum(sys.getsizeof(row) for row in kept) <= 2000 < sum(map(sys.getsizeof, rows.values()))
