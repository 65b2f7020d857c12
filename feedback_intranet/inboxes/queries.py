"""Inbox lists and their counts, kept cheap at any size.

Lists use keyset pagination on (effective due date, received, id), the order
of the inbox index; counts are range counts on that index, one statement for
all filters.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased, joinedload, load_only

from ..extensions import db
from ..models import OPEN_STATUSES, Case, CaseStatus, User
from ..rules.banking_days import FIRST_DAY, LAST_DAY


def users_by_id(ids):
    return db.session.scalars(sa.select(User).where(User.id.in_(ids))).all()

FILTERS = {
    "open": _l("Open"),
    "unassigned": _l("Unassigned"),
    "mine": _l("Mine"),
    "overdue": _l("Overdue"),
    "due_today": _l("Due today"),
    "answered": _l("Answered"),
}
DEFAULT_FILTER = "open"
_ORDER = (Case.effective_due_date, Case.received_at, Case.id)
# What a list row shows and its badge needs: not the message, nor the contact details.
LIST_COLUMNS = (Case.reference, Case.received_at, Case.contact_name, Case.topic_id, Case.reply_wanted,
                Case.reply_channel, Case.status, Case.current_unit_id, Case.assignee_id,
                Case.customer_id, Case.masked_kinds, Case.due_date, Case.estimated_decision_date,
                Case.effective_due_date, Case.version)


MEMBER_FILTER = "member"
# Filters whose cases depend on who is asking (or on whom the team lead asks about).
PERSONAL_FILTERS = {"mine", MEMBER_FILTER}


def _filter_spec(name, user_id, today):
    """The statuses a filter spans and its other conditions.

    `user_id` is the person "mine" means, or for the team lead's member filter the member.
    """
    # A case whose customer wanted no answer is never overdue nor due.
    awaiting_answer = Case.reply_wanted.is_(True)
    return {
        "open": (OPEN_STATUSES, []),
        "unassigned": ((CaseStatus.NEW,), []),
        "mine": ((CaseStatus.ASSIGNED,), [Case.assignee_id == user_id]),
        MEMBER_FILTER: ((CaseStatus.ASSIGNED,), [Case.assignee_id == user_id]),
        "overdue": (OPEN_STATUSES, [awaiting_answer, Case.effective_due_date < today]),
        "due_today": (OPEN_STATUSES, [awaiting_answer, Case.effective_due_date == today]),
        "answered": ((CaseStatus.ANSWERED,), []),
    }[name]


def filter_clause(name, user_id, today):
    statuses, conditions = _filter_spec(name, user_id, today)
    return sa.and_(Case.status.in_(statuses), *conditions)


def inbox_counts(unit_id, user_id, today):
    """Every filter's count for one inbox, in one statement: each a range count in the inbox
    index (unit, status, due date), which reads entries without testing each one."""
    def count(name):
        return (sa.select(sa.func.count()).select_from(Case)
                .where(Case.current_unit_id == unit_id, filter_clause(name, user_id, today))
                .scalar_subquery().label(name))

    return dict(db.session.execute(sa.select(*(count(name) for name in FILTERS))).one()._mapping)


def open_count(unit_id):
    """A unit's open cases, for its inbox tab (the open inbox's own count comes with its filters)."""
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Case)
        .where(Case.current_unit_id == unit_id, Case.status.in_(OPEN_STATUSES)))


@dataclass(frozen=True)
class Cursor:
    effective_due_date: date
    received_at: datetime
    case_id: int

    def encode(self):
        return f"{self.effective_due_date.isoformat()}_{self.received_at.isoformat()}_{self.case_id}"

    @classmethod
    def decode(cls, text):
        """The cursor in `text`, or None when it is missing, malformed or out of range."""
        try:
            due, received, case_id = text.split("_")
            received_at = datetime.fromisoformat(received)
            if received_at.tzinfo is None:
                return None
            cursor = cls(date.fromisoformat(due), received_at.astimezone(UTC), int(case_id))
        except (AttributeError, ValueError, OverflowError):
            return None
        # Outside the intranet's days a cursor is tampered with: it would overflow date arithmetic.
        in_range = (
            0 < cursor.case_id < 2**31
            and FIRST_DAY <= cursor.effective_due_date <= LAST_DAY
            and FIRST_DAY.year <= cursor.received_at.year <= LAST_DAY.year
        )
        return cursor if in_range else None

    @classmethod
    def of(cls, case):
        return cls(case.effective_due_date, case.received_at, case.id)

    def values(self):
        return (
            sa.literal(self.effective_due_date, Case.effective_due_date.type),
            sa.literal(self.received_at, Case.received_at.type),
            sa.literal(self.case_id, Case.id.type),
        )


@dataclass
class Page:
    cases: list
    next_cursor: Cursor | None
    prev_cursor: Cursor | None
    # Assignees' names read with the rows, not from staff objects the request loaded before
    # the stamps (the user, a member): the page may be cached under a newer stamp.
    assignee_names: dict = field(default_factory=dict)


def _sort_key(case):
    return (case.effective_due_date, case.received_at, case.id)


def inbox_page(unit_id, filter_name, user_id, today, size, after=None, before=None, last=False):
    """One page of an inbox, most urgent first.

    `after` pages forward, `before` pages back, `last` jumps to the end. Each
    status is read in index order with a limit and the few rows merged here,
    so no page sorts the whole inbox, however deep it is.
    """
    if after is not None and before is not None:
        after = before = None  # a hand-made address; start from the top
    statuses, conditions = _filter_spec(filter_name, user_id, today)
    key = sa.tuple_(*_ORDER)
    backwards = before is not None or last
    if after is not None:
        conditions = [*conditions, key > sa.tuple_(*after.values())]
    elif before is not None:
        conditions = [*conditions, key < sa.tuple_(*before.values())]
    order = [column.desc() if backwards else column.asc() for column in _ORDER]
    cases, assignee_names = [], {}
    assignee = aliased(User)
    for status in statuses:
        query = (
            sa.select(Case, assignee.full_name)
            .outerjoin(assignee, Case.assignee_id == assignee.id)
            .where(Case.current_unit_id == unit_id, Case.status == status, *conditions)
            .options(load_only(*LIST_COLUMNS), joinedload(Case.topic), joinedload(Case.customer))
            .order_by(*order)
            .limit(size + 1)
        )
        for case, name in db.session.execute(query):
            cases.append(case)
            assignee_names[case.id] = name
    cases.sort(key=_sort_key, reverse=backwards)
    more = len(cases) > size
    cases = cases[:size]
    if backwards:
        cases.reverse()
    if not cases:
        return Page([], None, None)
    first, final = Cursor.of(cases[0]), Cursor.of(cases[-1])
    if backwards:
        return Page(cases, final if not last else None, first if more else None, assignee_names)
    return Page(cases, final if more else None, first if after is not None else None,
                assignee_names)


def workload(unit_id, today):
    """Per holder of the unit's cases: open, overdue and due today; one grouped statement."""
    awaiting = Case.reply_wanted.is_(True)
    rows = db.session.execute(
        sa.select(
            Case.assignee_id,
            sa.func.count(),
            sa.func.sum(sa.case((sa.and_(awaiting, Case.effective_due_date < today), 1), else_=0)),
            sa.func.sum(sa.case((sa.and_(awaiting, Case.effective_due_date == today), 1), else_=0)),
        )
        .where(Case.current_unit_id == unit_id, Case.status == CaseStatus.ASSIGNED)
        .group_by(Case.assignee_id)
        # The inbox index covers this; SQLite's statistics would pick the assignee index and
        # read the table for every case.
        .with_hint(Case, "INDEXED BY ix_feedback_case_inbox", "sqlite")
    )
    return {assignee: (total, overdue or 0, due_today or 0)
            for assignee, total, overdue, due_today in rows}


