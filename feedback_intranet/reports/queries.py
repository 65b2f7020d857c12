"""Report figures: sums of the report summaries of a period's days (reports.summaries), never
counts of cases; the backlog, which is now, counts the open cases."""

import operator
from datetime import datetime, time, timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import (
    OPEN_STATUSES,
    Case,
    CaseEscalation,
    ReportAnswerDay,
    ReportDay,
    ReportForwardDay,
    ReportReforwardDay,
    Unit,
    in_name_order,
)
from ..rules.sort_keys import sort_key
from . import summaries


def report_units(unit_ids, language):
    """The units a report may cover, by name in `language`: the given ones, or with None every
    active unit."""
    query = sa.select(Unit)
    query = query.where(Unit.active) if unit_ids is None else query.where(Unit.id.in_(unit_ids))
    return in_name_order(db.session.scalars(query), language)

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
    """Open cases per unit and age bucket, with the overdue count, by unit id."""
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
    table = {}
    for unit_id, index, count, overdue_count in rows:
        entry = table.setdefault(unit_id, {"buckets": [0, 0, 0, 0], "overdue": 0, "total": 0})
        entry["buckets"][index] += count
        entry["overdue"] += overdue_count or 0
        entry["total"] += count
    return table


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


def _in_period(table, period, unit_ids):
    """The summary rows of the period's days (of receipt) for the units."""
    return table.c.day >= period.start, table.c.day <= period.end, table.c.unit_id.in_(unit_ids)


def _by_week(period, rows, combine):
    """{week index: figures} from (day, figures) rows, figures of a week's days combined."""
    weeks = {}
    for day, figures in rows:
        week = period.week_of(day)
        weeks[week] = combine(weeks[week], figures) if week in weeks else figures
    return weeks


def promise(by, period, unit_ids, today):
    """Promise figures of the cases received in the period, per unit id, topic id or week index
    (`by`). A case awaiting its answer is not yet due while today is not past its deadline."""
    c = ReportDay.__table__.c
    key = {"unit": c.unit_id, "topic": c.value, "week": c.day}[by]

    def total(column):
        return sa.func.coalesce(sa.func.sum(column), 0)

    rows = db.session.execute(
        sa.select(key, total(c.owed), total(c.kept),
                  total(sa.case((c.deadline >= today, c.awaiting), else_=0)),
                  total(c.noticed), total(c.by_estimate))
        # Every case is in one topic's row: the topic rows hold each case once.
        .where(c.dimension == "topic", *_in_period(ReportDay.__table__, period, unit_ids))
        .group_by(key)
    ).all()
    figures = [(row[0], PromiseFigures(*row[1:])) for row in rows]
    if by == "week":
        return _by_week(period, figures, PromiseFigures.__add__)
    return {int(value) if by == "topic" else value: each for value, each in figures}


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


def escalations(period, unit_ids):
    """Cases escalated as overdue in the period, by the day of escalation: ({unit id: count},
    {week index: count}); a case escalated in two units counts in each. One statement, each half
    read off the (unit, day) index."""
    c = CaseEscalation.__table__.c
    where = (c.unit_id.in_(unit_ids), c.escalated_on >= period.start, c.escalated_on <= period.end)
    no_unit, no_day = sa.cast(sa.null(), sa.Integer), sa.cast(sa.null(), sa.Date)
    rows = db.session.execute(sa.union_all(
        sa.select(c.unit_id, no_day, sa.func.count()).where(*where).group_by(c.unit_id),
        sa.select(no_unit, c.escalated_on, sa.func.count()).where(*where).group_by(c.escalated_on),
    )).all()
    by_unit = {unit_id: count for unit_id, _day, count in rows if unit_id is not None}
    by_day = [(day, count) for unit_id, day, count in rows if unit_id is None]
    return by_unit, _by_week(period, by_day, operator.add)


def answer_days(by, period, unit_ids):
    """Per unit id or reply channel (`by`): (banking days to the first answer, number of cases)
    pairs of the cases received in the period."""
    c = ReportAnswerDay.__table__.c
    key = {"unit": c.unit_id, "channel": c.channel}[by]
    rows = db.session.execute(
        sa.select(key, c.banking_days, sa.func.sum(c.count))
        .where(*_in_period(ReportAnswerDay.__table__, period, unit_ids))
        .group_by(key, c.banking_days)
    ).all()
    counts = {}
    for value, days, count in rows:
        counts.setdefault(value if by == "unit" else value or None, []).append((days, count))
    return counts


def _volume_value(dimension, value):
    if dimension == "topic":
        return int(value)
    return value or None  # "": no reply channel, no answer wanted


def volumes(period, unit_ids):
    """{dimension: {value: cases received in each week}} for the topic, segment, reply channel
    and intake channel of the cases received in the period."""
    c = ReportDay.__table__.c
    weeks = len(period.weeks())
    counts = {dimension: {} for dimension in summaries.DIMENSIONS}
    for dimension, value, day, received in db.session.execute(
            sa.select(c.dimension, c.value, c.day, sa.func.sum(c.received))
            .where(c.dimension.in_(summaries.DIMENSIONS),
                   *_in_period(ReportDay.__table__, period, unit_ids))
            .group_by(c.dimension, c.value, c.day)):
        per_week = counts[dimension].setdefault(_volume_value(dimension, value), [0] * weeks)
        per_week[period.week_of(day)] += received
    return counts


def forwarding(period, unit_ids, language):
    """How cases received in the period moved: (from unit, to unit, forwards), the most first,
    units named in `language`, and the number of cases forwarded more than once. Units see the
    moves into and out of them."""
    c = ReportForwardDay.__table__.c
    source, target = sa.orm.aliased(Unit), sa.orm.aliased(Unit)
    sums = (sa.select(c.from_unit_id, c.to_unit_id, sa.func.sum(c.count).label("count"))
            .where(c.day >= period.start, c.day <= period.end,
                   sa.or_(c.from_unit_id.in_(unit_ids), c.to_unit_id.in_(unit_ids)))
            .group_by(c.from_unit_id, c.to_unit_id).subquery())
    rows = db.session.execute(
        sa.select(source, target, sums.c.count)
        .join(source, source.id == sums.c.from_unit_id)
        .join(target, target.id == sums.c.to_unit_id)
    ).all()
    moves = sorted(((from_.name_in(language), to.name_in(language), count)
                    for from_, to, count in rows),
                   key=lambda move: (-move[2], sort_key(move[0]), sort_key(move[1])))
    # Summed per set of units involved; a set counts when it holds one of the chosen units.
    r = ReportReforwardDay.__table__.c
    chosen = [summaries.units_key([unit_id]) for unit_id in unit_ids]
    more_than_once = sum(
        count for units, count in db.session.execute(
            sa.select(r.units, sa.func.sum(r.count))
            .where(r.day >= period.start, r.day <= period.end).group_by(r.units))
        if any(unit in units for unit in chosen))
    return moves, more_than_once
