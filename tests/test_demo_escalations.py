"""The demo's history escalates the cases that were overdue, as the morning run would have, and
only those. (Before the report tests in the run: a demo load's churn left for autovacuum should
not land just before test_scale's plans.)"""

from datetime import date, datetime

import sqlalchemy as sa

from feedback_intranet.demo import seed_demo
from feedback_intranet.extensions import db
from feedback_intranet.models import OPEN_STATUSES, Case, CaseEscalation
from feedback_intranet.rules.banking_days import BankingCalendar

from .conftest import DEFAULT_NOW, HELSINKI


def at(month, day, hour=10):
    return datetime(2026, month, day, hour, 0, tzinfo=HELSINKI)


def test_the_demo_escalates_the_cases_that_were_overdue_and_only_those(data):
    """A case owed an answer is escalated on the first banking day after its due date when it
    was still open that morning: answered that day or later, or not yet. The demo forwards a
    case within a day of its receipt, so the unit holding it then holds it still."""
    calendar = BankingCalendar([], HELSINKI)
    seed_demo(DEFAULT_NOW, calendar, cases=500)
    db.session.commit()
    today = DEFAULT_NOW.date()
    escalations = {row.case_id: row for row in db.session.scalars(sa.select(CaseEscalation))}
    kinds = set()
    for case in db.session.scalars(sa.select(Case)):
        day = calendar.add_banking_days(case.effective_due_date, 1)
        open_then = case.status in OPEN_STATUSES or (
            case.first_answer_on is not None and case.first_answer_on >= day)
        if case.reply_wanted and day <= today and open_then:
            escalation = escalations.pop(case.id)
            assert (escalation.unit_id, escalation.escalated_on) == (case.current_unit_id, day)
            kinds.add("open" if case.status in OPEN_STATUSES else "answered late")
    assert escalations == {}  # none for a case that was not overdue
    assert kinds == {"open", "answered late"}


def test_the_demo_escalates_nothing_before_the_first_banking_day_overdue(data):
    """On Christmas Day nothing received from the 18th on is escalated: due on the 23rd at the
    earliest, its first banking day overdue is the 28th."""
    moment = datetime(2026, 12, 25, 10, tzinfo=HELSINKI)
    seed_demo(moment, BankingCalendar([], HELSINKI), cases=200)
    db.session.commit()
    days = db.session.scalars(sa.select(CaseEscalation.escalated_on).distinct()).all()
    assert days and max(days) <= date(2026, 12, 23)
    received_from_18th = sa.select(Case.id).where(Case.received_at >= at(12, 18, 0))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(received_from_18th.subquery()))
    assert not db.session.scalar(sa.select(sa.func.count()).select_from(CaseEscalation).where(
        CaseEscalation.case_id.in_(received_from_18th)))
