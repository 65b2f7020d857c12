"""Inbox counters: how many cases each unit lists, kept like a bank keeps balances.

Every commit that adds, changes or removes a case moves the counters it leaves and enters, in the
same transaction: one row per unit, status, holder, wish for an answer and due date
(`InboxCount`). An inbox's filter counts are then sums over the unit's few rows, and "overdue"
and "due today" follow the calendar by the due date in the key, with nothing to rewrite at
midnight. Closed cases are not counted: no inbox lists them.

Cases overdue since before yesterday are counted on one row per unit, status, holder and wish,
due `CARRIED`, as a bank carries a balance forward instead of its old days' entries: every
figure reads those days alike (before today), and without this a unit with a long backlog had
a row for every day of it. Changes write such cases there at once; `carry_forward` (nightly)
moves the days that have since gone by.

Writes past the ORM that change what is counted call `rebuild` (the demo loader); `differences`
recomputes the counters from the cases, for the `counters check` command and the tests.
"""

from collections import Counter
from datetime import timedelta

import sqlalchemy as sa

from .. import clock, running_totals
from ..extensions import db, listen_to_sessions
from ..models import OPEN_STATUSES, Case, CaseStatus, InboxCount, Membership
from ..reads import read
from ..rules.banking_days import FIRST_DAY

COUNTED = (*OPEN_STATUSES, CaseStatus.ANSWERED)
_KEYS = ("current_unit_id", "status", "assignee_id", "reply_wanted", "effective_due_date")
# InboxCount's key columns, in the order of _KEYS.
_COLUMNS = ("unit_id", "status", "holder_id", "reply_wanted", "due")
_PENDING = "inbox_count_deltas"
NOBODY = 0  # the holder of cases nobody holds, in the key
CARRIED = FIRST_DAY  # the due date of the rows that carry the days before `carried_before`


def carried_before(today):
    """The first due date still counted on a row of its own. A day's margin: a request begun
    before midnight still reads yesterday as today, and must find yesterday's cases apart."""
    return today - timedelta(days=1)


def _key(unit_id, status, holder_id, reply_wanted, due, carried_from):
    if unit_id is None or status is None or due is None or CaseStatus(status) not in COUNTED:
        return None
    return (unit_id, CaseStatus(status).value, holder_id or NOBODY, bool(reply_wanted),
            CARRIED if due < carried_from else due)


def _keys_before_and_after(case, state, carried_from):
    """The counter the case was in before this flush and the one it is in now (None: none)."""
    before, after = [], []
    for name in _KEYS:
        history = state.attrs[name].history
        if history.added or history.deleted:
            # active_history on these columns: an old value is always loaded; none means None.
            before.append(history.deleted[0] if history.deleted else None)
            after.append(history.added[0] if history.added else None)
        else:
            value = getattr(case, name)  # loads it if it was never read: it is what is stored
            before.append(value)
            after.append(value)
    return _key(*before, carried_from), _key(*after, carried_from)


def _note_changes(session, _context):
    new, dirty, deleted = ([obj for obj in group if isinstance(obj, Case)]
                           for group in (session.new, session.dirty, session.deleted))
    if not (new or dirty or deleted):
        return  # most flushes (an event, a token, an answer) change no case
    deltas = session.info.setdefault(_PENDING, Counter())
    carried_from = carried_before(clock.today())
    changes = [(None, _key(*(getattr(obj, name) for name in _KEYS), carried_from))
               for obj in new]
    changes += [_keys_before_and_after(obj, sa.inspect(obj), carried_from) for obj in dirty]
    changes += [(_keys_before_and_after(obj, sa.inspect(obj), carried_from)[0], None)
                for obj in deleted]
    for before, after in changes:
        if before != after:
            if before is not None:
                deltas[before] -= 1
            if after is not None:
                deltas[after] += 1


def _apply(session):
    # The commit's own writes first; their case rows are locked before any counter.
    session.flush()
    deltas = session.info.pop(_PENDING, None)
    if deltas:
        running_totals.add(session.connection(), InboxCount.__table__, _COLUMNS, ("count",),
                           {key: (delta,) for key, delta in deltas.items()})


def _forget(session):
    session.info.pop(_PENDING, None)


def register():
    """Listen to every ORM session; called by the app factory before the stamps' listeners (the
    counters' rows are then locked before the stamps', in every commit)."""
    # After each flush, when a holder or unit set through its relationship has its id in the
    # column too; the attributes' history still tells what each was before.
    listen_to_sessions(("after_flush", _note_changes), ("before_commit", _apply),
                       ("after_rollback", _forget))


