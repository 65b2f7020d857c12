"""Receiving feedback: mask, match, route, promise a date, and write the timeline."""

from dataclasses import dataclass, replace

import sqlalchemy as sa

from ..extensions import db
from ..matching import Match, match_customer
from ..models import (
    Case,
    CaseEvent,
    CaseType,
    Customer,
    EventKind,
    IntakeChannel,
    MatchMethod,
    Topic,
)
from ..references import next_reference
from ..routing import routing_rule_for, service_unit, suggested_unit_id
from ..rules.banking_days import local_date
from ..rules.masking import mask
from ..rules.postal_codes import HOME_COUNTRY

# Fields a person types freely; any of them may carry a number that must not be kept.
FREE_TEXT_FIELDS = ("name", "street", "city", "message")


@dataclass(frozen=True)
class Feedback:
    """What the customer (or staff on their behalf) gave, already checked by the form."""

    name: str
    street: str
    postal_code: str  # as the country writes it
    city: str
    phone: str  # E.164 or empty
    email: str  # normalised or empty
    segment: str
    topic_id: int
    case_type: str
    message: str
    reply_wanted: bool
    reply_channel: str | None
    language: str
    intake_channel: str = IntakeChannel.WEB_FORM
    country: str = HOME_COUNTRY  # ISO 3166 alpha-2


def masked(feedback):
    """The feedback with sensitive numbers removed from every free-text field, and the kinds found."""
    kinds, changes = set(), {}
    for name in FREE_TEXT_FIELDS:
        result = mask(getattr(feedback, name))
        kinds |= result.kinds
        changes[name] = result.text
    return replace(feedback, **changes), kinds


def case_for_token(token):
    if not token:
        return None
    return db.session.scalar(sa.select(Case).where(Case.submission_token == token))


def receive_feedback(feedback, *, now, calendar, actor=None, unit=None, submission_token=None,
                     received_at=None, customer=None):
    """Open a case for new feedback and return it (flushed, not committed).

    Form feedback (no actor) lands in customer service, or business customer
    service for business customers, unless a routing rule sends it straight to
    a unit. Staff registering feedback choose the unit; it defaults to theirs,
    and say when it was received (`received_at`, before `now`): the promised
    date counts from then. A register `customer` staff chose links the case
    without matching.
    """
    received_at = received_at or now
    feedback, kinds = masked(feedback)
    if customer is not None:
        match = Match(MatchMethod.MANUAL, customer.id)
    else:
        # The register keeps Finnish postal codes: a code abroad ("10115" in Berlin) is not
        # matched.
        postal_code = feedback.postal_code if feedback.country == HOME_COUNTRY else ""
        match = match_customer(db.session, email=feedback.email, phone=feedback.phone,
                               name=feedback.name, postal_code=postal_code)
        customer = db.session.get(Customer, match.customer_id) if match.customer_id else None
    topic = db.session.get(Topic, feedback.topic_id)

    case = Case(
        reference=next_reference(db.session, local_date(now, calendar.tz).year),
        received_at=received_at,
        intake_channel=feedback.intake_channel,
        contact_name=feedback.name,
        contact_street=feedback.street,
        contact_postal_code=feedback.postal_code,
        contact_city=feedback.city,
        contact_country=feedback.country,
        contact_phone=feedback.phone,
        contact_email=feedback.email,
        segment=feedback.segment,
        topic=topic,
        case_type=feedback.case_type or CaseType.FEEDBACK,
        message=feedback.message,
        reply_wanted=feedback.reply_wanted,
        reply_channel=feedback.reply_channel if feedback.reply_wanted else None,
        language=feedback.language,
        customer=customer,
        match_method=match.method,
        masked_kinds=",".join(sorted(kinds)),
        submission_token=submission_token,
        suggested_unit_id=suggested_unit_id(topic, customer),
        due_date=calendar.due_date(received_at),
    )
    case.set_estimate(None)

    if actor is None:
        intake_unit = service_unit(db.session, feedback.segment)
        case.service_unit_id = intake_unit.id
        case.current_unit_id = intake_unit.id
        case.events.append(CaseEvent(kind=EventKind.RECEIVED, to_unit_id=intake_unit.id, at=now))
        rule = routing_rule_for(db.session, topic.id, feedback.segment)
        if rule is not None:
            case.current_unit_id = rule.unit_id
            case.events.append(CaseEvent(kind=EventKind.ROUTED, from_unit_id=intake_unit.id,
                                         to_unit_id=rule.unit_id, at=now,
                                         facts={"rule": rule.name}))
    else:
        case.current_unit_id = unit.id
        # At the moment it was received, with the moment it was registered when that was later.
        registered = {"registered_at": now.isoformat()} if received_at < now else {}
        case.events.append(CaseEvent(kind=EventKind.RECEIVED, actor=actor, to_unit_id=unit.id,
                                     at=received_at, facts=registered))
    db.session.add(case)
    db.session.flush()
    return case


