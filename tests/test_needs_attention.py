"""A team lead's "needs attention": the cases of their units that are overdue or long unassigned
(the reminders' shared definitions), listed by the inbox's filter `attention` and counted in the
header from the inbox counters, at no statement's cost."""

import re
from datetime import date, datetime, timedelta

import pytest

from feedback_intranet.closing_days import next_banking_day_parameters, next_banking_day_sql
from feedback_intranet.extensions import db
from feedback_intranet.inboxes import counters
from feedback_intranet.models import Case, CaseStatus, ClosingDay
from feedback_intranet.rules.banking_days import BankingCalendar

from .conftest import HELSINKI

FRIDAY = date(2026, 11, 27)  # the next banking day is Monday 30.11.
BEFORE_CHRISTMAS = date(2026, 12, 23)  # Christmas Eve to Boxing Day closed: Monday 28.12.


def morning(day):
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=HELSINKI)


@pytest.fixture
def people(make_user, units):
    return {
        "branch.staff": make_user("branch.staff", units=[units["helsinki"]]),
        "branch.lead": make_user("branch.lead", lead_of=[units["helsinki"]]),
        "two.units.lead": make_user("two.units.lead", lead_of=[units["helsinki"], units["turku"]]),
        "admin": make_user("admin", is_admin=True),
    }


@pytest.fixture
def due_case(make_case):
    """A case of `unit` due on `due` (received long before, so its due date is as set)."""
    def make(unit, due, status=CaseStatus.NEW, assignee=None, reply_wanted=True):
        case = make_case(unit, received_at=morning(due) - timedelta(days=30), status=status,
                         assignee=assignee, reply_wanted=reply_wanted)
        case.due_date = case.effective_due_date = due
        db.session.commit()
        return case

    return make


def hand_made_cases(due_case, unit, holder, today):
    """{name: (case, needs attention)} around `today` and its next banking day."""
    calendar = BankingCalendar()
    next_bd = calendar.add_banking_days(today, 1)
    later = calendar.add_banking_days(today, 2)
    yesterday = today - timedelta(days=1)
    assigned = {"status": CaseStatus.ASSIGNED, "assignee": holder}
    return {
        "overdue, held": (due_case(unit, yesterday, **assigned), True),
        "overdue, nobody holds it": (due_case(unit, yesterday), True),
        "nobody holds it, due today": (due_case(unit, today), True),
        "nobody holds it, due the next banking day": (due_case(unit, next_bd), True),
        "nobody holds it, due later": (due_case(unit, later), False),
        # Not overdue (no answer is wanted), but nobody has looked at it in time.
        "no answer wanted, nobody holds it, due the next banking day": (
            due_case(unit, next_bd, reply_wanted=False), True),
        "held, due the next banking day": (due_case(unit, next_bd, **assigned), False),
        "held, no answer wanted, overdue": (
            due_case(unit, yesterday, reply_wanted=False, **assigned), False),
        "answered, overdue": (due_case(unit, yesterday, status=CaseStatus.ANSWERED), False),
        "closed, overdue": (due_case(unit, yesterday, status=CaseStatus.CLOSED), False),
    }


