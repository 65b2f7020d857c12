"""Extra closing days: a day already closed is refused, the admin sees how many badges a new
day changes before saving it, and a future day added by mistake is withdrawn, never deleted."""

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from feedback_intranet.closing_days import banking_calendar
from feedback_intranet.extensions import db
from feedback_intranet.models import AuditEvent, CaseStatus, ClosingDay
from feedback_intranet.rules.badges import badge_for, badges_changed_by_closing
from feedback_intranet.rules.banking_days import BankingCalendar

from .conftest import DEFAULT_NOW, HELSINKI, statements_sent

TODAY = DEFAULT_NOW.date()  # Wednesday 25.11.2026


@pytest.fixture
def admin(client, login, make_user, units):
    make_user("admin", is_admin=True)
    login("admin")
    return client


def closing_days():
    db.session.expire_all()
    return list(db.session.scalars(sa.select(ClosingDay).order_by(ClosingDay.id)))


def error_at(page, name):
    found = re.search(rf'<p class="error" id="{name}-error">(.*?)</p>', page)
    return found and found.group(1)


def shown_value(page, name):
    return re.search(rf'<input[^>]*id="{name}"[^>]*value="([^"]*)"', page).group(1)


# The rule, against the badges themselves

def moves(day, today, due, estimate, calendar):
    """Whether closing `day` gives a case due on `due` (or estimated then) another badge."""
    after = BankingCalendar(calendar.closing_days | {day})
    estimated = due if estimate else None
    return (badge_for("new", True, due, estimated, today, calendar)
            != badge_for("new", True, due, estimated, today, after))


def in_bounds(change, due, estimate):
    if change.due_from is not None:
        return due >= change.due_from and not estimate
    return due < change.due_before


days = st.dates(date(2026, 1, 1), date(2028, 12, 31))


@settings(deadline=None, max_examples=400)
@given(today=days, offset=st.integers(-40, 40), due_offset=st.integers(-40, 40),
       estimate=st.booleans(), closed=st.frozensets(days, max_size=6))
def test_the_bounds_pick_exactly_the_cases_whose_badge_changes(today, offset, due_offset,
                                                               estimate, closed):
    calendar = BankingCalendar(closed)
    day = today + timedelta(days=offset)
    if not calendar.is_banking_day(day):
        return
    due = today + timedelta(days=due_offset)
    change = badges_changed_by_closing(day, today, calendar)
    assert in_bounds(change, due, estimate) == moves(day, today, due, estimate, calendar)


# Refusals at the field

@pytest.mark.parametrize(("typed", "message"), [
    ("28.11.2026", "28.11.2026 is a Saturday: the bank is closed at weekends anyway."),
    ("29.11.2026", "29.11.2026 is a Sunday: the bank is closed at weekends anyway."),
    ("24.12.2026", "24.12.2026 is a bank holiday (Christmas Eve): the bank is closed anyway."),
    ("6.12.2027", "6.12.2027 is a bank holiday (Independence Day): the bank is closed anyway."),
])
def test_a_day_the_bank_is_closed_on_anyway_is_refused_at_the_field(admin, typed, message):
    page = admin.post("/admin/closing-days", data={"day": typed, "reason": "Mistake"}).get_data(
        as_text=True)
    assert error_at(page, "day") == message
    assert shown_value(page, "day") == typed and 'value="Mistake"' in page
    # Not even with the confirmation forged.
    admin.post("/admin/closing-days", data={"day": typed, "reason": "x", "confirmed": "yes"})
    assert closing_days() == []


def test_a_holiday_is_named_in_the_admins_language(admin, data):
    from feedback_intranet.models import Language, User
    user = db.session.scalar(sa.select(User).where(User.username == "admin"))
    user.language = Language.FI
    db.session.commit()
    page = admin.post("/admin/closing-days", data={"day": "24.12.2026", "reason": "x"}).get_data(
        as_text=True)
    assert error_at(page, "day") == ("24.12.2026 on pyhäpäivä (Jouluaatto), jolloin pankki on "
                                     "muutenkin suljettu.")


def test_a_day_already_closed_is_refused_and_a_withdrawn_one_may_be_closed_again(admin, clock):
    confirm = {"day": "8.12.2026", "reason": "Strike", "confirmed": "yes"}
    assert admin.post("/admin/closing-days", data=confirm).status_code == 302
    page = admin.post("/admin/closing-days", data={"day": "8.12.2026", "reason": "Again"})
    assert error_at(page.get_data(as_text=True), "day") == "8.12.2026 is already a closing day."
    page = admin.post("/admin/closing-days", data={**confirm, "reason": "Forged"})
    assert error_at(page.get_data(as_text=True), "day") == "8.12.2026 is already a closing day."
    (first,) = closing_days()
    admin.post(f"/admin/closing-days/{first.id}/withdraw")
    assert admin.post("/admin/closing-days", data=confirm).status_code == 302
    assert [(d.day, d.withdrawn) for d in closing_days()] == [(date(2026, 12, 8), True),
                                                              (date(2026, 12, 8), False)]


