"""Inbox stamps: a number per unit that changes whenever anything its inbox shows changes.

The inbox's counts and rendered rows are cached under the unit's stamp, so an unchanged
inbox is not counted and rendered again on every view, and a change is seen at once by
every worker and host: the stamp lives in the database and changes in the transaction
that changes the case.

A commit that writes a case touches the stamps of the units it left and entered. One that
writes what every list shows beside its cases (topic and staff names, customers' names,
closing days, which move the due-date badges) touches every stamp. Writes that
bypass the ORM (the demo loader) call `touch_all` themselves; retention's only blank closed
cases, which no inbox lists.

Readers take the stamp before the figures, so cached figures are never older than the
stamp they are filed under.
"""

import functools
import secrets

import sqlalchemy as sa

from ..extensions import insert_of, listen_to_sessions
from ..models import Case, ClosingDay, Customer, InboxStamp, Topic, Unit, User
from ..reads import read

_PENDING = "inbox_stamp_units"
EVERY_UNIT = "*"
# Other rows whose change alters what an inbox row shows, with the columns that matter.
_SHOWN_BESIDE_CASES = {
    Topic: ("name", "name_fi", "name_sv"),
    User: ("full_name",),
    Customer: ("name",),
    ClosingDay: None,  # any change moves the badges
}


def stamps(unit_ids):
    """{unit id: stamp} for the units, one statement; a unit never touched has stamp 0."""
    if not unit_ids:
        return {}
    unit_ids = list(unit_ids)
    found = dict(read(_read(len(unit_ids)), {f"unit_{n}": unit_id
                                             for n, unit_id in enumerate(unit_ids)}).all())
    return {unit_id: found.get(unit_id, 0) for unit_id in unit_ids}


@functools.cache
def _read(count):
    """The statement of `stamps` for `count` units, built once: every inbox, my cases and
    workload view reads the stamps, and building the statement cost more than running it. A
    parameter per unit, not one expanding parameter, which SQLAlchemy writes into the statement
    on every run (a person is in a few units, so there are a few shapes)."""
    return sa.select(InboxStamp.unit_id, InboxStamp.stamp).where(
        InboxStamp.unit_id.in_([sa.bindparam(f"unit_{n}") for n in range(count)]))


def touch(connection, unit_ids):
    """Give the units new stamps, in the caller's transaction.

    A new stamp is random, not the old one plus one: a database restored from a backup, or a
    copy of one, would otherwise count up through stamps whose figures a shared cache still
    holds for the original.
    """
    parameters = {}
    for n, unit_id in enumerate(sorted(unit_ids)):
        parameters[f"unit_{n}"], parameters[f"stamp_{n}"] = unit_id, secrets.randbits(62)
    connection.execute(_touch(connection.dialect.name, len(unit_ids)), parameters)


@functools.cache
def _touch(dialect_name, count):
    """The statement of `touch` for `count` units, built once (every case action runs it)."""
    table = InboxStamp.__table__
    statement = insert_of(dialect_name)(table).values(
        [{"unit_id": sa.bindparam(f"unit_{n}"), "stamp": sa.bindparam(f"stamp_{n}")}
         for n in range(count)])
    return statement.on_conflict_do_update(
        index_elements=[table.c.unit_id], set_={"stamp": statement.excluded.stamp})


def touch_all(connection):
    unit_ids = connection.execute(sa.select(Unit.id)).scalars().all()
    if unit_ids:
        touch(connection, unit_ids)


def note_units(session, unit_ids):
    """Units whose stamps the commit must move for a change written past the ORM (a case's
    version moved in SQL: the inbox's rows carry it)."""
    session.info.setdefault(_PENDING, set()).update(unit_ids)


def _changed(obj, columns):
    state = sa.inspect(obj)
    if state.pending or state.deleted or columns is None:
        return True
    return any(state.attrs[column].history.has_changes() for column in columns)


def _note_changes(session):
    """Remember which units the session's pending changes touch."""
    units = session.info.setdefault(_PENDING, set())
    dirty = session.dirty
    for obj in (*session.new, *dirty, *session.deleted):
        if isinstance(obj, Case):
            # A new timeline event alone changes nothing the inbox shows.
            if obj in dirty and not session.is_modified(obj, include_collections=False):
                continue
            history = sa.inspect(obj).attrs.current_unit_id.history
            found = {u for u in (*history.added, *history.unchanged, *history.deleted)
                     if u is not None}
            # A unit set only through the relationship has no id here yet: touch them all.
            units.update(found or {EVERY_UNIT})
        elif type(obj) in _SHOWN_BESIDE_CASES and _changed(obj, _SHOWN_BESIDE_CASES[type(obj)]):
            units.add(EVERY_UNIT)


def register():
    """Listen to every ORM session from now on: changes are noted at each flush and the stamps
    touched once, before the commit. Called by the app factory; listening twice is avoided."""
    listen_to_sessions(("before_flush", _before_flush), ("before_commit", _before_commit),
                       ("after_rollback", _after_rollback))


def _before_flush(session, _context, _instances):
    _note_changes(session)


def _before_commit(session):
    # The commit's own writes first: every unit they name then exists, and case rows are
    # always locked before stamps, stamps in unit order, so no two commits wait in a circle.
    session.flush()
    units = session.info.pop(_PENDING, None)
    if not units:
        return
    connection = session.connection()
    if EVERY_UNIT in units:
        touch_all(connection)
    else:
        touch(connection, units)


def _after_rollback(session):
    session.info.pop(_PENDING, None)
