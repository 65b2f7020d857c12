"""The admin pages' reads: each list as its page orders it."""

from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..inboxes import counters
from ..models import (
    AuditEvent,
    AuditKind,
    Case,
    ClosingDay,
    DeviatingHours,
    DirectoryRole,
    GroupMapping,
    InboundMail,
    Membership,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    ReplyTemplate,
    RoutingRule,
    Topic,
    Unit,
    UnitText,
    User,
    in_name_order,
)
from ..rules.sort_keys import sort_key

OUTBOX_ROWS = 200
INBOUND_ROWS = 200


def units(language):
    """Active units first, each by its name in `language`."""
    return sorted(in_name_order(db.session.scalars(sa.select(Unit)), language),
                  key=lambda unit: not unit.active)


def users(unit_id=None):
    """Every staff user, or the members of one unit."""
    query = sa.select(User).options(selectinload(User.memberships))
    if unit_id is not None:
        query = query.where(User.memberships.any(Membership.unit_id == unit_id))
    return list(db.session.scalars(query.order_by(User.active.desc(), User.username)))


def unit_texts(unit):
    return list(db.session.scalars(sa.select(UnitText).where(UnitText.unit_id == unit.id)))


def closing_days():
    """Newest first, withdrawn ones too: the list is the record of what was closed and why."""
    return list(db.session.scalars(
        sa.select(ClosingDay)
        .options(selectinload(ClosingDay.created_by), selectinload(ClosingDay.withdrawn_by))
        .order_by(ClosingDay.day.desc(), ClosingDay.id.desc())))


def topics(language, active_first=False):
    """By name in `language`; with `active_first`, for the list of topics, active ones first."""
    named = in_name_order(
        db.session.scalars(sa.select(Topic).options(selectinload(Topic.central_unit))), language)
    return sorted(named, key=lambda topic: not topic.active) if active_first else named


def routing_rules():
    return list(db.session.scalars(
        sa.select(RoutingRule)
        .options(selectinload(RoutingRule.topic), selectinload(RoutingRule.unit))
        .order_by(RoutingRule.active.desc(), RoutingRule.name)
    ))


def reply_templates():
    return list(db.session.scalars(
        sa.select(ReplyTemplate).options(selectinload(ReplyTemplate.topic))
        .order_by(ReplyTemplate.active.desc(), ReplyTemplate.language, ReplyTemplate.title)
    ))


def deviating_hours():
    return list(db.session.scalars(sa.select(DeviatingHours).order_by(DeviatingHours.day.desc())))


class UnitFigures(NamedTuple):
    unit: Unit
    open: int
    overdue: int
    unassigned: int
    has_lead: bool  # an active team lead with an email address, who hears of its overdue cases


def unit_figures(today, language):
    """Per active unit, its open cases awaiting an answer, those overdue and those nobody holds
    (the inbox's own figures, from the counters), and whether it has a team lead: every unit in
    one statement."""
    counts = counters.backlog(today)
    has_lead = sa.exists().where(Membership.unit_id == Unit.id, Membership.is_team_lead.is_(True),
                                 Membership.user_id == User.id, User.active.is_(True),
                                 User.email != "")
    rows = db.session.execute(
        sa.select(Unit, counts.c.open, counts.c.overdue, counts.c.unassigned, has_lead)
        .outerjoin(counts, counts.c.unit_id == Unit.id)
        .where(Unit.active)
    ).all()
    # The most overdue first, equals by name.
    return sorted((UnitFigures(unit, open_ or 0, overdue_ or 0, unassigned or 0, bool(lead))
                   for unit, open_, overdue_, unassigned, lead in rows),
                  key=lambda figures: (-figures.overdue, sort_key(figures.unit.name_in(language))))


def outbox_counts():
    """Messages waiting to go out, being sent, and failed."""
    waiting = (OutboxStatus.QUEUED, OutboxStatus.SENDING, OutboxStatus.FAILED)
    rows = db.session.execute(
        sa.select(OutboxMessage.status, sa.func.count())
        .where(OutboxMessage.status.in_(waiting)).group_by(OutboxMessage.status))
    return {status: 0 for status in waiting} | dict(rows.all())


def last_retention_run():
    return db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.kind == AuditKind.RETENTION)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(1))


def latest_outbox_messages():
    """The latest messages, each with the language it is written in: the customer's for what
    goes to a customer, the staff member's for a notification."""
    staff = (sa.select(User.language).where(User.email == OutboxMessage.recipient)
             .order_by(User.id).limit(1).scalar_subquery())
    customer = sa.select(Case.language).where(Case.id == OutboxMessage.case_id).scalar_subquery()
    language = sa.case((OutboxMessage.kind == OutboxKind.NOTIFICATION, staff), else_=customer)
    return db.session.execute(
        sa.select(OutboxMessage, language)
        .order_by(OutboxMessage.id.desc()).limit(OUTBOX_ROWS)).all()


def group_mappings(language):
    """The administrators' groups first, then by unit name and group."""
    mappings = db.session.scalars(sa.select(GroupMapping).options(selectinload(GroupMapping.unit)))
    return sorted(mappings, key=lambda m: (m.unit is not None,
                                           sort_key(m.unit.name_in(language)) if m.unit else "",
                                           m.role != DirectoryRole.MEMBER, m.group_key))


def latest_inbound_mail(outcome=None):
    """The latest mail read from the feedback mailbox, with its case's reference: one statement."""
    query = (sa.select(InboundMail, Case.reference).outerjoin(Case, Case.id == InboundMail.case_id)
             .order_by(InboundMail.id.desc()).limit(INBOUND_ROWS))
    if outcome is not None:
        query = query.where(InboundMail.outcome == outcome)
    return db.session.execute(query).all()
