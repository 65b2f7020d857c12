"""The case page's reads."""

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..matching import match_customer
from ..models import (
    AnswerStatus,
    CallbackStatus,
    CallbackTask,
    Case,
    CaseEvent,
    Customer,
    MatchMethod,
    ReplyChannel,
    Topic,
    Unit,
)


def case_by_reference(reference):
    """The case with what its page shows beside it; its answers come in the same statement
    (a case has a few)."""
    return db.session.execute(
        sa.select(Case)
        .where(Case.reference == reference)
        .options(
            joinedload(Case.current_unit),
            joinedload(Case.assignee),
            joinedload(Case.topic),
            joinedload(Case.customer).joinedload(Customer.home_office),
            joinedload(Case.suggested_unit),
            joinedload(Case.duplicate_of),
            joinedload(Case.answers),
        )
    ).unique().scalar_one_or_none()


def timeline(case):
    return db.session.scalars(
        sa.select(CaseEvent).where(CaseEvent.case_id == case.id)
        .options(joinedload(CaseEvent.actor), joinedload(CaseEvent.from_unit),
                 joinedload(CaseEvent.to_unit))
        .order_by(CaseEvent.at, CaseEvent.id)
    ).all()


def candidates(case):
    """The register's possible customers when matching found several."""
    if case.match_method != MatchMethod.AMBIGUOUS or case.customer_id:
        return []
    match = match_customer(db.session, email=case.contact_email, phone=case.contact_phone,
                           name=case.contact_name, postal_code=case.contact_postal_code)
    if not match.candidate_ids:
        return []
    return list(db.session.scalars(
        sa.select(Customer).where(Customer.id.in_(match.candidate_ids))
        .options(joinedload(Customer.home_office)).order_by(Customer.name)
    ))


def forward_targets(case):
    units = db.session.scalars(
        sa.select(Unit).where(Unit.active, Unit.id != case.current_unit_id).order_by(Unit.name)
    ).all()
    # The suggested target first: customer service forwards with one click.
    return sorted(units, key=lambda unit: unit.id != case.suggested_unit_id)


def planned_callbacks(case):
    """The open callback of each phone answer still to make, by answer id; no statement at all
    when no such answer waits (the case's answers come with the case)."""
    waiting = [a.id for a in case.answers
               if a.channel == ReplyChannel.PHONE and a.status == AnswerStatus.PENDING]
    if not waiting:
        return {}
    tasks = db.session.scalars(sa.select(CallbackTask).where(
        CallbackTask.answer_id.in_(waiting), CallbackTask.status == CallbackStatus.OPEN))
    return {task.answer_id: task for task in tasks}


def topics():
    return db.session.scalars(sa.select(Topic).order_by(Topic.name)).all()
