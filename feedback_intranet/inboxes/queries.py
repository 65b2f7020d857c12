"""Inbox lists and their counts, kept cheap at any size.

Lists use keyset pagination on the columns of their sort (by default effective due date,
received, id: the order of the inbox index), each sort with an index of its own; counts are
range counts on the inbox index, one statement for all filters.
"""

import functools
import operator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ..cases.queries import listed_cases
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..i18n import lazy_pgettext
from ..models import (
    OPEN_STATUSES,
    Answer,
    CallbackStatus,
    CallbackTask,
    Case,
    CaseStatus,
    Customer,
    Purpose,
    ReplyChannel,
    Topic,
    User,
    in_name_order,
)
from ..models.cases import SORT_INDEXES, TOPIC_SORT_LANGUAGES
from ..models.common import fixed_limit
from ..models.organisation import MemberName
from ..reads import read
from ..rules.banking_days import FIRST_DAY, LAST_DAY
from ..rules.sort_keys import MAX_LENGTH as SORT_KEY_LENGTH
from . import counters


def members_by_id(ids):
    """Holders who left a unit, as its workload lists them beside its members."""
    return [MemberName(*row) for row in read(
        sa.select(User.id, User.full_name, User.active).where(User.id.in_(ids)))]

FILTERS = {
    "open": lazy_pgettext("cases", "Open"),
    "unassigned": _l("Unassigned"),
    "mine": _l("Mine"),
    "overdue": _l("Overdue"),
    "attention": _l("Needs attention"),
    "due_today": _l("Due today"),
    "no_answer": _l("No answer wanted"),
    "answered": lazy_pgettext("cases", "Answered"),
}
DEFAULT_FILTER = "open"
_ORDER = (Case.effective_due_date, Case.received_at, Case.id)
# The inbox's sorts: each is served, within a unit and status, by the index of its columns.
SORTS = {
    "due": _l("Due"),
    "received": _l("Received"),
    "customer": _l("Customer"),
    "topic": _l("Topic"),
}
DEFAULT_SORT = "due"
# Enough of the message for its first line in a row.
MESSAGE_START = 160


# A case whose customer wanted no answer is never overdue nor due: it has a filter of its own.
AWAITING_ANSWER = Case.reply_wanted.is_(True)
MEMBER_FILTER = "member"
# Filters whose cases depend on who is asking (or on whom the team lead asks about).
PERSONAL_FILTERS = {"mine", MEMBER_FILTER}
# Filters only the unit's team leads (and admins) are offered: whom a case waits for.
LEAD_FILTERS = {"attention", MEMBER_FILTER}


def filters_for(leads):
    """The inbox's filters as its tabs offer them to a team lead of the unit or to others."""
    return FILTERS if leads else {name: label for name, label in FILTERS.items()
                                  if name not in LEAD_FILTERS}


def _filter_spec(name, user_id, today, next_bd):
    """{status: its other conditions} of the statuses a filter spans.

    `user_id` is the person "mine" means, or for the team lead's member filter the member;
    `next_bd` the banking day after `today` ("needs attention").
    """
    def each(statuses, *conditions):
        return dict.fromkeys(statuses, list(conditions))

    awaiting_answer = AWAITING_ANSWER
    due = Case.effective_due_date
    return {
        "open": lambda: each(OPEN_STATUSES, awaiting_answer),
        "unassigned": lambda: each((CaseStatus.NEW,)),
        "mine": lambda: each((CaseStatus.ASSIGNED,), Case.assignee_id == user_id),
        MEMBER_FILTER: lambda: each((CaseStatus.ASSIGNED,), Case.assignee_id == user_id),
        "overdue": lambda: each(OPEN_STATUSES, awaiting_answer, due < today),
        # NEEDS ATTENTION: overdue, or nobody holds it and it is due on the next banking day
        # or before (as counters.needs_attention counts them).
        "attention": lambda: {CaseStatus.NEW: [due <= next_bd],
                              CaseStatus.ASSIGNED: [awaiting_answer, due < today]},
        "due_today": lambda: each(OPEN_STATUSES, awaiting_answer, due == today),
        "no_answer": lambda: each(OPEN_STATUSES, Case.reply_wanted.is_(False)),
        "answered": lambda: each((CaseStatus.ANSWERED,)),
    }[name]()


# SQLite's planner has no statistics for an index made after the last ANALYZE and may read a unit's
# cases through the wrong one: each list names its index (PostgreSQL keeps column statistics).
_SORT_INDEXES = {"effective_due_date": "ix_feedback_case_inbox",
                 **{columns[0]: f"ix_feedback_case_by_{name}"
                    for name, columns in SORT_INDEXES.items()}}
