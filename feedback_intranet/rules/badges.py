"""A case's due-date badge, from its dates and today's date. Pure.

A badge is a structured value (state, banking days, the day in effect); one template macro
says it in the reader's language. Badges carry text as well as colour: the state picks the
colour in CSS, the words say the same.
"""

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Badge:
    state: str  # due, due_today, estimate, overdue, answered, closed, no_answer
    days: int | None = None  # banking days to the due date, or past it
    day: date | None = None  # the date in effect: the estimate when one replaces the due date
    estimate: bool = False  # an interim notice's estimate replaced the due date


def badge_for(status, reply_wanted, due_date, estimated_decision_date, today, calendar):
    """The badge of a case on `today` (a Helsinki calendar day).

    An open case is overdue once the day it is due has ended; the number of
    overdue banking days counts those after the due date up to today, at least 1.
    An estimate from an interim notice replaces the due date.
    """
    status = str(status)
    if status == "closed":
        return Badge("closed")
    if status == "answered":
        return Badge("answered")
    if not reply_wanted:
        return Badge("no_answer")
    estimate = estimated_decision_date is not None
    due = estimated_decision_date or due_date
    if today > due:
        return Badge("overdue", max(1, calendar.banking_days_between(due, today)), due, estimate)
    if today == due:
        return Badge("due_today", 0, due, estimate)
    if estimate:
        return Badge("estimate", None, due, True)
    return Badge("due", max(1, calendar.banking_days_between(today, due)), due)


def case_badge(case, today, calendar):
    return badge_for(
        case.status, case.reply_wanted, case.due_date, case.estimated_decision_date, today, calendar
    )
