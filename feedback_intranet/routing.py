"""Which unit a new case goes to, and the suggested forward target."""

import sqlalchemy as sa

from .models import RoutingRule, Segment, Unit, UnitKind


class NoServiceUnit(RuntimeError):
    """No active customer service unit exists to receive form feedback."""


def service_unit(session, segment):
    """Customer service for private customers, business customer service for business ones."""
    kind = (UnitKind.BUSINESS_CUSTOMER_SERVICE if segment == Segment.BUSINESS
            else UnitKind.CUSTOMER_SERVICE)
    unit = session.scalar(
        sa.select(Unit).where(Unit.kind == kind, Unit.active).order_by(Unit.id).limit(1)
    )
    if unit is None:
        raise NoServiceUnit(f"No active unit of kind {kind.value}.")
    return unit


def routing_rule_for(session, topic_id, segment):
    """The active rule for this topic and segment; a rule for the segment beats one for any."""
    rules = session.scalars(
        sa.select(RoutingRule)
        .join(RoutingRule.unit)
        .where(
            RoutingRule.active,
            Unit.active,
            RoutingRule.topic_id == topic_id,
            sa.or_(RoutingRule.segment == segment, RoutingRule.segment.is_(None)),
        )
        .order_by(RoutingRule.segment.is_(None), RoutingRule.id)
        .limit(1)
    )
    return rules.first()


def suggested_unit_id(topic, customer):
    """The product's central unit when the topic has one, else the customer's home office."""
    if topic.central_unit_id and topic.central_unit and topic.central_unit.active:
        return topic.central_unit_id
    if customer is not None:
        return customer.home_office_id
    return None


