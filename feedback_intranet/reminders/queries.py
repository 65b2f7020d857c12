"""The morning's reads: each list for every unit (or every member) in one statement.

Each list is read on the indexes its page uses (the inbox index by unit, status and due date;
the print queue's by unit and posted; the callbacks' by unit, status and window), ranked in
SQL per unit or member, and cut at `CAP` rows with the total beside them: nothing loops over
the open cases in Python, and the cost does not grow with the number of units or people.
"""

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import (
    OPEN_STATUSES,
    Answer,
    AnswerStatus,
    CallbackStatus,
    CallbackTask,
    Case,
    CaseEvent,
    CasePastUnit,
    CaseStatus,
    EventKind,
    InboxCount,
    Letter,
    Membership,
    MorningDigest,
    Purpose,
    Topic,
    Unit,
    UnitKind,
    User,
)

# Rows listed per list; the rest are counted ("and 12 more") and linked.
CAP = 25

# The lists, by the words the digest uses for them.
OWN_OVERDUE, DUE_TODAY, INTERIM_NOTICE_DUE, DUE_NEXT = (
    "own_overdue", "due_today", "interim_notice_due", "due_next")
OVERDUE, UNASSIGNED, LETTERS, CALLBACKS, LEFT = (
    "overdue", "unassigned", "letters", "callbacks", "left")


@dataclass(frozen=True)
class Item:
    """One line of a list: a case, and what the list says beside it."""

    case_id: int
    reference: str
    status: str
    reply_wanted: bool
    due_date: date
    estimate: date | None
    topic: tuple[str, str, str]  # the name in English, Finnish and Swedish
    holder: str | None = None  # the holder's name, where the list names them
    at: datetime | None = None  # when a letter was made, or a call's window begins
    reply_due: date | None = None  # the deadline of the answer to a customer's reply


@dataclass
class Listed:
    """A list as the digest shows it: its first rows and how many there are in all."""

    items: list
    total: int


@dataclass(frozen=True)
class UnitInfo:
    id: int
    code: str
    names: tuple[str, str, str]  # English, Finnish, Swedish
    kind: str
    escalation_email: str
    escalation_language: str

    def name_in(self, language):
        return Unit.name_for(language, *self.names)


@dataclass(frozen=True)
class Person:
    """A member of staff who may get a summary, with the units they lead."""

    id: int
    name: str
    email: str
    language: str
    wants_own: bool
    is_admin: bool
    leads: tuple[int, ...]


def units():
    """Every unit, as plain values (the run commits per recipient, which expires objects)."""
    return [UnitInfo(row.id, row.code, (row.name, row.name_fi, row.name_sv), str(row.kind),
                     row.escalation_email.strip().lower(), str(row.escalation_language))
            for row in db.session.execute(
                sa.select(Unit.id, Unit.code, Unit.name, Unit.name_fi, Unit.name_sv, Unit.kind,
                          Unit.escalation_email, Unit.escalation_language).order_by(Unit.id))]


_REACHABLE = (User.active.is_(True), User.email != "")


def people():
    """Everyone who may get a summary: active staff with an email address who want their own
    cases summed up, lead a unit, or administer (for units without a lead). Two statements."""
    leads = {}
    for user_id, unit_id in db.session.execute(
            sa.select(Membership.user_id, Membership.unit_id).join(User)
            .where(Membership.is_team_lead.is_(True), *_REACHABLE)
            .order_by(Membership.user_id, Membership.unit_id)):
        leads.setdefault(user_id, []).append(unit_id)
    rows = db.session.execute(
        sa.select(User.id, User.full_name, User.email, User.language, User.morning_digest,
                  User.is_admin)
        .where(*_REACHABLE, sa.or_(User.morning_digest.is_(True), User.is_admin.is_(True),
                                   sa.exists().where(Membership.user_id == User.id,
                                                     Membership.is_team_lead.is_(True))))
        .order_by(User.id))
    return [Person(row.id, row.full_name, row.email, str(row.language), row.morning_digest,
                   row.is_admin, tuple(leads.get(row.id, ()))) for row in rows]


