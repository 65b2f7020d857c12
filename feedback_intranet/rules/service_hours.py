"""Callback windows: one-hour slots inside service hours on banking days. Pure.

Private customers are served on weekdays 8-20, business customers 8-18,
Helsinki time; the bank may set deviating hours for given dates.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

REGULAR_HOURS = {"private": (time(8), time(20)), "business": (time(8), time(18))}
WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime


def hours_on(day, segment, calendar, deviations=None):
    """(opens, closes) on `day` for the segment, or None when there is no service.

    `deviations` maps (date, segment) or (date, None) to (opens, closes), or None for closed.
    It is compared with None, not read for truth: the hours may be read only when first looked
    at (closing_days.deviating_hours).
    """
    if not calendar.is_banking_day(day):
        return None
    for key in ((day, segment), (day, None)) if deviations is not None else ():
        if key in deviations:
            return deviations[key]
    return REGULAR_HOURS[str(segment)]


def next_windows(after, segment, calendar, deviations=None, count=1, horizon_days=60):
    """The next `count` windows that start at or after `after` (an aware datetime)."""
    tz = calendar.tz
    moment = after.astimezone(tz)
    day = moment.date()
    windows = []
    for _ in range(horizon_days):
        hours = hours_on(day, segment, calendar, deviations)
        if hours:
            opens, closes = hours
            start = datetime.combine(day, opens, tzinfo=tz)
            end_of_service = datetime.combine(day, closes, tzinfo=tz)
            if start < moment:
                # The next full hour after `after`, so a window never starts in the past.
                start = moment.replace(minute=0, second=0, microsecond=0)
                if start < moment:
                    start += WINDOW
            while start + WINDOW <= end_of_service:
                windows.append(Window(start, start + WINDOW))
                if len(windows) == count:
                    return windows
                start += WINDOW
        day += timedelta(days=1)
    return windows


@dataclass(frozen=True)
class CallTiming:
    """When a call is recorded, against its plan: outside the planned window, outside the
    segment's service hours that day (`hours`: (opens, closes), None when there is no service
    that day)."""

    outside_window: bool
    outside_hours: bool
    hours: tuple[time, time] | None


def call_timing(moment, window_start, window_end, segment, calendar, deviations=None):
    """How a call recorded at `moment` (an aware datetime) stands against its window and the
    service hours of `segment` on that day, Helsinki time."""
    local = moment.astimezone(calendar.tz)
    hours = hours_on(local.date(), segment, calendar, deviations)
    inside_hours = hours is not None and hours[0] <= local.time() < hours[1]
    return CallTiming(outside_window=not window_start <= moment < window_end,
                      outside_hours=not inside_hours, hours=hours)
