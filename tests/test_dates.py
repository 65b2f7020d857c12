"""Dates as people here write them: 24.12.2026, typed with or without leading zeros."""

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedback_intranet.rules.dates import format_date, format_day_range, mentions_date, parse_date

DAYS = st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31))


@pytest.mark.parametrize(("typed", "day"), [
    ("24.12.2026", date(2026, 12, 24)),
    ("1.2.2026", date(2026, 2, 1)),
    ("01.02.2026", date(2026, 2, 1)),
    ("  24.12.2026\t", date(2026, 12, 24)),
    ("29.2.2028", date(2028, 2, 29)),
    # The address of a report bookmarked when the fields were the browser's date fields.
    ("2026-12-24", date(2026, 12, 24)),
])
def test_a_day_typed_the_way_people_here_write_it_is_read(typed, day):
    assert parse_date(typed) == day


@pytest.mark.parametrize("typed", [
    "", "   ", None, "31.2.2026", "29.2.2027", "32.1.2026", "0.1.2026", "1.13.2026", "1.0.2026",
    "24.12.26", "24.12.0000", "24/12/2026", "12/24/2026", "24.12.2026.", "24. 12. 2026",
    "24.12.20261", "1.1.2026 1.2.2026", "2026-02-30", "2026-2-3", "tomorrow", "٢٤.١٢.٢٠٢٦",
])
def test_what_is_no_day_of_the_calendar_is_refused(typed):
    assert parse_date(typed) is None


@settings(deadline=None)
@given(DAYS)
def test_a_written_day_reads_back_as_itself(day):
    assert parse_date(format_date(day)) == day
    assert parse_date(f" {day.day:02}.{day.month:02}.{day.year} ") == day


@settings(deadline=None)
@given(st.integers(1, 31), st.integers(1, 12), st.integers(1, 9999))
def test_a_typed_day_is_read_exactly_when_the_calendar_has_it(day, month, year):
    try:
        expected = date(year, month, day)
    except ValueError:
        expected = None
    assert parse_date(f"{day}.{month}.{year:04}") == expected


@settings(deadline=None)
@given(st.text(max_size=20))
def test_any_text_is_a_day_or_refused_never_an_error(text):
    day = parse_date(text)
    assert day is None or isinstance(day, date)


@pytest.mark.parametrize(("first", "last", "written"), [
    (date(2026, 11, 30), date(2026, 12, 6), "30.11.–6.12.2026"),
    (date(2026, 12, 28), date(2027, 1, 3), "28.12.2026–3.1.2027"),
    (date(2026, 12, 1), date(2026, 12, 6), "1.12.–6.12.2026"),
    (date(2026, 12, 6), date(2026, 12, 6), "6.12.2026"),
])
def test_a_span_of_days_writes_its_year_once_unless_it_crosses_a_new_year(first, last, written):
    assert format_day_range(first, last) == written


@pytest.mark.parametrize(("text", "named"), [
    ("We estimate a decision by 4.12.2026.", True),
    ("Päätös viimeistään 04.12.2026, kiitos.", True),
    ("(4.12.2026)", True),
    ("We estimate a decision by 14.12.2026.", False),
    ("By 4.12.20261 or so", False),
    ("Version 1.4.12.2026", False),
    ("We estimate a decision by 2026-12-04.", False),
    ("", False),
])
def test_a_text_names_a_day_only_where_it_writes_that_very_day(text, named):
    assert mentions_date(text, date(2026, 12, 4)) is named


@settings(deadline=None)
@given(DAYS, st.text(max_size=10), st.text(max_size=10))
def test_a_written_day_is_found_between_words(day, before, after):
    text = f"{before} {format_date(day)} {after}"
    assert mentions_date(text, day)


def test_a_periods_weeks_carry_their_days_cut_to_the_period():
    from feedback_intranet.rules.periods import Period

    assert Period(date(2026, 12, 1), date(2027, 1, 6)).week_spans() == [
        (49, date(2026, 12, 1), date(2026, 12, 6)),
        (50, date(2026, 12, 7), date(2026, 12, 13)),
        (51, date(2026, 12, 14), date(2026, 12, 20)),
        (52, date(2026, 12, 21), date(2026, 12, 27)),
        (53, date(2026, 12, 28), date(2027, 1, 3)),
        (1, date(2027, 1, 4), date(2027, 1, 6)),
    ]


@pytest.mark.parametrize(("start", "end", "whole"), [
    (date(2026, 11, 1), date(2026, 11, 30), True),
    (date(2028, 2, 1), date(2028, 2, 29), True),
    (date(2026, 11, 1), date(2026, 11, 29), False),
    (date(2026, 11, 2), date(2026, 11, 30), False),
    (date(2026, 11, 1), date(2026, 12, 31), False),
    (date(2025, 11, 1), date(2026, 11, 30), False),
])
def test_a_period_is_a_whole_month_only_from_its_first_day_to_its_last(start, end, whole):
    from feedback_intranet.rules.periods import Period

    assert Period(start, end).whole_month() is whole