def already_sent(day):
    """The recipients (MorningDigest.recipient) who had their summary of `day`."""
    return set(db.session.scalars(sa.select(MorningDigest.recipient).where(MorningDigest.day == day)))


_CASE_COLUMNS = (Case.id, Case.reference, Case.status, Case.reply_wanted, Case.due_date,
                 Case.estimated_decision_date, Case.reply_due_date, Topic.name, Topic.name_fi,
                 Topic.name_sv)
_ORDER = (Case.effective_due_date, Case.received_at, Case.id)


def _ranked(query, group, section, order, holder=None, at=None):
    """{(group, section): Listed} from `query` (rows of _CASE_COLUMNS): the first CAP rows of
    each group and section in `order`, with the total of each, in one statement."""
    partition = (group, section)
    inner = query.add_columns(
        group.label("grp"), section.label("section"),
        (holder if holder is not None else sa.null()).label("holder"),
        (at if at is not None else sa.null()).label("at"),
        sa.func.row_number().over(partition_by=partition, order_by=order).label("rank"),
        sa.func.count().over(partition_by=partition).label("total"),
    ).subquery()
    rows = db.session.execute(
        sa.select(inner).where(inner.c.rank <= CAP, inner.c.section.is_not(None))
        .order_by(inner.c.grp, inner.c.section, inner.c.rank))
    lists = {}
    for row in rows:
        listed = lists.setdefault((row.grp, row.section), Listed([], row.total))
        listed.items.append(Item(row.id, row.reference, row.status, row.reply_wanted,
                                 row.due_date, row.estimated_decision_date,
                                 (row.name, row.name_fi, row.name_sv), row.holder, row.at,
                                 row.reply_due_date))
    return lists


def _with_topic(query):
    return query.join(Topic, Topic.id == Case.topic_id)


def own_cases(unit_ids, today, next_day, central_unit_ids):
    """{(member id, list): Listed} of the cases each member who wants the summary holds and
    should act on: overdue, due today, an interim notice due today, due on the next banking day
    (still unanswered). Read on the inbox index, unit by unit, in one statement."""
    answered = sa.exists().where(
        Answer.case_id == Case.id, Answer.purpose == Purpose.ANSWER,
        Answer.status.in_((AnswerStatus.PENDING, AnswerStatus.DELIVERED)))
    answer_waits = sa.exists().where(
        Answer.case_id == Case.id, Answer.purpose == Purpose.ANSWER,
        Answer.status == AnswerStatus.PENDING)
    forwarded = sa.exists().where(CasePastUnit.case_id == Case.id)
    far_from_the_customer = sa.or_(forwarded, Case.current_unit_id.in_(central_unit_ids or [-1]))
    section = sa.case(
        (Case.effective_due_date < today, OWN_OVERDUE),
        (sa.and_(Case.effective_due_date == today, far_from_the_customer,
                 Case.interim_notice_on.is_(None), ~answered), INTERIM_NOTICE_DUE),
        (Case.effective_due_date == today, DUE_TODAY),
        (~answer_waits, DUE_NEXT),
    )
    wanting = sa.select(User.id).where(User.active.is_(True), User.morning_digest.is_(True),
                                       User.email != "")
    query = _with_topic(sa.select(*_CASE_COLUMNS)).where(
        Case.current_unit_id.in_(unit_ids), Case.status == CaseStatus.ASSIGNED,
        Case.effective_due_date <= next_day, Case.reply_wanted.is_(True),
        Case.assignee_id.in_(wanting))
    return _ranked(query, Case.assignee_id, section, _ORDER)


