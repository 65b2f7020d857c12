"""Report summaries: the figures of each day's cases, kept like the inbox counters.

Every commit that adds, changes or removes a case, or a forward, moves the summaries it leaves and
enters, in the same transaction: per local day of receipt (the bank's time zone, so a period's
days are exactly the instants `Period.bounds` gives), unit, topic, segment, reply and intake
channel (`ReportDay`), the days to the first answer (`ReportAnswerDay`), the forwards between
units (`ReportForwardDay`) and the cases forwarded more than once by the units involved
(`ReportReforwardDay`). A report then sums the rows of the period's days. A row that no case
makes any more is deleted.

The one definition of what a case adds is `case_figures` (and `forward_figures`): the listeners
apply it to a change's before and after, and `rebuild` to every case (migration 0023, the demo
loader, `reports check --fix`); `differences` compares the kept rows with a fresh count.
Writes past the ORM must call `rebuild`; none of the app's own (retention, re-masking, the
topics' sort keys) touches a column that a figure rests on.
"""

from itertools import groupby

import sqlalchemy as sa

from .. import clock, running_totals
from ..extensions import listen_to_sessions
from ..models import (
    OPEN_STATUSES,
    Case,
    CaseEvent,
    CaseStatus,
    EventKind,
    ReportAnswerDay,
    ReportDay,
    ReportForwardDay,
    ReportReforwardDay,
    Resolution,
)
from ..rules.banking_days import local_date

# Closed this way, a case owed the customer no answer: the promise does not count it.
NOT_OWED = (Resolution.NO_ANSWER_WANTED, Resolution.DUPLICATE, Resolution.WITHDRAWN)
# The dimensions of ReportDay and the case column each one is.
DIMENSIONS = {"topic": "topic_id", "segment": "segment", "reply_channel": "reply_channel",
              "intake_channel": "intake_channel"}
# What case_figures reads of a case.
CASE_COLUMNS = ("received_at", "current_unit_id", "first_answer_unit_id", "topic_id", "segment",
                "reply_channel", "intake_channel", "reply_wanted", "resolution", "status",
                "due_date", "estimated_decision_date", "interim_notice_on", "first_answer_on",
                "first_answer_banking_days", "first_answer_channel")
# Each table with its key columns and its counts, in the order a commit writes them.
TABLES = (
    (ReportDay.__table__, ("dimension", "day", "unit_id", "value", "deadline"),
     ("received", "owed", "kept", "awaiting", "noticed", "by_estimate")),
    (ReportAnswerDay.__table__, ("day", "unit_id", "channel", "banking_days"), ("count",)),
    (ReportForwardDay.__table__, ("day", "from_unit_id", "to_unit_id"), ("count",)),
    (ReportReforwardDay.__table__, ("day", "units"), ("count",)),
)
_DAY, _ANSWER, _FORWARD, _REFORWARD = range(len(TABLES))
# Written into the statement, not bound: only then can the planners use the partial index of
# forwards (a prepared statement's generic plan cannot know the kind).
FORWARDED = CaseEvent.kind == sa.literal(EventKind.FORWARDED, CaseEvent.kind.type,
                                         literal_execute=True)
_PENDING = "report_summary_deltas"


def _text(value):
    """A key value as stored: an enum's value, an id as digits, "" for none."""
    return "" if value is None else str(getattr(value, "value", value))


def units_key(unit_ids):
    """The units a case's forwards involve, as ReportReforwardDay keys them: ",3,7,"."""
    return "," + "".join(f"{unit_id}," for unit_id in sorted(unit_ids))