_MINE_INDEXES = {"effective_due_date": "ix_feedback_case_assignee",
                 **{columns[0]: f"ix_feedback_case_mine_by_{name}"
                    for name, columns in SORT_INDEXES.items()}}


def _index_hint(filter_name, columns=None):
    """The index a list reads on SQLite: the index of its sort, for one person's cases ("mine")
    the one that starts with the holder."""
    first = columns[0].key if columns else "effective_due_date"
    return (_MINE_INDEXES if filter_name in PERSONAL_FILTERS else _SORT_INDEXES)[first]


def _hinted(query, filter_name, columns=None):
    return query.with_hint(Case, f"INDEXED BY {_index_hint(filter_name, columns)}", "sqlite")


def open_count(unit_id):
    """A unit's open cases awaiting an answer, as its "Open" filter counts them, for its tab."""
    return counters.open_count(unit_id)


def sort_columns(sort, language):
    """The columns a sort orders by, the last ones breaking ties; topics in `language`."""
    if sort == "received":
        return (Case.received_at, Case.id)
    if sort == "customer":
        return (Case.customer_sort, *_ORDER)
    if sort == "topic":
        language = language if language in TOPIC_SORT_LANGUAGES else "en"
        return (getattr(Case, f"topic_sort_{language}"), *_ORDER)
    return _ORDER


def _parse_day(text):
    day = date.fromisoformat(text)
    return day if FIRST_DAY <= day <= LAST_DAY else None


def _parse_moment(text):
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None or not FIRST_DAY.year <= moment.year <= LAST_DAY.year:
        return None
    return moment.astimezone(UTC)


def _parse_case_id(text):
    number = int(text)
    return number if 0 < number < 2**31 else None


def _parse_key(text):
    return text if len(text) <= SORT_KEY_LENGTH else None


# How each sort column's value is read back from a cursor; None: out of range, i.e. tampered
# with (it would overflow date arithmetic or match nothing).
_PARSERS = {"effective_due_date": _parse_day, "received_at": _parse_moment, "id": _parse_case_id}


@dataclass(frozen=True)
class Cursor:
    """Where a page starts or ends: the values of its sort's columns for one case."""

    values: tuple

    def encode(self):
        # "_" never occurs in a sort key, an ISO date or time, or an id.
        return "_".join(value.isoformat() if isinstance(value, date) else str(value)
                        for value in self.values)

    @classmethod
    def decode(cls, text, columns):
        """The cursor in `text` for a sort of `columns`, or None when it is missing, malformed,
        out of range or made for another sort."""
        if not isinstance(text, str):
            return None
        parts = text.split("_")
        if len(parts) != len(columns):
            return None
        try:
            values = tuple(_PARSERS.get(column.key, _parse_key)(part)
                           for column, part in zip(columns, parts, strict=True))
        except (ValueError, OverflowError):
            return None
        return None if None in values else cls(values)

    @classmethod
    def of(cls, case, columns):
        return cls(tuple(getattr(case, column.key) for column in columns))


@dataclass
class Page:
    rows: list  # InboxRow
    next_cursor: Cursor | None
    prev_cursor: Cursor | None


class InboxRow(NamedTuple):
    """What one inbox row shows, read as plain values (no case object): the assignee's, the
    customer's and the topic's names come with it, so a row cached under these values is
    never older than them."""

    id: int
    version: int
    reference: str
    received_at: datetime
    effective_due_date: date
    customer_sort: str
    topic_sort: str
    status: CaseStatus
    case_type: object
    reply_wanted: bool
    reply_channel: ReplyChannel | None
    due_date: date
    estimated_decision_date: date | None
    delivery_problem: str | None
    masked_kinds: str | None
    reply_due_date: date | None
    # When the customer wrote back, until staff answer or close the case.
    customer_replied_at: datetime | None
    # The customer's language: the message's first line is written in it.
    language: object
    shown_customer_name: str
    topic_name: str
    assignee_name: str | None
    first_line: str


# Row fields under another name than their column: the topic key of the reader's language.
_ROW_FIELD = {f"topic_sort_{language}": "topic_sort" for language in TOPIC_SORT_LANGUAGES}


@functools.cache
def _row_key(keys):
    """A row's values of the columns named `keys` (every sort has two or more: the id breaks
    ties), as a tuple: what a page's cursors hold. Built once per sort: the column names looked
    up again for every row were 7 % of an inbox's first view after a change in a profile."""
    return operator.attrgetter(*(_ROW_FIELD.get(key, key) for key in keys))