def unit_cases(unit_ids, today, next_day):
    """{(unit id, list): Listed} of each unit's overdue cases (with their holders) and its
    long-unassigned ones, from the inbox index in one statement."""
    overdue = sa.and_(Case.reply_wanted.is_(True), Case.effective_due_date < today)
    holder = aliased(User)
    section = sa.case((overdue, OVERDUE), (Case.status == CaseStatus.NEW, UNASSIGNED))
    query = (_with_topic(sa.select(*_CASE_COLUMNS))
             .outerjoin(holder, holder.id == Case.assignee_id)
             .where(Case.current_unit_id.in_(unit_ids), Case.status.in_(OPEN_STATUSES),
                    Case.effective_due_date <= next_day,
                    sa.or_(overdue, Case.status == CaseStatus.NEW)))
    return _ranked(query, Case.current_unit_id, section, _ORDER, holder=holder.full_name)


def held_since(case_ids):
    """{case id: when its holder took it}: the latest assignment of each listed case."""
    if not case_ids:
        return {}
    return dict(db.session.execute(
        sa.select(CaseEvent.case_id, sa.func.max(CaseEvent.at))
        .where(CaseEvent.case_id.in_(case_ids), CaseEvent.kind == EventKind.ASSIGNED)
        .group_by(CaseEvent.case_id)).all())


def late_letters(unit_ids, made_before):
    """{(unit id, LETTERS): Listed} of letters still waiting in each print queue (not posted,
    not cancelled) that were made before `made_before`, the oldest first."""
    query = (_with_topic(sa.select(*_CASE_COLUMNS)
                         .select_from(Letter)
                         .join(Answer, Answer.id == Letter.answer_id)
                         .join(Case, Case.id == Letter.case_id))
             .where(Letter.unit_id.in_(unit_ids), Letter.posted_at.is_(None),
                    Answer.status == AnswerStatus.PENDING, Letter.created_at < made_before))
    return _ranked(query, Letter.unit_id, sa.literal(LETTERS), (Letter.created_at, Letter.id),
                   at=Letter.created_at)


def late_callbacks(unit_ids, day_began):
    """{(unit id, CALLBACKS): Listed} of calls still to make whose window was on a day before
    the one that began at `day_began`, the earliest first."""
    query = (_with_topic(sa.select(*_CASE_COLUMNS)
                         .select_from(CallbackTask)
                         .join(Case, Case.id == CallbackTask.case_id))
             .where(CallbackTask.unit_id.in_(unit_ids), CallbackTask.status == CallbackStatus.OPEN,
                    CallbackTask.window_start < day_began))
    return _ranked(query, CallbackTask.unit_id, sa.literal(CALLBACKS),
                   (CallbackTask.window_start, CallbackTask.id), at=CallbackTask.window_start)


def held_by_leavers():
    """{(unit id, LEFT): Listed} of open cases held by someone who is no longer active or no
    longer a member of the unit holding the case. The inbox counters name the holders per unit
    (a few rows each), so only the cases of holders who left are read."""
    c = InboxCount.__table__.c
    left = (
        sa.select(c.unit_id, c.holder_id).distinct()
        .join(User, User.id == c.holder_id)
        .outerjoin(Membership, sa.and_(Membership.user_id == c.holder_id,
                                       Membership.unit_id == c.unit_id))
        .where(c.status == CaseStatus.ASSIGNED.value, c.holder_id != 0,
               sa.or_(User.active.is_(False), Membership.user_id.is_(None)))
        .subquery()
    )
    holder = aliased(User)
    query = (_with_topic(sa.select(*_CASE_COLUMNS))
             .join(left, sa.and_(left.c.holder_id == Case.assignee_id,
                                 left.c.unit_id == Case.current_unit_id))
             .join(holder, holder.id == Case.assignee_id)
             .where(Case.status == CaseStatus.ASSIGNED))
    return _ranked(query, Case.current_unit_id, sa.literal(LEFT), _ORDER,
                   holder=holder.full_name)


def central_unit_ids(all_units):
    return [unit.id for unit in all_units if unit.kind == UnitKind.CENTRAL_UNIT.value]
