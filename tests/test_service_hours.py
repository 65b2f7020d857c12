"""Callback windows inside service hours, on banking days, Helsinki time."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from feedback_intranet.rules.banking_days import HELSINKI, BankingCalendar
from feedback_intranet.rules.service_hours import call_timing, next_windows

CAL = BankingCalendar([date(2026, 12, 31)])


def at(*args):
    return datetime(*args, tzinfo=HELSINKI)


@pytest.mark.parametrize(
    ("after", "segment", "first"),
    [
        (at(2026, 11, 25, 7, 0), "private", at(2026, 11, 25, 8, 0)),  # before opening
        (at(2026, 11, 25, 10, 20), "private", at(2026, 11, 25, 11, 0)),  # next full hour
        (at(2026, 11, 25, 19, 0), "private", at(2026, 11, 25, 19, 0)),  # the last window
        (at(2026, 11, 25, 19, 1), "private", at(2026, 11, 26, 8, 0)),  # after hours
        (at(2026, 11, 25, 17, 30), "business", at(2026, 11, 26, 8, 0)),  # business closes at 18
        (at(2026, 11, 27, 20, 30), "private", at(2026, 11, 30, 8, 0)),  # over the weekend
        (at(2026, 12, 23, 21, 0), "private", at(2026, 12, 28, 8, 0)),  # over Christmas
        (at(2026, 12, 30, 21, 0), "business", at(2027, 1, 4, 8, 0)),  # closing day, New Year
    ],
)
def test_the_next_window(after, segment, first):
    window = next_windows(after, segment, CAL)[0]
    assert window.start == first
    assert (window.end - window.start).total_seconds() == 3600


def test_windows_fill_a_day_then_move_on():
    windows = next_windows(at(2026, 11, 25, 16, 0), "business", CAL, count=3)
    assert [w.start.hour for w in windows] == [16, 17, 8]
    assert windows[2].start.date() == date(2026, 11, 26)


def test_deviating_hours_on_the_eve_of_a_holiday():
    deviations = {(date(2026, 12, 23), None): (time(8), time(14))}
    windows = next_windows(at(2026, 12, 23, 12, 30), "private", CAL, deviations, count=2)
    assert [w.start for w in windows] == [at(2026, 12, 23, 13, 0), at(2026, 12, 28, 8, 0)]


def test_a_deviation_for_one_segment_only_and_a_closed_day():
    deviations = {(date(2026, 11, 26), "business"): None}
    assert next_windows(at(2026, 11, 25, 18, 0), "business", CAL, deviations)[0].start == at(
        2026, 11, 27, 8, 0)
    assert next_windows(at(2026, 11, 25, 20, 0), "private", CAL, deviations)[0].start == at(
        2026, 11, 26, 8, 0)


def test_daylight_saving_keeps_local_hours():
    # Clocks go forward on Sunday 29 March 2026; Monday's first window is still 8:00 local.
    window = next_windows(at(2026, 3, 27, 21, 0), "private", CAL)[0]
    assert window.start == at(2026, 3, 30, 8, 0)
    assert window.start.utcoffset().total_seconds() == 3 * 3600


# A call recorded against its plan

WINDOW = (at(2026, 11, 25, 9, 0), at(2026, 11, 25, 10, 0))  # Wednesday 9-10


@pytest.mark.parametrize(("moment", "segment", "outside_window", "outside_hours", "hours"), [
    (at(2026, 11, 25, 9, 30), "private", False, False, (time(8), time(20))),
    (at(2026, 11, 25, 9, 0), "private", False, False, (time(8), time(20))),  # window opens
    (at(2026, 11, 25, 10, 0), "private", True, False, (time(8), time(20))),  # and has closed
    (at(2026, 11, 25, 7, 59), "private", True, True, (time(8), time(20))),
    (at(2026, 11, 25, 18, 30), "business", True, True, (time(8), time(18))),
    (at(2026, 11, 25, 18, 30), "private", True, False, (time(8), time(20))),
    (at(2026, 11, 25, 20, 0), "private", True, True, (time(8), time(20))),
    (at(2026, 11, 28, 11, 0), "private", True, True, None),  # a Saturday: no service at all
    (at(2026, 12, 31, 9, 30), "private", True, True, None),  # the bank's closing day
])
def test_a_call_outside_its_window_or_the_service_hours(moment, segment, outside_window,
                                                         outside_hours, hours):
    timing = call_timing(moment, *WINDOW, segment, CAL)
    assert (timing.outside_window, timing.outside_hours, timing.hours) == (
        outside_window, outside_hours, hours)


def test_deviating_hours_count_for_the_call_too():
    short_day = {(date(2026, 11, 25), None): (time(8), time(9, 15))}
    timing = call_timing(at(2026, 11, 25, 9, 30), *WINDOW, "private", CAL, short_day)
    assert (timing.outside_window, timing.outside_hours) == (False, True)
    assert timing.hours == (time(8), time(9, 15))


def test_a_moment_in_another_time_zone_is_read_in_helsinki():
    utc = datetime(2026, 11, 25, 6, 30, tzinfo=ZoneInfo("UTC"))  # 8:30 in Helsinki
    assert call_timing(utc, *WINDOW, "private", CAL).outside_hours is False