def _from_cases():
    """The counters as the cases make them now: one grouped read."""
    # A literal, not a parameter: PostgreSQL matches the grouped expression only when it is the
    # same text in the select list.
    holder = sa.func.coalesce(Case.assignee_id, sa.literal_column(str(NOBODY)))
    key = (Case.current_unit_id, Case.status, holder, Case.reply_wanted, Case.effective_due_date)
    return sa.select(*key, sa.func.count()).where(Case.status.in_(COUNTED)).group_by(*key)


def _counted(carried_from):
    """The counters as the cases make them now, the days before `carried_from` carried."""
    counted = Counter()
    for *key, count in db.session.execute(_from_cases()):
        counted[_key(*key, carried_from)] += count
    return counted


def rebuild():
    """Count every case again, in the caller's transaction (after writes past the ORM)."""
    table = InboxCount.__table__
    db.session.execute(table.delete())
    counted = _counted(carried_before(clock.today()))
    if counted:
        db.session.execute(table.insert(), [{**dict(zip(_COLUMNS, key, strict=True)), "count": n}
                                            for key, n in sorted(counted.items())])


def carry_forward(today, limit=None):
    """Move the counts of due dates before `carried_before(today)` onto the CARRIED rows (at most
    `limit` rows), in the caller's transaction; the number of rows moved. Each row moves onto
    its own group's carried row in the same statement, so every figure stays as it was at every
    commit (and no stamp moves). Written as changes like any commit's, in key order: a commit
    moving the same rows meanwhile is added to, never overwritten, and never waits for this one
    in a circle."""
    c = InboxCount.__table__.c
    rows = db.session.execute(
        sa.select(c.unit_id, c.status, c.holder_id, c.reply_wanted, c.due, c.count)
        .where(c.due < carried_before(today), c.due != CARRIED, c.count != 0)
        .order_by(c.unit_id, c.status, c.holder_id, c.reply_wanted, c.due).limit(limit)).all()
    moves = Counter()
    for *group, due, count in rows:
        moves[(*group, due)] -= count
        moves[(*group, CARRIED)] += count
    running_totals.add(db.session.connection(), InboxCount.__table__, _COLUMNS, ("count",),
                       {key: (count,) for key, count in moves.items()})
    return len(rows)


def differences():
    """{key: (counted, kept)} wherever the kept counters differ from the cases; empty when right.
    The days before `carried_before` are compared on their CARRIED rows, where both sides keep
    them (a day gone by stays on its own row until the next carry_forward)."""
    carried_from = carried_before(clock.today())
    counted, kept = _counted(carried_from), Counter()
    for row in db.session.scalars(sa.select(InboxCount)):
        kept[_key(row.unit_id, row.status, row.holder_id, row.reply_wanted, row.due,
                  carried_from)] += row.count
    return {key: (counted[key], kept[key]) for key in counted.keys() | kept.keys()
            if counted[key] != kept[key]}


def _total(name, *conditions):
    c = InboxCount.__table__.c
    return sa.func.coalesce(sa.func.sum(sa.case((sa.and_(*conditions), c.count), else_=0)),
                            0).label(name)


def _open_awaiting():
    c = InboxCount.__table__.c
    return c.status.in_([s.value for s in OPEN_STATUSES]), c.reply_wanted.is_(True)


def backlog(today):
    """Per unit, as a subquery: its open cases awaiting an answer, those overdue, and those
    nobody holds (the inbox's own definitions), summed over every unit's counters at once."""
    c = InboxCount.__table__.c
    return (sa.select(c.unit_id, _total("open", *_open_awaiting()),
                      _total("overdue", *_open_awaiting(), c.due < today),
                      _total("unassigned", c.status == CaseStatus.NEW.value))
            .group_by(c.unit_id).subquery())


def unit_counts(unit_id, today, next_bd):
    """Every inbox filter's count for one unit, with "mine" for each holder: ({filter: count},
    {holder id: cases held}), from sums per holder over the unit's counter rows in one
    statement. The same for everyone, so one cached figure serves every member. `next_bd` is
    the banking day after `today` (for "needs attention")."""
    counts, held = dict.fromkeys(_SUMMED, 0), {}
    for holder_id, assigned, *sums in read(
            _PER_HOLDER, {"unit_id": unit_id, "today": today, "next_bd": next_bd}):
        held[holder_id] = int(assigned)
        for name, value in zip(_SUMMED, sums, strict=True):
            counts[name] += int(value)
    return counts, held


_SUMMED = ("open", "unassigned", "overdue", "attention", "due_today", "no_answer", "answered")