def case_figures(case, tz):
    """What a case (a mapping of CASE_COLUMNS) adds: (table, key, counts) triples."""
    day = local_date(case["received_at"], tz)
    unit_id = case["first_answer_unit_id"] or case["current_unit_id"]
    owed = bool(case["reply_wanted"]) and case["resolution"] not in NOT_OWED
    due, estimate = case["due_date"], case["estimated_decision_date"]
    notice_on, answer_on = case["interim_notice_on"], case["first_answer_on"]
    notice_in_time = notice_on is not None and notice_on <= due
    by_estimate = answer_on is not None and estimate is not None and answer_on <= estimate
    kept = answer_on is not None and (answer_on <= due or (notice_in_time and by_estimate))
    awaiting = owed and answer_on is None and CaseStatus(case["status"]) in OPEN_STATUSES
    # Not yet due while today is not past this; the day itself where today does not matter.
    deadline = day
    if awaiting:
        deadline = max(due, estimate) if notice_in_time and estimate is not None else due
    noticed = notice_on is not None
    counts = (1, int(owed), int(owed and kept), int(awaiting), int(owed and noticed),
              int(owed and noticed and by_estimate))
    figures = [(_DAY, (dimension, day, unit_id, _text(case[column]), deadline), counts)
               for dimension, column in DIMENSIONS.items()]
    if case["first_answer_banking_days"] is not None:
        figures.append((_ANSWER, (day, unit_id, _text(case["first_answer_channel"]),
                                  case["first_answer_banking_days"]), (1,)))
    return figures


def forward_figures(day, forwards):
    """What the forwards of a case received on `day`, as (from unit, to unit) pairs, add."""
    figures = [(_FORWARD, (day, source, target), (1,)) for source, target in forwards
               if source is not None and target is not None]
    if len(forwards) > 1:
        involved = {unit_id for pair in forwards for unit_id in pair if unit_id is not None}
        figures.append((_REFORWARD, (day, units_key(involved)), (1,)))
    return figures


class _Totals(dict):
    """{(table, key): [counts]}: figures added and taken away."""

    def add(self, figures, sign=1):
        for table, key, counts in figures:
            total = self.setdefault((table, key), [0] * len(counts))
            for position, count in enumerate(counts):
                total[position] += sign * count


def _values(case, when):
    """The case's CASE_COLUMNS before this flush or now."""
    state = sa.inspect(case)
    values = {}
    for name in CASE_COLUMNS:
        history = state.attrs[name].history
        if history.added or history.deleted:
            # active_history on these columns: an old value is always loaded; none means None.
            changed = history.deleted if when == "before" else history.added
            values[name] = changed[0] if changed else None
        else:
            values[name] = getattr(case, name)  # loads it if never read: it is what is stored
    return values


def _note_changes(session, _context):
    tz = clock.timezone()
    totals = session.info.setdefault(_PENDING, _Totals())
    for case in session.new:
        if isinstance(case, Case):
            totals.add(case_figures(_values(case, "after"), tz))
    for case in session.dirty:
        if isinstance(case, Case):
            before, after = _values(case, "before"), _values(case, "after")
            if before != after:
                totals.add(case_figures(before, tz), -1)
                totals.add(case_figures(after, tz))
    for case in session.deleted:
        if isinstance(case, Case):
            totals.add(case_figures(_values(case, "before"), tz), -1)
    _note_forwards(session, tz, totals)


def _is_forward(obj):
    return isinstance(obj, CaseEvent) and obj.kind == EventKind.FORWARDED


def _note_forwards(session, tz, totals):
    """A case's forwards before and after the flush, for the cases whose forwards or day of
    receipt changed: read back from the database, which holds the flush's writes."""
    added = [event for event in session.new if _is_forward(event)]
    removed = [event for event in session.deleted if _is_forward(event)]
    flushed = {case.id: case for group in (session.new, session.dirty, session.deleted)
               for case in group if isinstance(case, Case)}
    moved = {case_id for case_id, case in flushed.items()
             if case not in session.new and sa.inspect(case).attrs.received_at.history.deleted}
    case_ids = {event.case_id for event in added + removed} | moved
    if not case_ids:
        return
    connection = session.connection()
    # A case of the flush is as it now is in the session; only the others are read back.
    received = {case_id: case.received_at for case_id, case in flushed.items()
                if case_id in case_ids and case not in session.deleted}
    unread = case_ids - flushed.keys()
    if unread:
        received.update(connection.execute(
            sa.select(Case.id, Case.received_at).where(Case.id.in_(unread))).all())
    now = {case_id: [] for case_id in case_ids}
    before = {case_id: [] for case_id in case_ids}
    added_ids = {event.id for event in added}
    for event_id, case_id, source, target in connection.execute(
            sa.select(CaseEvent.id, CaseEvent.case_id, CaseEvent.from_unit_id, CaseEvent.to_unit_id)
            .where(CaseEvent.case_id.in_(case_ids), FORWARDED).order_by(CaseEvent.id)):
        now[case_id].append((source, target))
        if event_id not in added_ids:
            before[case_id].append((source, target))
    for event in removed:
        before[event.case_id].append((event.from_unit_id, event.to_unit_id))
    for case_id in case_ids:
        case = flushed.get(case_id)
        if case is None:
            received_before = received[case_id]
        elif case in session.new:
            received_before = None
        else:
            received_before = _values(case, "before")["received_at"]
        if received_before is not None:
            totals.add(forward_figures(local_date(received_before, tz), before[case_id]), -1)
        if case_id in received:
            totals.add(forward_figures(local_date(received[case_id], tz), now[case_id]))


