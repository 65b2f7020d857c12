"""Cases, their timeline, and what belongs to them."""

from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..rules.banking_days import local_date
from ..rules.sort_keys import NO_NAME, sort_key

if TYPE_CHECKING:
    from .replies import Answer
from .common import (
    OPEN_STATUSES,
    AnswerStatus,
    CaseStatus,
    CaseType,
    EventKind,
    IntakeChannel,
    Language,
    MatchMethod,
    Purpose,
    ReplyChannel,
    Resolution,
    Segment,
    UTCDateTime,
    enum_column,
)
from .organisation import Customer, Topic, Unit, User

# Sort keys compare byte by byte: PostgreSQL's "C" collation, SQLite's default.
SortKey = sa.String(60).with_variant(sa.String(60, collation="C"), "postgresql")
# The languages a topic is shown in, each with its own sort key on the case.
TOPIC_SORT_LANGUAGES = ("fi", "sv", "en")
# The inbox's sorts besides the due date: each index serves one sort within a unit and status.
SORT_INDEXES = {
    "received": ("received_at", "id"),
    "customer": ("customer_sort", "effective_due_date", "received_at", "id"),
    **{f"topic_{language}": (f"topic_sort_{language}", "effective_due_date", "received_at", "id")
       for language in TOPIC_SORT_LANGUAGES},
}

# What a case's first answer sets, in this order (see Case.first_answer_values).
FIRST_ANSWER_COLUMNS = ("first_answered_at", "first_answer_on", "first_answer_banking_days",
                        "first_answer_unit_id", "first_answer_channel")


# The columns that find a customer's cases: matched in the register, or the email or phone given.
CUSTOMER_KEYS = ("customer_id", "contact_email", "contact_phone")