def listed(client, unit_code, **query):
    response = client.get(f"/inbox/{unit_code}", query_string=query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def references(page):
    return re.findall(r">(FB-\d{4}-\d{6})</a>", page)


def filter_count(page, name):
    found = re.search(rf'filter={name}"[^>]*>[^<]*<span class="count">(\d+)</span>', page)
    return int(found.group(1)) if found else None


def header_badge(page):
    """(link, count) of the header's "Needs attention", or None."""
    found = re.search(r'<a class="attention" href="([^"]+)">Needs attention '
                      r'<span class="count">(\d+)</span></a>', page)
    return (found.group(1).replace("&amp;", "&"), int(found.group(2))) if found else None


@pytest.mark.parametrize("today", [FRIDAY, BEFORE_CHRISTMAS], ids=["friday", "before-christmas"])
def test_the_filter_lists_exactly_the_overdue_and_long_unassigned_cases(
        client, login, clock, units, people, due_case, today):
    clock.set(morning(today))
    cases = hand_made_cases(due_case, units["helsinki"], people["branch.staff"], today)
    due_case(units["turku"], today - timedelta(days=1))  # another unit's
    login("branch.lead")
    page = listed(client, "helsinki-centre", filter="attention")
    expected = [case for case, needs in cases.values() if needs]
    # In the inbox's order: the most urgent first.
    expected.sort(key=lambda case: (case.effective_due_date, case.received_at, case.id))
    assert references(page) == [case.reference for case in expected]
    assert filter_count(page, "attention") == len(expected) == 5
    assert 'aria-current="page" class="current">Needs attention' in page
    assert header_badge(page) == ("/inbox/helsinki-centre?filter=attention", 5)


def test_a_closing_day_moves_the_next_banking_day_for_the_list_and_the_header(
        client, login, clock, units, people, due_case, data):
    clock.set(morning(FRIDAY))
    monday, tuesday = date(2026, 11, 30), date(2026, 12, 1)
    due_case(units["helsinki"], monday)
    on_tuesday = due_case(units["helsinki"], tuesday)
    login("branch.lead")
    assert header_badge(listed(client, "helsinki-centre"))[1] == 1
    db.session.add(ClosingDay(day=monday, reason="Strike"))
    db.session.commit()
    page = listed(client, "helsinki-centre", filter="attention")
    assert on_tuesday.reference in references(page) and len(references(page)) == 2
    assert filter_count(page, "attention") == 2
    assert header_badge(page)[1] == 2


def test_the_header_sums_the_led_units_and_opens_the_one_with_the_most(
        client, login, clock, units, people, due_case):
    clock.set(morning(FRIDAY))
    overdue = FRIDAY - timedelta(days=1)
    due_case(units["helsinki"], overdue)
    for _n in range(2):
        due_case(units["turku"], overdue)
    due_case(units["vaasa"], overdue)  # not led by them
    login("two.units.lead")
    page = listed(client, "helsinki-centre")
    assert header_badge(page) == ("/inbox/turku?filter=attention", 3)
    turku = listed(client, "turku", filter="attention")
    helsinki = listed(client, "helsinki-centre", filter="attention")
    assert len(references(turku)) + len(references(helsinki)) == header_badge(turku)[1]


def test_nothing_is_shown_to_a_lead_with_nothing_to_see_nor_to_a_member(
        client, login, clock, units, people, due_case):
    clock.set(morning(FRIDAY))
    due_case(units["helsinki"], date(2026, 12, 4))  # due next Friday
    login("branch.lead")
    page = listed(client, "helsinki-centre")
    assert header_badge(page) is None and 'class="attention"' not in page
    assert filter_count(page, "attention") == 0  # the tab is there, empty
    client.post("/logout")
    due_case(units["helsinki"], FRIDAY - timedelta(days=1))
    login("branch.staff")
    page = listed(client, "helsinki-centre")
    assert header_badge(page) is None


def test_a_member_without_lead_rights_cannot_use_the_filter(
        client, login, clock, units, people, due_case):
    clock.set(morning(FRIDAY))
    waiting = due_case(units["helsinki"], date(2026, 12, 4))  # open, not needing attention
    due_case(units["helsinki"], FRIDAY - timedelta(days=1))
    login("branch.staff")
    page = listed(client, "helsinki-centre", filter="attention")
    # The filter is ignored: the open cases, and no tab offering it.
    assert waiting.reference in references(page)
    assert 'aria-current="page" class="current">Open' in page
    assert "filter=attention" not in page
    export = client.get("/inbox/helsinki-centre/export.csv?filter=attention")
    assert waiting.reference in export.get_data(as_text=True)


def test_an_admin_may_use_the_filter_of_any_unit(client, login, clock, units, people, due_case):
    clock.set(morning(FRIDAY))
    late = due_case(units["turku"], FRIDAY - timedelta(days=1))
    due_case(units["turku"], date(2026, 12, 4))
    login("admin")
    page = listed(client, "turku", filter="attention")
    assert references(page) == [late.reference]
    assert header_badge(page) is None  # an admin leads no unit


def test_the_filter_pages_like_the_others(client, login, clock, units, people, due_case, app):
    clock.set(morning(FRIDAY))
    app.config["INBOX_PAGE_SIZE"] = 2
    made = [due_case(units["helsinki"], FRIDAY - timedelta(days=n)) for n in range(1, 6)]
    due_case(units["helsinki"], date(2026, 12, 4))
    login("branch.lead")
    seen, path = [], "/inbox/helsinki-centre?filter=attention"
    for _page in range(5):
        page = client.get(path).get_data(as_text=True)
        seen += references(page)
        following = re.search(r'href="([^"]+)" rel="next"', page)
        if not following:
            break
        path = following.group(1).replace("&amp;", "&")
    assert seen == [case.reference for case in reversed(made)]


def test_the_csv_of_the_filter_holds_its_cases(client, login, clock, units, people, due_case):
    clock.set(morning(FRIDAY))
    late = due_case(units["helsinki"], FRIDAY - timedelta(days=1))
    later = due_case(units["helsinki"], date(2026, 12, 4))
    login("branch.lead")
    text = client.get("/inbox/helsinki-centre/export.csv?filter=attention").get_data(as_text=True)
    assert late.reference in text and later.reference not in text


def test_the_header_costs_no_statement(client, login, clock, units, people, due_case):
    """A team lead's page reads as many statements as a member's: the count comes with the
    user's own read."""
    clock.set(morning(FRIDAY))
    due_case(units["helsinki"], FRIDAY - timedelta(days=1))

    def profile_statements(username):
        client.post("/logout")
        login(username)
        response = client.get("/profile")
        return int(response.headers["X-Query-Count"]), header_badge(response.get_data(as_text=True))

    member, lead = profile_statements("branch.staff"), profile_statements("branch.lead")
    assert member[1] is None and lead[1] == ("/inbox/helsinki-centre?filter=attention", 1)
    assert lead[0] == member[0]


@pytest.mark.parametrize("today", [date(2026, 11, 25), FRIDAY, date(2026, 11, 28),
                                   BEFORE_CHRISTMAS, date(2026, 12, 31)])
def test_the_next_banking_day_in_sql_is_the_calendars(data, today):
    monday = date(2026, 11, 30)
    db.session.add_all([ClosingDay(day=monday, reason="Strike"),
                        ClosingDay(day=date(2026, 12, 1), reason="Withdrawn",
                                   withdrawn_at=morning(FRIDAY))])
    db.session.flush()
    in_sql = db.session.scalar(db.select(next_banking_day_sql()),
                               next_banking_day_parameters(today, HELSINKI))
    assert in_sql == BankingCalendar([monday], HELSINKI).add_banking_days(today, 1)


def test_the_counters_count_what_the_definition_says(clock, units, people, due_case):
    cases = hand_made_cases(due_case, units["helsinki"], people["branch.staff"], FRIDAY)
    db.session.expire_all()
    counted = counters.needs_attention([units["helsinki"].id, units["turku"].id], FRIDAY,
                                       date(2026, 11, 30))
    assert counted == {units["helsinki"].id: sum(needs for _case, needs in cases.values())}
    assert db.session.get(Case, cases["overdue, held"][0].id).status == CaseStatus.ASSIGNED


@pytest.mark.parametrize("closed", [9, 10])
def test_the_next_banking_day_in_sql_when_closing_days_take_the_candidates(data, closed):
    """The last candidate day when every earlier one is a closing day, and also when it is one
    itself (more closing days in a row than a bank has), as before."""
    candidates = next_banking_day_parameters(FRIDAY, HELSINKI)
    db.session.add_all([ClosingDay(day=candidates[f"next_day_{n}"], reason="Strike")
                        for n in range(closed)])
    db.session.flush()
    assert db.session.scalar(db.select(next_banking_day_sql()), candidates) \
        == candidates["next_day_9"]
