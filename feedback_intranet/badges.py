"""A case's due-date badge, from its dates and today's date. Pure.

Badges carry text as well as colour: the state picks the colour in CSS, the
label says the same in words.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Badge:
    state: str  # due, due_today, estimate, overdue, answered, closed, no_answer
    label: str
    days: int | None = None


def _days(n):
    return f"{n} banking day" if n == 1 else f"{n} banking days"


def format_date(day):
    """The bank writes days first and with dots (24.12.2026) in all three languages."""
    return f"{day.day}.{day.month}.{day.year}"


def format_moment(moment, tz):
    """A moment as the bank's local day and 24-hour time: 24.12.2026 09:05."""
    local = moment.astimezone(tz)
    return f"{format_date(local)} {local:%H:%M}"


def badge_for(status, reply_wanted, due_date, estimated_decision_date, today, calendar):
    """The badge of a case on `today` (a Helsinki calendar day).

    An open case is overdue once the day it is due has ended; the number of
    overdue banking days counts those after the due date up to today, at least 1.
    An estimate from an interim notice replaces the due date.
    """
    status = str(status)
    if status == "closed":
        return Badge("closed", "closed")
    if status == "answered":
        return Badge("answered", "answered")
    if not reply_wanted:
        return Badge("no_answer", "no answer wanted")
    due = estimated_decision_date or due_date
    if today > due:
        n = max(1, calendar.banking_days_between(due, today))
        return Badge("overdue", f"overdue {_days(n)}", n)
    if today == due:
        label = "due today (estimate)" if estimated_decision_date else "due today"
        return Badge("due_today", label, 0)
    if estimated_decision_date:
        return Badge("estimate", f"estimate {format_date(estimated_decision_date)}")
    n = max(1, calendar.banking_days_between(today, due))
    return Badge("due", f"due in {_days(n)}", n)


def case_badge(case, today, calendar):
    return badge_for(
        case.status, case.reply_wanted, case.due_date, case.estimated_decision_date, today, calendar
    )
