"""A case's due-date badge, from its dates and today's date. Pure.

A badge is a structured value (state, banking days, the day in effect); one template macro
says it in the reader's language. Badges carry text as well as colour: the state picks the
colour in CSS, the words say the same.
"""

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Badge:
    state: str  # due, due_today, estimate, overdue, answered, closed, no_answer
    days: int | None = None  # banking days to the due date, or past it
    day: date | None = None  # the date in effect: the estimate when one replaces the due date
    estimate: bool = False  # an interim notice's estimate replaced the due date
    reply: bool = False  # the day is the deadline of the answer to the customer's reply


def badge_for(status, reply_wanted, due_date, estimated_decision_date, today, calendar,
              reply_due_date=None):
    """The badge of a case on `today` (a Helsinki calendar day).

    An open case is overdue once the day it is due has ended; the number of
    overdue banking days counts those after the due date up to today, at least 1.
    An estimate from an interim notice replaces the due date; the deadline of the answer to a
    customer's reply that opened the case again replaces both, and counts like a due date.
    """
    status = str(status)
    if status == "closed":
        return Badge("closed")
    if status == "answered":
        return Badge("answered")
    if not reply_wanted:
        return Badge("no_answer")
    if reply_due_date is not None:
        due = reply_due_date
        if today > due:
            return Badge("overdue", max(1, calendar.banking_days_between(due, today)), due,
                         reply=True)
        if today == due:
            return Badge("due_today", 0, due, reply=True)
        return Badge("due", max(1, calendar.banking_days_between(today, due)), due, reply=True)
    estimate = estimated_decision_date is not None
    due = estimated_decision_date or due_date
    if today > due:
        return Badge("overdue", max(1, calendar.banking_days_between(due, today)), due, estimate)
    if today == due:
        return Badge("due_today", 0, due, estimate)
    if estimate:
        return Badge("estimate", None, due, True)
    return Badge("due", max(1, calendar.banking_days_between(today, due)), due)


def _badge_facts(case):
    """What a case's badge is worked out from, besides the day and the calendar."""
    return (case.status, case.reply_wanted, case.due_date, case.estimated_decision_date,
            case.reply_due_date)


def _badge_of(facts, today, calendar):
    status, reply_wanted, due_date, estimated_decision_date, reply_due_date = facts
    return badge_for(status, reply_wanted, due_date, estimated_decision_date, today, calendar,
                     reply_due_date)


def case_badge(case, today, calendar):
    return _badge_of(_badge_facts(case), today, calendar)


def badges_by_id(cases, today, calendar):
    """{case id: badge} of a list's `cases` on `today`. A list's cases share a handful of due
    dates, so the badge of each set of facts is worked out once."""
    worked_out, badges = {}, {}
    for case in cases:
        facts = _badge_facts(case)
        if facts not in worked_out:
            worked_out[facts] = _badge_of(facts, today, calendar)
        badges[case.id] = worked_out[facts]
    return badges


@dataclass(frozen=True)
class BadgeChange:
    """Which open cases awaiting an answer a new closing day gives another badge, by the day in
    effect (the due date, or the estimate that replaced it): those due on `due_from` or later
    and not on an estimate, or those whose day in effect is before `due_before`."""

    due_from: date | None = None
    due_before: date | None = None


def badges_changed_by_closing(day, today, calendar):
    """The cases whose badge changes when `day`, a banking day in `calendar`, is closed.

    A badge counts banking days from today to the due date, or past it up to today, and never
    shows fewer than one: the closed day changes the count only if it lies in that stretch and
    another banking day does too. Estimates ahead show their date, not a count.
    """
    if day > today:
        # The first banking day after today is in every stretch that holds the closed day.
        first = calendar.add_banking_days(today, 1)
        return BadgeChange(due_from=day if day != first else calendar.add_banking_days(today, 2))
    last = today
    while not calendar.is_banking_day(last):
        last -= timedelta(days=1)
    if day != last:
        return BadgeChange(due_before=day)
    before = last - timedelta(days=1)
    while not calendar.is_banking_day(before):
        before -= timedelta(days=1)
    return BadgeChange(due_before=before)