# The confirmation step

def test_the_first_post_only_says_what_changes_and_saves_nothing(admin):
    page = admin.post("/admin/closing-days", data={"day": "27.11.2026", "reason": "Strike"})
    text = page.get_data(as_text=True)
    assert "Close the bank on 27.11.2026?" in text
    assert "This changes no open case's badge." in text
    assert 'name="confirmed" value="yes"' in text and 'name="day" value="27.11.2026"' in text
    assert closing_days() == []


def test_the_confirmation_counts_the_open_cases_whose_badge_changes(admin, units, make_case,
                                                                    calendar):
    unit = units["turku"]
    cases = []
    # Received over six weeks: overdue by many days, due today, due in 1 to 3 banking days.
    for back in [*range(7), *range(7, 42, 3)]:
        cases.append(make_case(unit, received_at=DEFAULT_NOW - timedelta(days=back)))
    cases.append(make_case(unit, received_at=DEFAULT_NOW - timedelta(days=3),
                           estimate=date(2026, 12, 10)))
    cases.append(make_case(unit, received_at=DEFAULT_NOW - timedelta(days=30),
                           estimate=date(2026, 11, 12)))
    # Not counted: answered, closed, or no answer wanted.
    cases.append(make_case(unit, received_at=DEFAULT_NOW, status=CaseStatus.ANSWERED))
    cases.append(make_case(unit, received_at=DEFAULT_NOW, status=CaseStatus.CLOSED))
    cases.append(make_case(unit, received_at=DEFAULT_NOW, reply_wanted=False))

    def expected(day):
        after = BankingCalendar({day})
        return sum(
            badge_for(c.status, c.reply_wanted, c.due_date, c.estimated_decision_date, TODAY,
                      calendar)
            != badge_for(c.status, c.reply_wanted, c.due_date, c.estimated_decision_date, TODAY,
                         after)
            for c in cases)

    for day in (date(2026, 11, 26), date(2026, 11, 27), date(2026, 11, 30), date(2026, 11, 2),
                date(2026, 11, 25), date(2026, 11, 24)):
        count = expected(day)
        page = admin.post("/admin/closing-days",
                          data={"day": day.isoformat(), "reason": "x"}).get_data(as_text=True)
        if count:
            noun = "badge of 1 open case." if count == 1 else f"badges of {count} open cases."
            assert f"This changes the {noun}" in page, day
        else:
            assert "This changes no open case's badge." in page, day
    assert expected(date(2026, 11, 27)) > 1 and expected(date(2026, 11, 2)) > 1


def test_the_count_is_one_statement_whatever_the_number_of_cases(admin, units, make_case):
    def statements():
        response = admin.post("/admin/closing-days", data={"day": "27.11.2026", "reason": "x"})
        return int(response.headers["X-Query-Count"])

    few = statements()
    for back in range(12):
        make_case(units["turku"], received_at=DEFAULT_NOW - timedelta(days=back))
    assert statements() == few


def test_confirmed_the_day_is_saved_and_promised_due_dates_stay(admin, units, make_case):
    case = make_case(units["turku"])  # received 25.11., due 30.11.
    page = admin.get("/inbox/turku").get_data(as_text=True)
    assert "due in 3 banking days" in page
    response = admin.post("/admin/closing-days",
                          data={"day": "27.11.2026", "reason": "Strike", "confirmed": "yes"})
    assert response.status_code == 302
    db.session.expire_all()
    assert case.due_date == date(2026, 11, 30)
    assert "due in 2 banking days" in admin.get("/inbox/turku").get_data(as_text=True)


# Withdrawing

def add(day, reason="Strike"):
    db.session.add(ClosingDay(day=day, reason=reason))
    db.session.commit()
    return closing_days()[-1]