def _apply(session):
    # The commit's own writes first, then each table's rows (running_totals.add).
    session.flush()
    totals = session.info.pop(_PENDING, None)
    if not totals:
        return
    connection = session.connection()
    for index, entries in groupby(sorted(totals.items()), key=lambda entry: entry[0][0]):
        table, key_columns, count_columns = TABLES[index]
        running_totals.add(connection, table, key_columns, count_columns,
                           {key: counts for (_index, key), counts in entries})


def _forget(session):
    session.info.pop(_PENDING, None)


def register():
    """Listen to every ORM session; called by the app factory after the inbox counters' listeners
    and before the stamps' (every commit locks their rows in that order)."""
    listen_to_sessions(("after_flush", _note_changes), ("before_commit", _apply),
                       ("after_rollback", _forget))


def counted(connection, tz):
    """The summaries as the cases make them now: every case and forward read once, in batches."""
    totals = _Totals()
    columns = [Case.__table__.c[name] for name in CASE_COLUMNS]
    streamed = {"stream_results": True, "yield_per": 20000}
    for rows in connection.execute(sa.select(*columns).execution_options(**streamed)) \
            .mappings().partitions():
        for row in rows:
            totals.add(case_figures(row, tz))
    forwards = connection.execute(
        sa.select(CaseEvent.case_id, Case.received_at, CaseEvent.from_unit_id, CaseEvent.to_unit_id)
        .join(Case, Case.id == CaseEvent.case_id).where(FORWARDED)
        .order_by(CaseEvent.case_id, CaseEvent.id).execution_options(**streamed))
    for _case_id, events in groupby(forwards, key=lambda row: row[0]):
        events = list(events)
        totals.add(forward_figures(local_date(events[0][1], tz),
                                   [(source, target) for _id, _at, source, target in events]))
    return {entry: counts for entry, counts in totals.items() if any(counts)}


def kept(connection):
    """{(table, key): [counts]} as the summaries hold them."""
    rows = {}
    for index, (table, key_columns, count_columns) in enumerate(TABLES):
        for row in connection.execute(sa.select(table)).mappings():
            rows[index, tuple(row[name] for name in key_columns)] = [row[name]
                                                                     for name in count_columns]
    return rows


def rebuild(connection, tz):
    """Count every case again, in the connection's transaction (after writes past the ORM)."""
    figures = counted(connection, tz)
    for index, (table, key_columns, count_columns) in enumerate(TABLES):
        connection.execute(table.delete())
        rows = [{**dict(zip(key_columns, key, strict=True)),
                 **dict(zip(count_columns, counts, strict=True))}
                for (table_index, key), counts in sorted(figures.items()) if table_index == index]
        for start in range(0, len(rows), 10000):
            connection.execute(table.insert(), rows[start:start + 10000])


def differences(connection, tz):
    """{(table name, key): (counted, kept)} wherever the summaries differ from the cases."""
    fresh, held = counted(connection, tz), kept(connection)
    return {(TABLES[index][0].name, key): (fresh.get((index, key)), held.get((index, key)))
            for index, key in fresh.keys() | held.keys()
            if fresh.get((index, key)) != held.get((index, key))}
