"""Dates and moments as the bank writes them. Pure.

The bank writes days first and with dots (24.12.2026) in all three languages, and times in
24 hours.
"""


def format_date(day):
    return f"{day.day}.{day.month}.{day.year}"


def format_short_date(day):
    """A day of this or next year, as lists give it beside a badge: 2.12."""
    return f"{day.day}.{day.month}."


def format_moment(moment, tz):
    """A moment as the bank's local day and time: 24.12.2026 09:05."""
    local = moment.astimezone(tz)
    return f"{format_date(local)} {local:%H:%M}"
