"""What every case operation shares: its refusals, the version check and the timeline event."""

from flask_babel import gettext as _

from .. import access
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


def check_action(actor, case, action, expected_version):
    if expected_version is not None and case.version != expected_version:
        raise CaseChanged()
    if action not in access.available_actions(actor, case):
        raise PermissionError(f"{actor.username} may not {action} {case.reference}")


def add_event(case, kind, actor, now, text="", from_unit_id=None, to_unit_id=None):
    case.events.append(CaseEvent(kind=kind, actor=actor, at=now, text=text,
                                 from_unit_id=from_unit_id, to_unit_id=to_unit_id))