def _needs_attention(today, next_bd):
    """NEEDS ATTENTION on the counters: overdue (open, awaiting an answer, due before today),
    or long unassigned (nobody holds it, due on the next banking day or before). Said as the
    two statuses' own conditions, which cover exactly these cases and neither twice."""
    c = InboxCount.__table__.c
    return sa.or_(
        sa.and_(c.status == CaseStatus.NEW.value, c.due <= next_bd),
        sa.and_(c.status == CaseStatus.ASSIGNED.value, c.reply_wanted.is_(True), c.due < today))


def _per_holder_statement():
    c = InboxCount.__table__.c
    is_open, waits = _open_awaiting()
    today = sa.bindparam("today", type_=sa.Date)
    next_bd = sa.bindparam("next_bd", type_=sa.Date)
    return sa.select(
        c.holder_id,
        _total("assigned", c.status == CaseStatus.ASSIGNED.value),
        _total("open", is_open, waits),
        _total("unassigned", c.status == CaseStatus.NEW.value),
        _total("overdue", is_open, waits, c.due < today),
        _total("attention", _needs_attention(today, next_bd)),
        _total("due_today", is_open, waits, c.due == today),
        _total("no_answer", is_open, c.reply_wanted.is_(False)),
        _total("answered", c.status == CaseStatus.ANSWERED.value),
    ).where(c.unit_id == sa.bindparam("unit_id")).group_by(c.holder_id)


# Built once: constructing the sums costs more than running them.
_PER_HOLDER = _per_holder_statement()


def workload(unit_id, today):
    """{holder id: (cases held, of them overdue, due today)} of a unit, summed per holder; only
    those who hold any. (A case changed after its due date went by, before the night carried
    that day forward, leaves +1 on the day's row and -1 on the carried one of its old holder.)"""
    c = InboxCount.__table__.c
    waits = c.reply_wanted.is_(True)
    rows = read(
        sa.select(c.holder_id, sa.func.sum(c.count), _total("overdue", waits, c.due < today),
                  _total("due_today", waits, c.due == today))
        .where(c.unit_id == unit_id, c.status == CaseStatus.ASSIGNED.value)
        .group_by(c.holder_id).having(sa.func.sum(c.count) != 0))
    return {holder_id or None: (int(held), int(overdue), int(due_today))
            for holder_id, held, overdue, due_today in rows}


def open_count(unit_id):
    """The unit's open cases that await an answer (its "Open" filter), for its tab."""
    c = InboxCount.__table__.c
    return int(db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(c.count), 0))
        .where(c.unit_id == unit_id, *_open_awaiting())))


def _needing_attention(today, next_bd, *, unit_ids=(), led_by=None):
    """The counter rows (unit id, count) of NEEDS ATTENTION in `unit_ids`, or in the units the
    user `led_by` leads: one read per status, each along the counters' key from the unit and
    status on (SQLite reads the units' keys only when joined from the memberships, not from
    an IN of them)."""
    c = InboxCount.__table__.c

    def rows(*conditions):
        select = sa.select(c.unit_id, c.count)
        if led_by is None:
            return select.where(c.unit_id.in_(unit_ids), *conditions)
        return (select.join_from(Membership, InboxCount, c.unit_id == Membership.unit_id)
                .where(Membership.user_id == led_by, Membership.is_team_lead.is_(True),
                       *conditions))

    return sa.union_all(
        rows(c.status == CaseStatus.NEW.value, c.due <= next_bd),
        rows(c.status == CaseStatus.ASSIGNED.value, c.reply_wanted.is_(True), c.due < today),
    ).subquery()


def needs_attention(unit_ids, today, next_bd):
    """{unit id: cases that need attention} of the units that have any (NEEDS ATTENTION: overdue
    and long unassigned), summed from their counters in one statement."""
    rows = _needing_attention(today, next_bd, unit_ids=unit_ids)
    return {unit_id: int(count) for unit_id, count in read(
        sa.select(rows.c.unit_id, sa.func.sum(rows.c.count)).group_by(rows.c.unit_id)) if count}


def led_units_attention(user_id, today, next_bd):
    """For the user loader's statement: the cases needing attention in the units `user_id`
    leads, and the led unit with the most of them (the lower id of equals), as two scalar
    subqueries; 0 and None for someone who leads none. `user_id`, `today` and `next_bd` may be
    SQL expressions (the user loader binds them)."""
    rows = _needing_attention(today, next_bd, led_by=user_id)
    total = sa.select(sa.func.coalesce(sa.func.sum(rows.c.count), 0))
    most = (sa.select(rows.c.unit_id).group_by(rows.c.unit_id)
            .order_by(sa.func.sum(rows.c.count).desc(), rows.c.unit_id).limit(1))
    return total.scalar_subquery(), most.scalar_subquery()
