"""The case page's reads."""

import functools
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask import g
from sqlalchemy.orm import aliased, joinedload

from .. import access
from ..extensions import db
from ..matching import match_customer
from ..models import (
    Answer,
    Case,
    CaseEvent,
    CaseStatus,
    Customer,
    EventKind,
    MatchMethod,
    Membership,
    ReplyChannel,
    Topic,
    Unit,
    User,
    in_name_order,
)
from ..models.cases import CUSTOMER_KEYS
from ..models.organisation import MemberName, NamedInThreeLanguages
from ..reads import read

OTHER_CASES = 10


@dataclass(frozen=True)
class Named(NamedInThreeLanguages):
    """A unit or topic as a list on the case page shows it: its id and its names."""

    id: int
    name: str
    name_fi: str
    name_sv: str


@dataclass(frozen=True)
class OtherCase:
    """One of the customer's other cases, as the case page lists them."""

    reference: str
    received_at: datetime
    status: CaseStatus
    topic: Named


@dataclass(frozen=True)
class ListedCase:
    """A case as lists of cases show it (search results, my cases): what the row and its
    due-date badge read, with its unit and topic by name."""

    id: int
    reference: str
    received_at: datetime
    status: CaseStatus
    reply_wanted: bool
    reply_channel: ReplyChannel | None
    due_date: date
    estimated_decision_date: date | None
    reply_due_date: date | None
    shown_customer_name: str
    current_unit: Named
    topic: Named


def listed_cases(*conditions, order_by, limit):
    """The cases meeting `conditions` in the order of `order_by`, at most `limit`, as
    ListedCase rows: plain columns, not case objects with their unit, topic and customer
    (about half the time for fifty rows, read and shown)."""
    select = (
        sa.select(Case.id, Case.reference, Case.received_at, Case.status, Case.reply_wanted,
                  Case.reply_channel, Case.due_date, Case.estimated_decision_date,
                  Case.reply_due_date, Case.contact_name, Customer.name,
                  Unit.id, Unit.name, Unit.name_fi, Unit.name_sv,
                  Topic.id, Topic.name, Topic.name_fi, Topic.name_sv)
        .join(Unit, Unit.id == Case.current_unit_id)
        .join(Topic, Topic.id == Case.topic_id)
        .outerjoin(Customer, Customer.id == Case.customer_id)
        .where(*conditions).order_by(*order_by).limit(limit))
    return [ListedCase(*row[:9], Case.name_shown(row[9], row[10]), Named(*row[11:15]),
                       Named(*row[15:]))
            for row in read(select)]


def other_cases(case, viewer):
    """The same customer's other cases `viewer` may see, newest first, at most OTHER_CASES: one
    statement. The same customer: matched in the register, or the same email or phone as
    given. Each key walks its own index newest first and stops at OTHER_CASES visible cases
    (one OR across the columns would walk the cases looking for a match), so a customer with
    thousands of cases costs what one with a few does."""
    keys = tuple(key for key in CUSTOMER_KEYS if getattr(case, key))
    if not keys:
        return []
    values = {key: getattr(case, key) for key in keys}
    if not viewer.is_admin:
        values["units"] = sorted(access.member_unit_ids(viewer) or {-1})
    return [OtherCase(reference, received_at, status, Named(*topic))
            for reference, received_at, status, *topic in read(
                _other_cases_statement(keys, viewer.is_admin), {**values, "case_id": case.id})]


@functools.cache
def _other_cases_statement(keys, everyone):
    """The statement of other_cases for a case with these keys, built once per shape: its values
    and the viewer's units are parameters."""
    visible = sa.true() if everyone else access.cases_visible_in(
        sa.bindparam("units", expanding=True))
    newest = [sa.select(Case.id)
              .where(getattr(Case, key) == sa.bindparam(key), Case.id != sa.bindparam("case_id"),
                     visible)
              .order_by(Case.received_at.desc(), Case.id.desc()).limit(OTHER_CASES)
              .subquery() for key in keys]
    # Each a subquery of its own: a LIMIT inside a UNION must be wrapped on SQLite.
    wanted = sa.union(*(sa.select(each.c.id) for each in newest))
    # The columns the list shows: whole cases with their topics took twice as long.
    return (sa.select(Case.reference, Case.received_at, Case.status, Topic.id, Topic.name,
                      Topic.name_fi, Topic.name_sv)
            .join(Topic, Topic.id == Case.topic_id).where(Case.id.in_(wanted))
            .order_by(Case.received_at.desc(), Case.id.desc()).limit(OTHER_CASES))


def case_by_reference(reference):
    """The case with what its page shows beside it, or None. A case has a few answers, so they
    come along, each with its call still to make."""
    return db.session.execute(_case_statement(), {"reference": reference}
                              ).unique().scalar_one_or_none()


@functools.cache
def _case_statement():
    """The statement of case_by_reference, built once."""
    return sa.select(Case).where(Case.reference == sa.bindparam("reference")).options(
        joinedload(Case.current_unit),
        joinedload(Case.assignee),
        joinedload(Case.topic),
        joinedload(Case.customer).joinedload(Customer.home_office),
        joinedload(Case.suggested_unit),
        # Of the cases it links to, the page shows the references: whole cases took a quarter
        # of the read.
        joinedload(Case.duplicate_of).load_only(Case.reference),
        joinedload(Case.follows_case).load_only(Case.reference),
        joinedload(Case.answers).joinedload(Answer.open_callback),
    )