def my_cases(user_id, unit_ids, limit):
    """The user's open cases in their units, most urgent first."""
    return list(db.session.scalars(
        sa.select(Case)
        .where(Case.assignee_id == user_id, Case.status == CaseStatus.ASSIGNED,
               Case.current_unit_id.in_(unit_ids))
        .options(joinedload(Case.topic), joinedload(Case.customer), joinedload(Case.current_unit))
        .order_by(*_ORDER)
        .limit(limit)
    ))


def export_rows(unit_id, filter_name, user_id, today):
    """Every case of a filtered inbox for a CSV: no message text; contact details as stored
    (masked on arrival). Streamed in batches so a large inbox never sits in memory."""
    statuses, conditions = _filter_spec(filter_name, user_id, today)
    query = (
        sa.select(Case)
        .where(Case.current_unit_id == unit_id, Case.status.in_(statuses), *conditions)
        .options(joinedload(Case.assignee), joinedload(Case.topic), joinedload(Case.customer))
        .order_by(*_ORDER)
        .execution_options(yield_per=1000)
    )
    yield from db.session.scalars(query)


def units_for_tabs(user):
    """The units whose inbox tabs the user sees: their own, in name order."""
    units = [m.unit for m in user.memberships]
    return sorted(units, key=lambda unit: unit.name)


