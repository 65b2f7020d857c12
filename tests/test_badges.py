"""The due-date badge every case carries, relative to today."""

from datetime import date

import pytest

from feedback_intranet.badges import badge_for
from feedback_intranet.banking_days import BankingCalendar

CAL = BankingCalendar()
DUE = date(2026, 11, 26)  # a Thursday


@pytest.mark.parametrize(
    ("today", "state", "label"),
    [
        (date(2026, 11, 23), "due", "due in 3 banking days"),
        (date(2026, 11, 25), "due", "due in 1 banking day"),
        (date(2026, 11, 26), "due_today", "due today"),
        (date(2026, 11, 27), "overdue", "overdue 1 banking day"),
        # The weekend adds no banking days, but the case is still overdue.
        (date(2026, 11, 28), "overdue", "overdue 1 banking day"),
        (date(2026, 11, 30), "overdue", "overdue 2 banking days"),
    ],
)
def test_open_case_badge_counts_banking_days(today, state, label):
    badge = badge_for("new", True, DUE, None, today, CAL)
    assert (badge.state, badge.label) == (state, label)


def test_a_weekend_before_the_due_date_does_not_count():
    badge = badge_for("assigned", True, date(2026, 11, 30), None, date(2026, 11, 27), CAL)
    assert badge.label == "due in 1 banking day"


def test_an_estimate_replaces_the_due_date_until_it_passes():
    estimate = date(2026, 12, 3)
    assert badge_for("assigned", True, DUE, estimate, date(2026, 11, 30), CAL).label == (
        "estimate 3.12.2026"
    )
    on_the_day = badge_for("assigned", True, DUE, estimate, date(2026, 12, 3), CAL)
    assert (on_the_day.state, on_the_day.label) == ("due_today", "due today (estimate)")
    late = badge_for("assigned", True, DUE, estimate, date(2026, 12, 4), CAL)
    assert (late.state, late.label) == ("overdue", "overdue 1 banking day")


def test_answered_closed_and_no_answer_wanted():
    late = date(2027, 1, 15)
    assert badge_for("answered", True, DUE, None, late, CAL).label == "answered"
    assert badge_for("closed", True, DUE, None, late, CAL).label == "closed"
    no_answer = badge_for("new", False, DUE, None, late, CAL)
    assert (no_answer.state, no_answer.label) == ("no_answer", "no answer wanted")


def test_overdue_counts_skip_holidays():
    # Due Wednesday 23 December; Christmas Eve to Boxing Day are not banking days.
    badge = badge_for("new", True, date(2026, 12, 23), None, date(2026, 12, 28), CAL)
    assert badge.label == "overdue 1 banking day"