@functools.cache
def _row_columns(topic_key):
    """What a row reads, with the topic key of the reader's language; built once per key."""
    assignee = aliased(User)
    select = sa.select(
        Case.id, Case.version, Case.reference, Case.received_at, Case.effective_due_date,
        Case.customer_sort, topic_key, Case.status, Case.case_type, Case.reply_wanted,
        Case.reply_channel, Case.due_date, Case.estimated_decision_date, Case.delivery_problem,
        Case.masked_kinds, Case.reply_due_date, Case.customer_replied_at, Case.language,
        Case.contact_name, Customer.name, Topic.name, Topic.name_fi,
        Topic.name_sv, assignee.full_name, sa.func.substr(Case.message, 1, MESSAGE_START),
    )
    # Outer joins all (every case has a topic): the planners then keep reading the cases in the
    # index's order and look the names up per row, rather than sorting a join.
    return (select.outerjoin(Topic, Topic.id == Case.topic_id)
            .outerjoin(Customer, Customer.id == Case.customer_id)
            .outerjoin(assignee, Case.assignee_id == assignee.id))


def _inbox_row(values, language):
    (*head, contact_name, customer_name, topic, topic_fi, topic_sv, assignee_name,
     message_start) = values
    return InboxRow(*head, Case.name_shown(contact_name, customer_name),
                    Topic.name_for(language, topic, topic_fi, topic_sv), assignee_name,
                    first_line(message_start))


@functools.cache
def _page_statement(filter_name, keys, descending, reverse, paging):
    """The statement of inbox_page for one shape of page, built once: the unit, the person and
    days the filter names, the cursor and the size are parameters (building it anew took a first
    view more time than SQLite took to run it).

    Each status the filter spans is read in its index's order up to the page's size, its sort
    keys only; the database merges these few keys and reads the rows of a page of them. (Read
    one statement a status and merged here, every row of every status came over, read and
    built, to keep one page: 15 % of a first view after a change. Merged as whole rows, each
    shape's statement held some 100 kB of columns in a worker.)"""
    columns = [getattr(Case, key) for key in keys]
    rows = _row_columns(next((column for column in columns if column.key.startswith("topic_sort_")),
                             Case.topic_sort_en))
    shape = (filter_name, columns, descending, reverse, paging)
    keyed = _status_lists(sa.select(*columns), *shape)
    if len(keyed) == 1:  # one status: its list is the page
        return _status_lists(rows, *shape)[0]
    merged = sa.union_all(*(sa.select(each.subquery()) for each in keyed)).subquery()
    return (rows.join(merged, merged.c.id == Case.id)
            .order_by(*(merged.c[key].desc() if reverse else merged.c[key] for key in keys))
            .limit(fixed_limit(name="size")))


def _status_lists(select, filter_name, columns, descending, reverse, paging):
    """`select` for each status of the filter, reading its index in order up to the size."""
    spec = _filter_spec(filter_name, sa.bindparam("user_id"),
                        sa.bindparam("today", type_=sa.Date), sa.bindparam("next_bd", type_=sa.Date))
    key = sa.tuple_(*columns)
    cursor = sa.tuple_(*(sa.bindparam(f"cursor_{i}", type_=column.type)
                         for i, column in enumerate(columns)))
    # Forward past the cursor in the sort's order, or back before it.
    paging = [] if paging is None else [key < cursor if (paging == "after") == descending
                                        else key > cursor]
    order = [column.desc() if reverse else column.asc() for column in columns]
    return [_hinted(select.where(Case.current_unit_id == sa.bindparam("unit_id"),
                                 Case.status == status, *conditions, *paging)
                    .order_by(*order).limit(fixed_limit(name="size")), filter_name, columns)
            for status, conditions in spec.items()]


def inbox_page(unit_id, filter_name, user_id, today, next_bd, size, *, columns=_ORDER,
               descending=False, after=None, before=None, last=False, language="en"):
    """One page of an inbox in the order of `columns` (from `sort_columns`), topics named in
    `language`.

    `after` pages forward, `before` pages back, `last` jumps to the end. Each status is read in
    its index's order with a limit and the database merges the few rows, so no page sorts the
    whole inbox, however deep it is.
    """
    if after is not None and before is not None:
        after = before = None  # a hand-made address; start from the top
    backwards = before is not None or last
    # The direction the index is read in: the sort's, turned round when paging back.
    reverse = descending != backwards
    cursor = after or before
    parameters = {"unit_id": unit_id, "user_id": user_id, "today": today, "next_bd": next_bd,
                  "size": size + 1,
                  **({f"cursor_{i}": value for i, value in enumerate(cursor.values)}
                     if cursor else {})}
    paging = "after" if after is not None else "before" if before is not None else None
    keys = tuple(column.key for column in columns)
    rows = [_inbox_row(values, language) for values in read(
        _page_statement(filter_name, keys, descending, reverse, paging), parameters)]
    row_key = _row_key(keys)
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    if not rows:
        return Page([], None, None)
    first, final = Cursor(row_key(rows[0])), Cursor(row_key(rows[-1]))
    if backwards:
        next_cursor, prev_cursor = (final if not last else None), (first if more else None)
    else:
        next_cursor, prev_cursor = (final if more else None), (first if after is not None else None)
    return Page(rows, next_cursor, prev_cursor)


