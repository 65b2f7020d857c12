"""Report figures, computed in the database with GROUP BY, never by loading cases."""

from datetime import datetime, time, timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import OPEN_STATUSES, Case, CaseEvent, EventKind, Resolution, Unit


def report_units(unit_ids):
    """The units a report may cover: the given ones, or with None every active unit."""
    query = sa.select(Unit).order_by(Unit.name)
    query = query.where(Unit.active) if unit_ids is None else query.where(Unit.id.in_(unit_ids))
    return db.session.scalars(query).all()

AGE_BUCKETS = ("0–1", "2–3", "4–5", "> 5")
# Closed this way, a case owed the customer no answer: the promise does not count it.
NOT_OWED = (Resolution.NO_ANSWER_WANTED, Resolution.DUPLICATE, Resolution.WITHDRAWN)
# The unit whose figures a case adds to: the one that answered it, else the one holding it.
RESPONSIBLE_UNIT = sa.func.coalesce(Case.first_answer_unit_id, Case.current_unit_id)


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


def nearest_rank(counts, percent):
    """The `percent` percentile of values given as (value, count) pairs, by the nearest-rank
    method: the smallest value with at least ceil(percent/100 × n) values at or below it."""
    total = sum(count for _value, count in counts)
    if not total:
        return None
    rank = max(1, -(-percent * total // 100))
    seen = 0
    for value, count in sorted(counts):
        seen += count
        if seen >= rank:
            return value
    raise AssertionError("unreachable: the ranks add up to the total")


def _received_in(period, unit_ids, tz):
    start, end = period.bounds(tz)
    return (Case.received_at >= start, Case.received_at < end, RESPONSIBLE_UNIT.in_(unit_ids))


def week_index(period, tz):
    """The week of the period a case was received in (0 = the first), compared as instants."""
    boundaries = period.week_boundaries(tz)
    if not boundaries:
        return sa.literal(0)
    return sa.case(*[(Case.received_at < moment, index) for index, moment in enumerate(boundaries)],
                   else_=len(boundaries))


def _promise_columns(today):
    """Sums over cases owed an answer: kept, broken, still pending, noticed, answered by estimate.

    Kept: answered by the due date, or an interim notice went out by the due date and the
    answer came by the (last) estimate. Pending: open, unanswered, and the deadline not passed.
    """
    owed = sa.and_(Case.reply_wanted.is_(True),
                   sa.or_(Case.resolution.is_(None), Case.resolution.not_in(NOT_OWED)))
    noticed_in_time = Case.interim_notice_on <= Case.due_date
    kept = sa.or_(Case.first_answer_on <= Case.due_date,
                  sa.and_(noticed_in_time, Case.first_answer_on <= Case.estimated_decision_date))
    deadline_ahead = sa.or_(Case.due_date >= today,
                            sa.and_(noticed_in_time, Case.estimated_decision_date >= today))
    pending = sa.and_(Case.first_answer_on.is_(None), Case.status.in_(OPEN_STATUSES),
                      deadline_ahead)
    noticed = Case.interim_notice_on.is_not(None)

    def total(condition):
        return sa.func.coalesce(sa.func.sum(sa.case((sa.and_(owed, condition), 1), else_=0)), 0)

    return (total(sa.true()), total(kept), total(pending), total(noticed),
            total(sa.and_(noticed, Case.first_answer_on <= Case.estimated_decision_date)))


def promise(key, period, unit_ids, today, tz):
    """Promise figures per value of `key` (a column), for cases received in the period."""
    rows = db.session.execute(
        sa.select(key, *_promise_columns(today))
        .where(*_received_in(period, unit_ids, tz)).group_by(key)
    ).all()
    return {row[0]: PromiseFigures(*row[1:]) for row in rows}


class PromiseFigures:
    def __init__(self, owed, kept, pending, noticed, by_estimate):
        self.owed, self.kept, self.pending = owed, kept, pending
        self.noticed, self.by_estimate = noticed, by_estimate
        self.broken = owed - kept - pending

    @property
    def decided(self):
        return self.kept + self.broken

    @property
    def kept_percent(self):
        """Kept out of the cases whose outcome is known; None before any is."""
        return round(100 * self.kept / self.decided) if self.decided else None

    def __add__(self, other):
        return PromiseFigures(self.owed + other.owed, self.kept + other.kept,
                              self.pending + other.pending, self.noticed + other.noticed,
                              self.by_estimate + other.by_estimate)


def answer_days(key, period, unit_ids, tz):
    """Per value of `key`: (banking days to the first answer, number of cases) pairs."""
    rows = db.session.execute(
        sa.select(key, Case.first_answer_banking_days, sa.func.count())
        .where(*_received_in(period, unit_ids, tz), Case.first_answer_banking_days.is_not(None))
        .group_by(key, Case.first_answer_banking_days)
    ).all()
    counts = {}
    for value, days, count in rows:
        counts.setdefault(value, []).append((days, count))
    return counts


def volumes(period, unit_ids, tz):
    """Cases received per week and topic, segment, reply channel and intake channel."""
    week = week_index(period, tz).label("week")
    return db.session.execute(
        sa.select(week, Case.topic_id, Case.segment, Case.reply_channel, Case.intake_channel,
                  sa.func.count())
        .where(*_received_in(period, unit_ids, tz))
        .group_by(week, Case.topic_id, Case.segment, Case.reply_channel, Case.intake_channel)
    ).all()


# Written into the statement, not bound: only then can the planners match the partial index
# of forwards (a prepared statement's generic plan cannot know the kind).
FORWARDED = CaseEvent.kind == sa.literal(EventKind.FORWARDED, CaseEvent.kind.type,
                                         literal_execute=True)


def forwarding(period, unit_ids, tz):
    """How cases received in the period moved: (from unit, to unit, forwards) by name, and the
    number of cases forwarded more than once. Units see the moves into and out of them."""
    start, end = period.bounds(tz)
    # Led by the period's cases (the receipt index), then each case's events (its index).
    received = sa.select(Case.id).where(Case.received_at >= start, Case.received_at < end)
    forwards = (CaseEvent.case_id.in_(received), FORWARDED)
    involves = sa.or_(CaseEvent.from_unit_id.in_(unit_ids), CaseEvent.to_unit_id.in_(unit_ids))
    source, target = sa.orm.aliased(Unit), sa.orm.aliased(Unit)
    moves = db.session.execute(
        sa.select(source.name, target.name, sa.func.count())
        .select_from(CaseEvent)
        .join(source, source.id == CaseEvent.from_unit_id)
        .join(target, target.id == CaseEvent.to_unit_id)
        .where(*forwards, involves)
        .group_by(source.id, source.name, target.id, target.name)
        .order_by(sa.func.count().desc(), source.name, target.name)
    ).all()
    repeated = (
        sa.select(CaseEvent.case_id).where(*forwards)
        .group_by(CaseEvent.case_id)
        .having(sa.func.count() > 1, sa.func.max(sa.case((involves, 1), else_=0)) == 1)
    ).subquery()
    more_than_once = db.session.scalar(sa.select(sa.func.count()).select_from(repeated))
    return moves, more_than_once