class Case(db.Model):
    __tablename__ = "feedback_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(20), unique=True)
    # active_history on every column a report figure rests on: a change always knows the value
    # it replaced, so the report summaries it leaves are counted down (see reports.summaries).
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True, active_history=True)
    intake_channel: Mapped[IntakeChannel] = enum_column(IntakeChannel, default=IntakeChannel.WEB_FORM,
                                                        active_history=True)

    # Contact details as the customer gave them.
    contact_name: Mapped[str] = mapped_column(sa.String(120), default="")
    contact_street: Mapped[str] = mapped_column(sa.String(200), default="")
    contact_postal_code: Mapped[str] = mapped_column(sa.String(10), default="")
    contact_city: Mapped[str] = mapped_column(sa.String(80), default="")
    # ISO 3166 alpha-2; the postal code is written in this country's format.
    contact_country: Mapped[str] = mapped_column(sa.String(2), default="FI", server_default="FI")
    contact_phone: Mapped[str] = mapped_column(sa.String(20), default="")
    contact_email: Mapped[str] = mapped_column(sa.String(254), default="")

    segment: Mapped[Segment] = enum_column(Segment, active_history=True)
    topic_id: Mapped[int] = mapped_column(sa.ForeignKey("topic.id"), active_history=True)
    case_type: Mapped[CaseType] = enum_column(CaseType, default=CaseType.FEEDBACK)
    message: Mapped[str] = mapped_column(sa.Text)
    # active_history on what the inbox counters key on: a change always knows the value it
    # replaced, so the counter it leaves is counted down (see inboxes.counters).
    reply_wanted: Mapped[bool] = mapped_column(active_history=True)
    reply_channel: Mapped[ReplyChannel | None] = enum_column(ReplyChannel, nullable=True,
                                                            active_history=True)
    language: Mapped[Language] = enum_column(Language)

    status: Mapped[CaseStatus] = enum_column(CaseStatus, default=CaseStatus.NEW, active_history=True)
    # active_history: a move always knows the unit it left, for that unit's inbox stamp.
    current_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), active_history=True)
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"),
                                                     active_history=True)
    customer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customer.id"))
    match_method: Mapped[MatchMethod] = enum_column(MatchMethod, default=MatchMethod.NONE)
    # The customer service unit that received a form case keeps reading it wherever it goes.
    service_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"))
    suggested_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"))
    # Kinds of sensitive data masked on arrival, comma-separated; empty when none.
    masked_kinds: Mapped[str] = mapped_column(sa.String(64), default="")
    # The public form's one-time token, so a double submit makes one case.
    submission_token: Mapped[str | None] = mapped_column(sa.String(64), unique=True)

    due_date: Mapped[date] = mapped_column(active_history=True)
    estimated_decision_date: Mapped[date | None] = mapped_column(active_history=True)
    # The reply deadline while there is one, else the estimate when there is one, else the due
    # date: inboxes sort and count on it.
    effective_due_date: Mapped[date] = mapped_column(active_history=True)
    first_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[Resolution | None] = enum_column(Resolution, nullable=True, active_history=True)
    # Set with first_answered_at so reports need no calendar or time zone arithmetic per row:
    # the local day of the first answer, banking days from the day of receipt to it, the unit
    # that gave it and the channel it went by.
    first_answer_on: Mapped[date | None] = mapped_column(active_history=True)
    first_answer_banking_days: Mapped[int | None] = mapped_column(active_history=True)
    first_answer_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"),
                                                              active_history=True)
    first_answer_channel: Mapped[ReplyChannel | None] = enum_column(ReplyChannel, nullable=True,
                                                                   active_history=True)
    # The local day the first interim notice went out: the promise then moves to the estimate.
    interim_notice_on: Mapped[date | None] = mapped_column(active_history=True)
    # About the customer's own banking matters: never answered by email.
    own_banking_matter: Mapped[bool] = mapped_column(default=False)
    # Why the last answer or notice did not reach the customer; empty when all is well.
    delivery_problem: Mapped[str] = mapped_column(sa.String(300), default="")
    # The address the customer's mail server refused (5xx to RCPT TO): no email goes to it
    # until the contact email is corrected.
    email_refused: Mapped[str] = mapped_column(sa.String(254), default="", server_default="")
    duplicate_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("feedback_case.id"))
    # The customer wrote back by email more than 30 days after this case's answer: the reply
    # became this new case, which names the old one.
    follows_case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("feedback_case.id"))
    # A reply that reopened the case awaits an answer by this day (the third banking day after
    # the Helsinki day of the reply): the badge, the inbox and the reminders use it while it is
    # set, and the due date and the estimate stay the promise of record for the reports.
    reply_due_date: Mapped[date | None] = mapped_column(active_history=True)
    # When the customer last wrote back, until staff answer or close the case: the inbox row
    # says "customer replied".
    customer_replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the retention run removed the personal data; the statistics fields stay.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)
    # The inbox sorts on these: the name the inbox shows (contact name, else the register's) and
    # the topic's name in each language, as rules.sort_keys makes them (kept by inboxes.sorting).
    customer_sort: Mapped[str] = mapped_column(SortKey, default=NO_NAME, server_default=NO_NAME)
    topic_sort_fi: Mapped[str] = mapped_column(SortKey, default="", server_default="")
    topic_sort_sv: Mapped[str] = mapped_column(SortKey, default="", server_default="")
    topic_sort_en: Mapped[str] = mapped_column(SortKey, default="", server_default="")

    topic: Mapped[Topic] = relationship()
    current_unit: Mapped[Unit] = relationship(foreign_keys=[current_unit_id])
    service_unit: Mapped[Unit | None] = relationship(foreign_keys=[service_unit_id])
    suggested_unit: Mapped[Unit | None] = relationship(foreign_keys=[suggested_unit_id])
    assignee: Mapped[User | None] = relationship()
    customer: Mapped[Customer | None] = relationship()
    duplicate_of: Mapped["Case | None"] = relationship(remote_side=[id],
                                                       foreign_keys=[duplicate_of_id])
    follows_case: Mapped["Case | None"] = relationship(remote_side=[id],
                                                       foreign_keys=[follows_case_id])
    past_units: Mapped[list["CasePastUnit"]] = relationship(cascade="all, delete-orphan")
    events: Mapped[list["CaseEvent"]] = relationship(
        back_populates="case", order_by="(CaseEvent.at, CaseEvent.id)"
    )
    # Read-only, for the case page: answers are made through the replies module's operations.
    answers: Mapped[list["Answer"]] = relationship(viewonly=True, order_by="Answer.id")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # Inbox lists and their counts: one unit, one status, ordered by urgency; reply_wanted
        # and assignee_id last so the counts and the workload view never touch the table.
        sa.Index(
            "ix_feedback_case_inbox",
            "current_unit_id", "status", "effective_due_date", "received_at", "id", "reply_wanted",
            "assignee_id",
        ),
        # The retention run: closed cases by age.
        sa.Index("ix_feedback_case_closed", "status", "closed_at"),
        # "Mine": one person's cases in one inbox, in the same order.
        sa.Index(
            "ix_feedback_case_assignee",
            "assignee_id", "current_unit_id", "status", "effective_due_date", "received_at", "id",
        ),
        *(sa.Index(f"ix_feedback_case_by_{name}", "current_unit_id", "status", *columns)
          for name, columns in SORT_INDEXES.items()),
        # The same sorts for one person's cases ("mine"): what they hold, not what the unit holds.
        *(sa.Index(f"ix_feedback_case_mine_by_{name}", "assignee_id", "current_unit_id", "status",
                   *columns) for name, columns in SORT_INDEXES.items()),
        # The same customer's cases by each of the keys that find them, newest last: the case
        # page lists the newest few without reading the rest (cases.queries.other_cases).
        *(sa.Index(f"ix_feedback_case_{key}", key, "received_at", "id") for key in CUSTOMER_KEYS),
        # A unit's cases newest first, held now or received from the form: PostgreSQL's search
        # reads the cases a user may see in this order (access.visible_case_ids_newest_first).
        sa.Index("ix_feedback_case_unit_newest", "current_unit_id", "id"),
        sa.Index("ix_feedback_case_service_newest", "service_unit_id", "id"),
    )

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    @property
    def waiting_answer(self):
        """The answer on its way to the customer (an email in the outbox, a letter not posted, a
        call not made), if one is: a case has one at a time."""
        return next((a for a in self.answers
                     if a.purpose == Purpose.ANSWER and a.status == AnswerStatus.PENDING), None)

    @property
    def sensitive_data_removed(self):
        return bool(self.masked_kinds)

    @property
    def shown_customer_name(self):
        return self.name_shown(self.contact_name, self.customer.name if self.customer else None)

    @staticmethod
    def name_shown(contact_name, customer_name):
        """The name lists show: as the customer gave it, else the register's (for rows read
        without the objects too)."""
        return contact_name or customer_name or ""

    def set_estimate(self, estimate):
        self.estimated_decision_date = estimate
        self.effective_due_date = self.reply_due_date or estimate or self.due_date

    def set_reply_due_date(self, day):
        """A customer's reply awaits an answer by `day` (None: no longer): while it does, the
        inbox, the badge and the reminders follow it instead of the due date or the estimate."""
        self.reply_due_date = day
        self.effective_due_date = day or self.estimated_decision_date or self.due_date

    def clear_customer_reply(self):
        """Staff answered the customer's reply, or closed the case: the marker and the reply
        deadline go."""
        if self.customer_replied_at is not None:
            self.customer_replied_at = None
        if self.reply_due_date is not None:
            self.set_reply_due_date(None)

    @staticmethod
    def first_answer_values(received_at, answered_at, unit_id, channel, calendar):
        """{column: value} that a first answer reaching the customer at `answered_at`, given by
        `unit_id` by `channel`, sets on a case received at `received_at`: the one definition for
        the operations (record_first_answer) and the demo loader, which writes rows directly."""
        day = local_date(answered_at, calendar.tz)
        banking_days = calendar.banking_days_between(local_date(received_at, calendar.tz), day)
        return dict(zip(FIRST_ANSWER_COLUMNS, (answered_at, day, banking_days, unit_id, channel),
                        strict=True))

    def record_first_answer(self, answered_at, channel, calendar):
        """The first answer reached the customer: the promise is measured on this moment, by the
        unit holding the case now."""
        values = self.first_answer_values(self.received_at, answered_at, self.current_unit_id,
                                          channel, calendar)
        for column, value in values.items():
            setattr(self, column, value)

    def forget_first_answer(self):
        """The answer counted as the first did not reach the customer after all."""
        for column in FIRST_ANSWER_COLUMNS:
            setattr(self, column, None)


