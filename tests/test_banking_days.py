"""Banking days and due dates: the bank's 3-banking-day promise."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedback_intranet.rules.banking_days import HELSINKI, BankingCalendar, local_date

CAL = BankingCalendar()


def helsinki(*args):
    return datetime(*args, tzinfo=HELSINKI)


@pytest.mark.parametrize(
    ("received", "due", "story"),
    [
        (helsinki(2026, 11, 23, 9, 0), date(2026, 11, 26), "Monday → Thursday in a plain week"),
        (helsinki(2026, 11, 26, 15, 0), date(2026, 12, 1), "Thursday → Tuesday over a weekend"),
        (helsinki(2026, 11, 28, 12, 0), date(2026, 12, 2), "Saturday → Wednesday"),
        (helsinki(2026, 11, 29, 12, 0), date(2026, 12, 2), "Sunday → Wednesday"),
        # Easter 2026: Good Friday 3 April, Easter Monday 6 April. The example says
        # "Thursday before Easter → the Wednesday after Easter Monday", but the third banking
        # day after Maundy Thursday is Thursday 9 April; the Wednesday is right for a receipt
        # on the Wednesday before Easter. The rule wins; the example is raised on the issue.
        (helsinki(2026, 4, 1, 10, 0), date(2026, 4, 8), "Wednesday before Easter → Wednesday after"),
        (helsinki(2026, 4, 2, 10, 0), date(2026, 4, 9), "Maundy Thursday → Thursday after Easter"),
        (helsinki(2026, 4, 3, 10, 0), date(2026, 4, 9), "Good Friday → Thursday after Easter"),
        (helsinki(2026, 4, 29, 10, 0), date(2026, 5, 5), "May Day on a Friday is skipped"),
        (helsinki(2026, 5, 12, 10, 0), date(2026, 5, 18), "Ascension Day (Thursday) is skipped"),
        (helsinki(2026, 6, 17, 10, 0), date(2026, 6, 23), "Midsummer Eve (Friday) is skipped"),
        (helsinki(2027, 12, 3, 10, 0), date(2027, 12, 9), "Independence Day on a Monday is skipped"),
        (helsinki(2026, 12, 23, 10, 0), date(2026, 12, 30), "Christmas Eve and Day are skipped"),
        (helsinki(2026, 12, 29, 10, 0), date(2027, 1, 4), "New Year's Day is skipped"),
        (helsinki(2026, 12, 31, 10, 0), date(2027, 1, 7), "New Year's Day and Epiphany are skipped"),
    ],
)
def test_due_date_is_the_third_banking_day_after_receipt(received, due, story):
    assert CAL.due_date(received) == due, story


def test_an_extra_closing_day_moves_the_due_date():
    closed_friday = BankingCalendar([date(2026, 11, 27)])
    received = helsinki(2026, 11, 25, 10, 0)
    assert CAL.due_date(received) == date(2026, 11, 30)
    assert closed_friday.due_date(received) == date(2026, 12, 1)
    assert not closed_friday.is_banking_day(date(2026, 11, 27))


@pytest.mark.parametrize(
    ("received_utc", "local_day", "due"),
    [
        # 23:59 on Monday in Helsinki is still Monday...
        (datetime(2026, 11, 23, 21, 59, tzinfo=UTC), date(2026, 11, 23), date(2026, 11, 26)),
        # ...and 00:01 is Tuesday, though both are Monday in UTC.
        (datetime(2026, 11, 23, 22, 1, tzinfo=UTC), date(2026, 11, 24), date(2026, 11, 27)),
        # Summer time: Helsinki is UTC+3, so 21:01 UTC is already the next day.
        (datetime(2026, 6, 1, 20, 59, tzinfo=UTC), date(2026, 6, 1), date(2026, 6, 4)),
        (datetime(2026, 6, 1, 21, 1, tzinfo=UTC), date(2026, 6, 2), date(2026, 6, 5)),
    ],
)
def test_the_day_of_receipt_is_the_helsinki_calendar_day(received_utc, local_day, due):
    assert local_date(received_utc) == local_day
    assert CAL.due_date(received_utc) == due


@pytest.mark.parametrize(
    ("received_utc", "local_day", "due"),
    [
        # Clocks go forward on Sunday 29 March 2026 at 03:00 (UTC+2 → UTC+3).
        (datetime(2026, 3, 27, 21, 59, tzinfo=UTC), date(2026, 3, 27), date(2026, 4, 1)),
        (datetime(2026, 3, 28, 21, 59, tzinfo=UTC), date(2026, 3, 28), date(2026, 4, 1)),
        (datetime(2026, 3, 28, 22, 1, tzinfo=UTC), date(2026, 3, 29), date(2026, 4, 1)),
        (datetime(2026, 3, 29, 20, 59, tzinfo=UTC), date(2026, 3, 29), date(2026, 4, 1)),
        (datetime(2026, 3, 29, 21, 1, tzinfo=UTC), date(2026, 3, 30), date(2026, 4, 2)),
        # Clocks go back on Sunday 25 October 2026 at 04:00 (UTC+3 → UTC+2).
        (datetime(2026, 10, 23, 20, 59, tzinfo=UTC), date(2026, 10, 23), date(2026, 10, 28)),
        (datetime(2026, 10, 24, 21, 1, tzinfo=UTC), date(2026, 10, 25), date(2026, 10, 28)),
        (datetime(2026, 10, 25, 21, 59, tzinfo=UTC), date(2026, 10, 25), date(2026, 10, 28)),
        (datetime(2026, 10, 25, 22, 1, tzinfo=UTC), date(2026, 10, 26), date(2026, 10, 29)),
    ],
)
def test_days_around_the_daylight_saving_changes(received_utc, local_day, due):
    assert local_date(received_utc) == local_day
    assert CAL.due_date(received_utc) == due


def test_overdue_starts_at_midnight_helsinki_time_across_dst():
    # Due Monday 30 March 2026, the day after clocks went forward: overdue from 21:00 UTC.
    due = date(2026, 3, 30)
    assert not CAL.is_overdue(due, datetime(2026, 3, 30, 20, 59, tzinfo=UTC))
    assert CAL.is_overdue(due, datetime(2026, 3, 30, 21, 0, tzinfo=UTC))
    # Due Friday 27 March, still winter time: overdue from 22:00 UTC.
    due = date(2026, 3, 27)
    assert not CAL.is_overdue(due, datetime(2026, 3, 27, 21, 59, tzinfo=UTC))
    assert CAL.is_overdue(due, datetime(2026, 3, 27, 22, 0, tzinfo=UTC))


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        CAL.due_date(datetime(2026, 11, 23, 10, 0))


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 11, 23), date(2026, 11, 23), 0),  # Monday to Monday
        (date(2026, 11, 21), date(2026, 11, 23), 1),  # Saturday to Monday
        (date(2026, 11, 23), date(2026, 11, 30), 5),  # a week
        (date(2026, 12, 23), date(2027, 1, 7), 7),  # over Christmas and Epiphany
        (date(2026, 11, 30), date(2026, 11, 23), -5),
    ],
)
def test_banking_days_between(start, end, expected):
    assert CAL.banking_days_between(start, end) == expected


days = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))
closing = st.frozensets(days, max_size=10)


def slow_count(calendar, start, end):
    n, day = 0, start
    while day < end:
        day += timedelta(days=1)
        n += calendar.is_banking_day(day)
    return n


@settings(deadline=None)
@given(start=days, span=st.integers(0, 120), closing_days=closing)
def test_counting_agrees_with_walking_day_by_day(start, span, closing_days):
    calendar = BankingCalendar(closing_days)
    end = start + timedelta(days=span)
    assert calendar.banking_days_between(start, end) == slow_count(calendar, start, end)


@settings(deadline=None)
@given(
    received=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31),
                          timezones=st.just(UTC)),
    closing_days=closing,
)
def test_the_due_date_is_a_banking_day_three_banking_days_after_receipt(received, closing_days):
    calendar = BankingCalendar(closing_days)
    due = calendar.due_date(received)
    day = local_date(received)
    assert calendar.is_banking_day(due)
    assert due > day
    assert calendar.banking_days_between(day, due) == 3
    assert calendar.banking_days_between(day, due - timedelta(days=1)) == 2
