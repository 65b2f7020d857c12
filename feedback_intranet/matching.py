"""Matching feedback to the customer register.

Order: exact email, exact phone (E.164), then name and postal code. One match
links the case; several leave it unlinked with the candidates shown to staff.
"""

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from .models import Customer, MatchMethod, name_key
from .rules.phones import e164


@dataclass(frozen=True)
class Match:
    method: MatchMethod
    customer_id: int | None = None
    candidate_ids: list = field(default_factory=list)


def _steps(email, phone, name, postal_code):
    if email:
        yield MatchMethod.EMAIL, Customer.email == email.strip().lower()
    if phone:
        yield MatchMethod.PHONE, Customer.phone == phone
    if name and postal_code:
        yield MatchMethod.NAME_POSTAL_CODE, sa.and_(
            Customer.name_key == name_key(name), Customer.postal_code == postal_code.strip()
        )


def match_customer(session, *, email="", phone="", name="", postal_code=""):
    """Find the customer these contact details belong to; `phone` must already be E.164.

    All steps are asked in one statement (each step's first 11 ids, tagged by step); the
    first step that finds anyone decides.
    """
    steps = list(_steps(email, phone, name, postal_code))
    if not steps:
        return Match(MatchMethod.NONE)
    found = {}
    parts = []
    for index, (_method, condition) in enumerate(steps):
        ids = sa.select(Customer.id).where(condition).order_by(Customer.id).limit(11).subquery()
        parts.append(sa.select(sa.literal(index).label("step"), ids.c.id))
    for step, customer_id in session.execute(sa.union_all(*parts)):
        found.setdefault(step, []).append(customer_id)
    for index, (method, _condition) in enumerate(steps):
        ids = sorted(found.get(index, []))
        if len(ids) == 1:
            return Match(method, ids[0])
        if ids:
            return Match(MatchMethod.AMBIGUOUS, None, ids[:10])
    return Match(MatchMethod.NONE)


def search_register(session, query, limit=20):
    """Customers whose name, customer number, email or phone fits what staff typed."""
    query = query.strip()
    if len(query) < 2:
        return []
    key = name_key(query)
    conditions = [
        Customer.customer_number == query.upper(),
        Customer.email == query.lower(),
        Customer.name_key.like(f"%{_escape_like(key)}%", escape="\\"),
    ]
    phone = e164(query)
    if phone:
        conditions.append(Customer.phone == phone)
    condition = sa.or_(*conditions)
    return list(session.scalars(
        sa.select(Customer).where(condition).options(joinedload(Customer.home_office))
        .order_by(Customer.name, Customer.id).limit(limit)
    ))


def _escape_like(text):
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
