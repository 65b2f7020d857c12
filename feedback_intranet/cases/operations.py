"""Changes to a case. Each takes the acting user, checks the rule, writes the timeline, flushes."""

from ..access import can_set_customer
from ..extensions import db
from ..models import CaseEvent, EventKind, MatchMethod
from ..routing import suggested_unit_id


class CaseError(ValueError):
    """A refused change, with a message for the user."""


def set_customer(actor, case, customer, now):
    """Link the case to a customer of the register by hand."""
    if not can_set_customer(actor, case):
        raise PermissionError("You may not change this case.")
    if customer is None:
        raise CaseError("Choose a customer from the register.")
    if case.customer_id == customer.id:
        raise CaseError(f"The case is already linked to {customer.name}.")
    previous = case.customer
    case.customer = customer
    case.match_method = MatchMethod.MANUAL
    case.suggested_unit_id = suggested_unit_id(case.topic, customer)
    text = f"Customer set to {customer.name} ({customer.customer_number})"
    if previous is not None:
        text += f", was {previous.name} ({previous.customer_number})"
    case.events.append(CaseEvent(kind=EventKind.CUSTOMER_MATCHED, actor=actor, at=now,
                                 text=text + "."))
    db.session.flush()
    return case