# The newest events a case page shows at first; a long-running case's earlier ones are behind a
# link, as a mail program folds the middle of a long thread.
TIMELINE_SHOWN = 30


@dataclass(frozen=True)
class TimelineEvent:
    """An event as the case page's timeline shows it: its columns with its actor's and units'
    names, read as plain values. Read as CaseEvent objects, each with its actor and units as
    objects too, the timeline took a tenth of the page."""

    id: int
    kind: EventKind
    at: datetime
    text: str
    facts: dict | None
    actor: MemberName | None
    from_unit: Named | None
    to_unit: Named | None


@dataclass
class Timeline:
    events: list  # of TimelineEvent, oldest first, the receipt always among them
    earlier: int  # events left out before the shown ones

    @property
    def received(self):
        return next((event for event in self.events if event.kind == EventKind.RECEIVED), None)


def timeline(case, newest=TIMELINE_SHOWN):
    """The case's receipt and its `newest` latest events (None: every event), with how many
    were left out; one statement whatever the length of the timeline."""
    rows = read(_timeline_statement(newest is None), {"case_id": case.id, "newest": newest}).all()
    total = rows[0].total if rows else 0
    events = [TimelineEvent(*row[:5], _joined(MemberName, row[5:7]), _joined(Named, row[7:11]),
                            _joined(Named, row[11:15])) for row in rows]
    return Timeline(events, total - len(events))


def _joined(kind, columns):
    """The row of an outer-joined table, or None where the join found none (its id is NULL)."""
    return kind(*columns) if columns[0] is not None else None


@functools.cache
def _timeline_statement(every_event):
    """The statement of timeline, built once for each of its two shapes."""
    ranked = sa.select(
        CaseEvent.id,
        sa.func.row_number().over(order_by=(CaseEvent.at.desc(), CaseEvent.id.desc())).label("rank"),
        sa.func.count().over().label("total"),
    ).where(CaseEvent.case_id == sa.bindparam("case_id")).subquery()
    shown = sa.true() if every_event else sa.or_(ranked.c.rank <= sa.bindparam("newest"),
                                                 CaseEvent.kind == EventKind.RECEIVED)
    actor, from_unit, to_unit = aliased(User), aliased(Unit), aliased(Unit)
    return (sa.select(CaseEvent.id, CaseEvent.kind, CaseEvent.at, CaseEvent.text, CaseEvent.facts,
                      actor.id, actor.full_name,
                      from_unit.id, from_unit.name, from_unit.name_fi, from_unit.name_sv,
                      to_unit.id, to_unit.name, to_unit.name_fi, to_unit.name_sv, ranked.c.total)
            .join(ranked, ranked.c.id == CaseEvent.id)
            .outerjoin(actor, actor.id == CaseEvent.actor_id)
            .outerjoin(from_unit, from_unit.id == CaseEvent.from_unit_id)
            .outerjoin(to_unit, to_unit.id == CaseEvent.to_unit_id)
            .where(shown)
            .order_by(CaseEvent.at, CaseEvent.id))


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


def _units_and_members(unit_id):
    """Every active unit, and the active members of `unit_id`, by name: whom the case page's
    forms forward a case to and assign it to, in one read of the columns the forms show (whole
    objects took four times as long), kept for the request."""
    memo = g.setdefault("units_and_members", {})
    if unit_id not in memo:
        rows = read(_units_and_members_statement(), {"unit_id": unit_id}).all()
        units = list(dict.fromkeys(Named(*row[:4]) for row in rows if row[4]))
        memo[unit_id] = units, [MemberName(*row[5:]) for row in rows if row[5] is not None]
    return memo[unit_id]


@functools.cache
def _units_and_members_statement():
    """The statement of _units_and_members, built once: building it took as long as running it."""
    unit_id = sa.bindparam("unit_id")
    return (sa.select(Unit.id, Unit.name, Unit.name_fi, Unit.name_sv, Unit.active, User.id,
                      User.full_name)
            .outerjoin(Membership, sa.and_(Membership.unit_id == Unit.id, Unit.id == unit_id))
            .outerjoin(User, sa.and_(User.id == Membership.user_id, User.active))
            .where(sa.or_(Unit.active, Unit.id == unit_id))
            .order_by(Unit.name, User.full_name))


def forward_targets(case, language):
    units = [unit for unit in _units_and_members(case.current_unit_id)[0]
             if unit.id != case.current_unit_id]
    # The suggested target first: customer service forwards with one click.
    return sorted(in_name_order(units, language), key=lambda unit: unit.id != case.suggested_unit_id)


def assignees(case):
    """Whom the case can be assigned to: the active members of its unit but its holder."""
    return [user for user in _units_and_members(case.current_unit_id)[1]
            if user.id != case.assignee_id]


def topics():
    return db.session.scalars(sa.select(Topic)).all()
