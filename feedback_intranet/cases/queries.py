"""The case page's reads."""

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from .. import access
from ..extensions import db
from ..matching import match_customer
from ..models import (
    Answer,
    Case,
    CaseEvent,
    Customer,
    MatchMethod,
    Topic,
    Unit,
)

OTHER_CASES = 10


def _others(this, reference, viewer):
    """The ids of the same customer's other cases `viewer` may see, newest first, at most
    OTHER_CASES; `this` selects the case's id, customer and contact details."""
    # The same customer: matched in the register, or the same email or phone as given. Each key
    # reads its own index; one OR across the columns would walk the cases looking for a match.
    same_customer = sa.union(
        sa.select(Case.id).join(this, Case.customer_id == this.c.customer_id),
        sa.select(Case.id).join(this, sa.and_(Case.contact_email == this.c.contact_email,
                                              this.c.contact_email != "")),
        sa.select(Case.id).join(this, sa.and_(Case.contact_phone == this.c.contact_phone,
                                              this.c.contact_phone != "")),
    )
    return (
        sa.select(Case.id)
        .where(Case.id.in_(same_customer), Case.reference != reference,
               access.cases_visible_to(viewer))
        .order_by(Case.received_at.desc(), Case.id.desc()).limit(OTHER_CASES)
    )


def _this(where):
    return sa.select(Case.id, Case.customer_id, Case.contact_email, Case.contact_phone).where(
        where).cte("this_case")


def other_cases(case, viewer):
    """The same customer's other cases `viewer` may see, newest first (for a page that read the
    case without them)."""
    ids = _others(_this(Case.id == case.id), case.reference, viewer).subquery()
    return list(db.session.scalars(
        sa.select(Case).where(Case.id.in_(sa.select(ids.c.id)))
        .options(joinedload(Case.topic), joinedload(Case.current_unit))
        .order_by(Case.received_at.desc(), Case.id.desc())))


def case_by_reference(reference, viewer=None):
    """The case with what its page shows beside it, and with a `viewer` the same customer's
    other cases they may see (at most OTHER_CASES, newest first), all in one statement:
    (case, others), or (None, []).

    A case has a few answers, so they come along, each with its call still to make."""
    this = _this(Case.reference == reference)
    wanted = sa.select(this.c.id)
    if viewer is not None:
        # A subquery of its own: a LIMIT inside a UNION must be wrapped on SQLite.
        others = _others(this, reference, viewer)
        wanted = sa.union_all(wanted, sa.select(others.subquery().c.id))
    cases = db.session.execute(
        sa.select(Case)
        .where(Case.id.in_(wanted))
        .options(
            joinedload(Case.current_unit),
            joinedload(Case.assignee),
            joinedload(Case.topic),
            joinedload(Case.customer).joinedload(Customer.home_office),
            joinedload(Case.suggested_unit),
            joinedload(Case.duplicate_of),
            joinedload(Case.answers).joinedload(Answer.open_callback),
        )
    ).unique().scalars().all()
    case = next((c for c in cases if c.reference == reference), None)
    if case is None:
        return None, []
    others = sorted((c for c in cases if c is not case), key=lambda c: (c.received_at, c.id),
                    reverse=True)
    return case, others


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


def topics():
    return db.session.scalars(sa.select(Topic).order_by(Topic.name)).all()