def topic_sort_key(topic, language):
    return sort_key(topic.name_in(language)) if topic is not None else ""


def sort_keys(shown_name, topic):
    """{column: key} of the inbox's name sorts for a case showing `shown_name` and `topic`."""
    keys = {"customer_sort": sort_key(shown_name)}
    for language in TOPIC_SORT_LANGUAGES:
        keys[f"topic_sort_{language}"] = topic_sort_key(topic, language)
    return keys


class CaseEvent(db.Model):
    """One step on a case's timeline."""

    __tablename__ = "case_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("feedback_case.id"))
    kind: Mapped[EventKind] = enum_column(EventKind)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"))
    from_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"))
    to_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"))
    # What a person wrote: a note, an answer, a reason. The event's own sentence is written from
    # `facts` in the reader's language (cases.timeline); events the facts came too late for, and
    # whose English sentence the migration could not read, keep that sentence here.
    text: Mapped[str] = mapped_column(sa.Text, default="")
    facts: Mapped[dict | None] = mapped_column(sa.JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
    from_unit: Mapped[Unit | None] = relationship(foreign_keys=[from_unit_id])
    to_unit: Mapped[Unit | None] = relationship(foreign_keys=[to_unit_id])

    __table_args__ = (
        sa.Index("ix_case_event_case_at", "case_id", "at"),
        # Forwards only, a tenth of the events: rebuilding the forwarding summaries reads them
        # (see reports.summaries.FORWARDED).
        sa.Index("ix_case_event_forwarded", "case_id", "from_unit_id", "to_unit_id",
                 sqlite_where=sa.text("kind = 'forwarded'"),
                 postgresql_where=sa.text("kind = 'forwarded'")),
    )


class CaseEscalation(db.Model):
    """A case reported overdue to the team lead of the unit holding it (or, without one, to the
    administrators or the unit's escalation address), on the first morning it was overdue there."""

    __tablename__ = "case_escalation"

    case_id: Mapped[int] = mapped_column(sa.ForeignKey("feedback_case.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), primary_key=True)
    escalated_on: Mapped[date]

    # The reports count them per unit and week.
    __table_args__ = (sa.Index("ix_case_escalation_unit_day", "unit_id", "escalated_on"),)


class CasePastUnit(db.Model):
    """A unit that held a case before it was forwarded on: it keeps reading the case."""

    __tablename__ = "case_past_unit"

    case_id: Mapped[int] = mapped_column(sa.ForeignKey("feedback_case.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), primary_key=True, index=True)

    # The cases a unit held before, newest first (the search, like the unit's own cases).
    __table_args__ = (sa.Index("ix_case_past_unit_newest", "unit_id", "case_id"),)


class UsedFormToken(db.Model):
    """One-time tokens of case action forms, so a double click acts once."""

    __tablename__ = "used_form_token"

    token: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InboxCount(db.Model):
    """How many of a unit's listed cases have one status, holder, wish for an answer and due date:
    kept in the transaction of every change to a case (inboxes.counters), so an inbox's filter
    counts are sums of a few rows, not counts of its cases. Closed cases are not counted."""

    __tablename__ = "inbox_count"

    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), primary_key=True)
    status: Mapped[CaseStatus] = enum_column(CaseStatus, primary_key=True)
    # 0: nobody holds them (a key column cannot be NULL).
    holder_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    reply_wanted: Mapped[bool] = mapped_column(primary_key=True)
    due: Mapped[date] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(sa.Integer)


class InboxStamp(db.Model):
    """A number per unit that changes, in the same transaction, whenever anything its inbox
    lists or counts changes; cached inbox figures are filed under it (see inboxes.stamps)."""

    __tablename__ = "inbox_stamp"

    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), primary_key=True)
    stamp: Mapped[int] = mapped_column(sa.BigInteger)
