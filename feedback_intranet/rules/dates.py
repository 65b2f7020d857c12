"""Dates and moments as the bank writes them. Pure.

The bank writes days first and with dots (24.12.2026) in all three languages, and times in
24 hours. People type days the same way, with or without leading zeros (1.2.2026, 01.02.2026).
"""

import re
from datetime import date, time

_TYPED = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", re.ASCII)
# Addresses and old bookmarks carry days as the browser's date fields sent them: 2026-12-24.
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
# A day written inside a text: not a piece of a longer number (14.12.2026 holds no 4.12.2026).
_WRITTEN = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(\d{4})(?!\d)", re.ASCII)


def format_date(day):
    return f"{day.day}.{day.month}.{day.year}"


def format_short_date(day):
    """A day of this or next year, as lists give it beside a badge: 2.12."""
    return f"{day.day}.{day.month}."


def format_moment(moment, tz):
    """A moment as the bank's local day and time: 24.12.2026 09:05."""
    local = moment.astimezone(tz)
    return f"{format_date(local)} {local:%H:%M}"


def format_day_range(first, last):
    """Days from `first` to `last` as one span: 30.11.–6.12.2026, the year written once unless
    the span crosses a new year (28.12.2026–3.1.2027); a single day as itself."""
    if first == last:
        return format_date(last)
    start = format_date(first) if first.year != last.year else format_short_date(first)
    return f"{start}–{format_date(last)}"


def _day(year, month, day):
    try:
        return date(int(year), int(month), int(day))
    except ValueError:  # 31.2.2026, month 13, year 0
        return None


def parse_date(text):
    """The day a person typed as d.m.yyyy (24.12.2026, 1.2.2026, 01.02.2026; spaces around are
    fine), or as year-month-day; None when it is no day of the calendar."""
    text = (text or "").strip()
    if match := _TYPED.fullmatch(text):
        day, month, year = match.groups()
        return _day(year, month, day)
    if match := _ISO.fullmatch(text):
        return _day(*match.groups())
    return None


def mentions_date(text, day):
    """Whether `text` writes `day` as d.m.yyyy, with or without leading zeros."""
    return any(_day(year, month, number) == day
               for number, month, year in _WRITTEN.findall(text or ""))


_TIME = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?", re.ASCII)


def parse_time(text):
    """A time of day a person typed in 24 hours (14.30, 14:30, 9.05, 9); None when it is none."""
    match = _TIME.fullmatch((text or "").strip())
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    return time(hour, minute) if hour < 24 and minute < 60 else None