def test_a_future_closing_day_is_withdrawn_audited_and_kept_on_the_list(admin, units, make_case,
                                                                       clock):
    case = make_case(units["turku"])
    mistake = add(date(2026, 11, 27))
    assert "due in 2 banking days" in admin.get("/inbox/turku").get_data(as_text=True)

    clock.advance(timedelta(minutes=5))
    response = admin.post(f"/admin/closing-days/{mistake.id}/withdraw")
    assert response.status_code == 302
    page = admin.get("/admin/closing-days").get_data(as_text=True)
    assert "Withdrew the closing day 27.11.2026: it is a banking day again." in page
    assert "<s>27.11.2026</s>" in page and "Withdrawn 25.11.2026 by Admin" in page

    db.session.expire_all()
    assert closing_days()[0].withdrawn_at == (DEFAULT_NOW + timedelta(minutes=5))
    (change,) = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.kind == "admin_change"))
    assert change.facts["change"] == "closing_day_withdrawn" and change.username == "admin"
    assert change.facts["day"] == "2026-11-27"
    assert "Withdrew the closing day 27.11.2026." in admin.get("/admin/audit").get_data(
        as_text=True)
    # The calendar, the inbox's cached rows and new cases no longer count it.
    assert "due in 3 banking days" in admin.get("/inbox/turku").get_data(as_text=True)
    assert case.due_date == date(2026, 11, 30)


def test_the_calendar_ignores_withdrawn_days(app, data):
    from feedback_intranet.models import User
    admin_user = User(username="a", full_name="A", email="a@bank.example", password_hash="x",
                      is_admin=True)
    db.session.add_all([admin_user,
                        ClosingDay(day=date(2026, 11, 26), reason="kept"),
                        ClosingDay(day=date(2026, 11, 27), reason="withdrawn",
                                   withdrawn_at=DEFAULT_NOW, withdrawn_by=admin_user)])
    db.session.commit()
    calendar = banking_calendar(HELSINKI)
    assert calendar.closing_days == {date(2026, 11, 26)}
    assert calendar.due_date(DEFAULT_NOW) == date(2026, 12, 1)


def test_a_page_reads_the_closing_days_with_the_signed_in_user(app, admin, units, make_case):
    """No statement of their own: the user loader's brings them, the withdrawn ones left out."""
    make_case(units["turku"])  # received 25.11., due 30.11.
    add(date(2026, 11, 26))
    add(date(2026, 12, 10), reason="Training day")
    add(date(2026, 11, 27))
    withdrawn = add(date(2026, 11, 30))
    withdrawn.withdrawn_at = DEFAULT_NOW
    db.session.commit()
    with statements_sent(app) as seen:
        page = admin.get("/inbox/turku").get_data(as_text=True)
    assert "due in 1 banking day" in page  # 26 and 27 closed: only the 30th is left
    assert not [s for s in seen if s.lstrip().startswith("SELECT closing_day")], seen


@pytest.mark.parametrize("day", [TODAY, TODAY - timedelta(days=1), date(2026, 1, 2)])
def test_a_closing_day_that_has_come_cannot_be_withdrawn(admin, day):
    closing = add(day)
    response = admin.post(f"/admin/closing-days/{closing.id}/withdraw", follow_redirects=True)
    assert (f"{day.day}.{day.month}.{day.year} has already come: only a future closing day can "
            "be withdrawn.") in response.get_data(as_text=True)
    db.session.expire_all()
    assert not closing_days()[0].withdrawn
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.kind == "admin_change")) == 0


def test_only_future_days_offer_withdrawing(admin):
    past, future = add(TODAY), add(TODAY + timedelta(days=2))
    page = admin.get("/admin/closing-days").get_data(as_text=True)
    assert f"/admin/closing-days/{future.id}/withdraw" in page
    assert f"/admin/closing-days/{past.id}/withdraw" not in page


def test_a_day_is_withdrawn_once(admin):
    closing = add(TODAY + timedelta(days=2))
    admin.post(f"/admin/closing-days/{closing.id}/withdraw")
    page = admin.post(f"/admin/closing-days/{closing.id}/withdraw", follow_redirects=True)
    assert "27.11.2026 was already withdrawn." in page.get_data(as_text=True)
    assert admin.post("/admin/closing-days/999999/withdraw").status_code == 404


def test_staff_who_are_not_admins_cannot_withdraw_or_add(client, login, make_user, units):
    closing = add(TODAY + timedelta(days=2))
    make_user("lead", lead_of=[units["turku"]])
    login("lead")
    assert client.post(f"/admin/closing-days/{closing.id}/withdraw").status_code == 403
    assert client.post("/admin/closing-days", data={"day": "30.11.2026", "reason": "x",
                                                    "confirmed": "yes"}).status_code == 403
    db.session.expire_all()
    assert [(d.day, d.withdrawn) for d in closing_days()] == [(closing.day, False)]


def test_anonymous_visitors_are_sent_to_log_in(client, data):
    closing = add(TODAY + timedelta(days=2))
    response = client.post(f"/admin/closing-days/{closing.id}/withdraw")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    db.session.expire_all()
    assert not closing_days()[0].withdrawn
