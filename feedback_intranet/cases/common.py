"""What every case operation shares: its refusals, the version check and the timeline event."""

import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError

from .. import access
from ..extensions import db, listen_to_sessions
from ..i18n import gettext as _
from ..inboxes import stamps
from ..models import Case, CaseEvent, CaseStatus, EventKind
from ..refusals import Refusal


class CaseChanged(Refusal):
    def __init__(self):
        super().__init__(_("This case changed since you opened it. Here is its current state; "
                           "check it and try again if your change is still needed."))


def commit_change(operation):
    """Run one change and commit it, returning its result; or roll all of it back and re-raise
    the refusal.

    A colleague's write between our read and our commit (the version check at flush) is
    refused as CaseChanged, never a 500.
    """
    try:
        result = operation()
        db.session.commit()
    except StaleDataError as error:
        db.session.rollback()
        raise CaseChanged() from error
    except (Refusal, PermissionError):
        db.session.rollback()
        raise
    return result


def check_action(actor, case, action, expected_version, lock=True):
    """The actor may take the action on the case as they saw it; with `lock`, the case's row is
    held and its version moved before anything else is read, so every check that follows sees
    what is committed and a colleague acting on the same picture of the case is refused."""
    if expected_version is not None and case.version != expected_version:
        raise CaseChanged()
    if action not in access.available_actions(actor, case):
        raise PermissionError(f"{actor.username} may not {action} {case.reference}")
    if lock:
        claim_version(case)


def claim_version(case):
    """Hold the case's row for this transaction, refused when anyone changed the case since this
    request read it: a second request waits for the first to commit, then finds the version
    moved. The version moves once, with the change or at the commit (_move_claimed_versions).

    PostgreSQL locks the row as an UPDATE of its columns would (FOR NO KEY UPDATE: rows that
    refer to the case, such as its timeline's, may still be written meanwhile, and a transaction
    that wrote one before its claim does not deadlock with another): moving the version here as
    well would write the row twice, each time into its every index, and the second write of a
    row in one transaction has PostgreSQL check all its foreign keys again. SQLite has no row
    locks: an UPDATE that writes the version as it is takes the database's write lock."""
    db.session.flush()  # changes made before the check go out first, with their own check
    table, version = Case.__table__, case.version
    mine = (table.c.id == case.id) & (table.c.version == version)
    if db.session.get_bind().dialect.name == "postgresql":
        held = db.session.execute(
            sa.select(table.c.id).where(mine).with_for_update(key_share=True)).first()
    else:
        held = db.session.execute(table.update().where(mine).values(version=version)).rowcount
    if not held:
        raise CaseChanged()
    db.session.info.setdefault(_CLAIMED, {}).setdefault(case, version)
    stamps.note_units(db.session, [case.current_unit_id])


_CLAIMED = "claimed_cases"  # {case: the version claimed} in session.info until the commit


def _move_claimed_versions(session):
    """Each claimed case whose version its change has not moved yet (a note, a cancelled
    email) moves it now, in the commit's flush: every action moves the version once."""
    for case, version in session.info.pop(_CLAIMED, {}).items():
        state = sa.inspect(case)
        if not (state.deleted or state.detached) and case.version == version:
            case.version = version + 1


def _forget_claims(session):
    session.info.pop(_CLAIMED, None)


def register():
    """Listen to every ORM session: called by the app factory; listening twice is avoided."""
    # First among the commit's listeners: the inbox stamps' flush then carries the version.
    listen_to_sessions(("before_commit", _move_claimed_versions), first=True)
    listen_to_sessions(("after_rollback", _forget_claims))


def hold(actor, case, now, previous=None):
    """The case becomes the actor's (from `previous`, its holder until now), with its event."""
    case.assignee = actor
    case.status = CaseStatus.ASSIGNED
    add_event(case, EventKind.ASSIGNED, actor, now, from_unit_id=case.current_unit_id,
              taken=True, holder=actor.full_name,
              **({"previous": previous.full_name} if previous else {}))


def hold_if_nobody_does(actor, case, now):
    """Whoever answers, calls or writes to the customer of an open case nobody holds becomes
    its holder: the case does not wait in the inbox as if nobody had touched it."""
    if case.assignee_id is None and case.is_open:
        hold(actor, case, now)


def add_event(case, kind, actor, now, text="", from_unit_id=None, to_unit_id=None, **facts):
    """A timeline event: `text` is what a person wrote (a note, an answer), `facts` what
    cases.timeline writes its sentence from in the reader's language. Added to the session, not
    to `case.events`, which would read the whole timeline first (200 events on a long case)."""
    event = CaseEvent(case=case, kind=kind, actor=actor, at=now, text=text, facts=facts,
                      from_unit_id=from_unit_id, to_unit_id=to_unit_id)
    db.session.add(event)
    return event
