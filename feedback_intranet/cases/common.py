"""What every case operation shares: its refusals, the version check and the timeline event."""

from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from .. import access
from ..extensions import db
from ..models import CaseEvent


class CaseError(ValueError):
    """A refused change, with a message for the user; `field` names the form field."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


class CaseChanged(CaseError):
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
    except (CaseError, PermissionError):
        db.session.rollback()
        raise
    return result


def check_action(actor, case, action, expected_version):
    if expected_version is not None and case.version != expected_version:
        raise CaseChanged()
    if action not in access.available_actions(actor, case):
        raise PermissionError(f"{actor.username} may not {action} {case.reference}")


def add_event(case, kind, actor, now, text="", from_unit_id=None, to_unit_id=None):
    case.events.append(CaseEvent(kind=kind, actor=actor, at=now, text=text,
                                 from_unit_id=from_unit_id, to_unit_id=to_unit_id))