def next_case_reference(unit_id, filter_name, user_id, today, next_bd, columns, descending,
                        case):
    """The reference of the case after `case` in a list (where `case` stands in it, or would stand
    after it left: a forwarded case keeps its place), or None at the end of the list."""
    page = inbox_page(unit_id, filter_name, user_id, today, next_bd, 1, columns=columns,
                      descending=descending, after=Cursor.of(case, columns))
    return page.rows[0].reference if page.rows else None


def case_by_reference(reference):
    return db.session.scalar(sa.select(Case).where(Case.reference == reference))


def first_line(text):
    """The message's first line with words in it (the message is stored masked). Every line
    break is whitespace, so the first line of what follows the leading whitespace is that line."""
    text = (text or "").lstrip()
    return text.splitlines()[0].rstrip() if text else ""


@dataclass(frozen=True)
class Waiting:
    """An answer on its way: by which channel, and for a call the window it is planned in."""

    channel: ReplyChannel
    window_start: datetime | None = None
    window_end: datetime | None = None
    closes_case: bool = False  # sent with "Send, close when delivered"


def waiting_answers(case_ids):
    """{case id: Waiting} for the cases whose answer has not yet reached the customer; one
    statement for the page, through the index of pending answers."""
    if not case_ids:
        return {}
    rows = read(
        sa.select(Answer.case_id, Answer.channel, CallbackTask.window_start, CallbackTask.window_end,
                  Answer.close_when_delivered)
        .outerjoin(CallbackTask, sa.and_(CallbackTask.answer_id == Answer.id,
                                         CallbackTask.status == CallbackStatus.OPEN))
        # The literal lets SQLite use the partial index of pending answers.
        .where(Answer.case_id.in_(case_ids), Answer.status == sa.literal_column("'pending'"),
               Answer.purpose == Purpose.ANSWER)
    )
    return {case_id: Waiting(*values) for case_id, *values in rows}


def workload(unit_id, today):
    """Per holder of the unit's cases: open, overdue and due today, from the counters."""
    return counters.workload(unit_id, today)


def my_cases(user_id, unit_ids, limit):
    """The user's open cases in their units, most urgent first (ListedCase rows)."""
    return listed_cases(Case.assignee_id == user_id, Case.status == CaseStatus.ASSIGNED,
                        Case.current_unit_id.in_(unit_ids), order_by=_ORDER,
                        limit=fixed_limit(limit))


def export_rows(unit_id, filter_name, user_id, today, next_bd):
    """Every case of a filtered inbox for a CSV: no message text; contact details as stored
    (masked on arrival). Plain rows of the columns the file has, not case objects, streamed in
    batches so a large inbox never sits in memory."""
    spec = _filter_spec(filter_name, user_id, today, next_bd)
    shared = next(iter(spec.values()))
    if all(conditions is shared for conditions in spec.values()):  # made by each()
        in_filter = sa.and_(Case.status.in_(spec), *shared)
    else:
        in_filter = sa.or_(*(sa.and_(Case.status == status, *conditions)
                             for status, conditions in spec.items()))
    assignee = aliased(User)
    query = (
        sa.select(Case.reference, Case.received_at, Case.due_date, Case.estimated_decision_date,
                  Case.status, Case.case_type, Topic.name, Topic.name_fi, Topic.name_sv,
                  Case.segment, Case.reply_channel, Case.language, assignee.full_name,
                  Case.contact_name, Customer.name.label("customer_name"),
                  Customer.customer_number, Case.masked_kinds)
        .join(Topic, Topic.id == Case.topic_id)
        .outerjoin(assignee, assignee.id == Case.assignee_id)
        .outerjoin(Customer, Customer.id == Case.customer_id)
        .where(Case.current_unit_id == unit_id, in_filter)
        .order_by(*_ORDER)
        .execution_options(yield_per=1000)
    )
    yield from db.session.execute(query)


def units_for_tabs(user, language):
    """The units whose inbox tabs the user sees: their own, in the order of their names."""
    return in_name_order([m.unit for m in user.memberships], language)


