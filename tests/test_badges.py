"""The due-date badge every case carries, relative to today: a structured value, said in the
reader's language by one template macro."""

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from flask import render_template_string
from flask_babel import force_locale
from hypothesis import given, settings
from hypothesis import strategies as st

from feedback_intranet.rules.badges import Badge, badge_for, badges_by_id, case_badge
from feedback_intranet.rules.banking_days import BankingCalendar

CAL = BankingCalendar()
DUE = date(2026, 11, 26)  # a Thursday


@pytest.mark.parametrize(
    ("today", "state", "days"),
    [
        (date(2026, 11, 23), "due", 3),
        (date(2026, 11, 25), "due", 1),
        (date(2026, 11, 26), "due_today", 0),
        (date(2026, 11, 27), "overdue", 1),
        # The weekend adds no banking days, but the case is still overdue.
        (date(2026, 11, 28), "overdue", 1),
        (date(2026, 11, 30), "overdue", 2),
    ],
)
def test_open_case_badge_counts_banking_days(today, state, days):
    assert badge_for("new", True, DUE, None, today, CAL) == Badge(state, days, DUE)


def test_a_weekend_before_the_due_date_does_not_count():
    badge = badge_for("assigned", True, date(2026, 11, 30), None, date(2026, 11, 27), CAL)
    assert (badge.state, badge.days) == ("due", 1)


def test_an_estimate_replaces_the_due_date_until_it_passes():
    estimate = date(2026, 12, 3)
    before = badge_for("assigned", True, DUE, estimate, date(2026, 11, 30), CAL)
    assert before == Badge("estimate", None, estimate, estimate=True)
    on_the_day = badge_for("assigned", True, DUE, estimate, date(2026, 12, 3), CAL)
    assert on_the_day == Badge("due_today", 0, estimate, estimate=True)
    late = badge_for("assigned", True, DUE, estimate, date(2026, 12, 4), CAL)
    assert (late.state, late.days, late.estimate) == ("overdue", 1, True)


def test_answered_closed_and_no_answer_wanted():
    late = date(2027, 1, 15)
    assert badge_for("answered", True, DUE, None, late, CAL) == Badge("answered")
    assert badge_for("closed", True, DUE, None, late, CAL) == Badge("closed")
    assert badge_for("new", False, DUE, None, late, CAL) == Badge("no_answer")


def _day(offset):
    return DUE + timedelta(days=offset)


listed_cases = st.lists(st.builds(
    SimpleNamespace,
    status=st.sampled_from(["new", "assigned", "answered", "closed"]),
    reply_wanted=st.booleans(),
    due_date=st.integers(-6, 6).map(_day),
    estimated_decision_date=st.none() | st.integers(-6, 12).map(_day),
    reply_due_date=st.none() | st.integers(-6, 6).map(_day),
), max_size=40)


@settings(deadline=None, max_examples=200)
@given(listed_cases, st.integers(-8, 8).map(_day))
def test_a_lists_badges_are_each_cases_own(cases, today):
    """Cases with the same dates share one badge, worked out once: the same as each case's."""
    for number, case in enumerate(cases):
        case.id = number
    assert badges_by_id(cases, today, CAL) == {case.id: case_badge(case, today, CAL)
                                                for case in cases}


def test_overdue_counts_skip_holidays():
    # Due Wednesday 23 December; Christmas Eve to Boxing Day are not banking days.
    badge = badge_for("new", True, date(2026, 12, 23), None, date(2026, 12, 28), CAL)
    assert (badge.state, badge.days) == ("overdue", 1)


@pytest.mark.parametrize(
    ("badge", "words"),
    [
        (Badge("due", 1, DUE), {"en": "due in 1 banking day", "fi": "1 pankkipäivä",
                                "sv": "1 bankdag"}),
        (Badge("overdue", 3, DUE), {"en": "overdue 3 banking days", "fi": "3 pankkipäivää",
                                    "sv": "3 bankdagar"}),
        (Badge("estimate", None, date(2026, 12, 3), True),
         {"en": "estimate 3.12.2026", "fi": "3.12.2026", "sv": "3.12.2026"}),
        (Badge("due_today", 0, DUE, True), {"en": "due today (estimate)"}),
        (Badge("due_today", 0, DUE), {"en": "due today"}),
        (Badge("no_answer"), {"en": "no answer wanted"}),
    ],
)
def test_the_macro_says_the_badge_in_the_readers_language(app, badge, words):
    template = '{% from "macros/badges.html" import badge as b %}{{ b(badge) }}'
    with app.test_request_context():
        for language, text in words.items():
            with force_locale(language):
                html = render_template_string(template, badge=badge)
            assert f'class="badge badge-{badge.state}"' in html
            assert text in html, (language, html)
