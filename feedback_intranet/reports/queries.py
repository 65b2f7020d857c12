"""Report figures, computed in the database with GROUP BY, never by loading cases."""

from datetime import datetime, time, timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import OPEN_STATUSES, Case, Unit

AGE_BUCKETS = ("0–1", "2–3", "4–5", "> 5")


def _earliest_day_within(today, banking_days, calendar):
    """The earliest calendar day from which at most `banking_days` banking days lead to today."""
    day = today
    while calendar.banking_days_between(day - timedelta(days=1), today) <= banking_days:
        day -= timedelta(days=1)
    return day


def age_thresholds(today, calendar):
    """Moments (aware) that split receipts into the age buckets 0–1, 2–3, 4–5 and over 5.

    Age is counted in banking days after the day of receipt up to today, so a bucket is a
    range of receipt times: the database compares instants, no calendar per row.
    """
    return [datetime.combine(_earliest_day_within(today, limit, calendar), time.min,
                             tzinfo=calendar.tz) for limit in (1, 3, 5)]


def backlog(unit_ids, today, calendar):
    """Open cases per unit and age bucket, with the overdue count; most overdue first."""
    first, second, third = age_thresholds(today, calendar)
    bucket = sa.case((Case.received_at >= first, 0), (Case.received_at >= second, 1),
                     (Case.received_at >= third, 2), else_=3)
    overdue = sa.case((sa.and_(Case.reply_wanted.is_(True), Case.effective_due_date < today), 1),
                      else_=0)
    rows = db.session.execute(
        sa.select(Case.current_unit_id, bucket.label("bucket"), sa.func.count(),
                  sa.func.sum(overdue))
        .where(Case.status.in_(OPEN_STATUSES), Case.current_unit_id.in_(unit_ids))
        .group_by(Case.current_unit_id, bucket)
    ).all()
    names = dict(db.session.execute(sa.select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids))).all())
    table = {}
    for unit_id, index, count, overdue_count in rows:
        entry = table.setdefault(unit_id, {"unit": names[unit_id], "buckets": [0, 0, 0, 0],
                                           "overdue": 0, "total": 0})
        entry["buckets"][index] += count
        entry["overdue"] += overdue_count or 0
        entry["total"] += count
    return sorted(table.values(), key=lambda row: (-row["overdue"], -row["total"], row["unit"]))
