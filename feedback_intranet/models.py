"""The tables: units and staff, the customer register, cases and their timeline."""

import enum
from datetime import UTC, date, datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from sqlalchemy.types import TypeDecorator

from .extensions import db


class UTCDateTime(TypeDecorator):
    """An aware datetime stored in UTC; SQLite keeps it naive, so UTC is re-attached on read."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware one is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class TitledEnum(enum.StrEnum):
    """A string enum whose members carry the title shown to users."""

    def __new__(cls, value, title):
        member = str.__new__(cls, value)
        member._value_ = value
        member.title = title
        return member


def enum_column(enum_cls, **kwargs):
    return mapped_column(
        sa.Enum(
            enum_cls,
            native_enum=False,
            length=32,
            values_callable=lambda members: [m.value for m in members],
            validate_strings=True,
        ),
        **kwargs,
    )


class UnitKind(TitledEnum):
    CUSTOMER_SERVICE = "customer_service", "Customer service"
    BUSINESS_CUSTOMER_SERVICE = "business_customer_service", "Business customer service"
    BRANCH_OFFICE = "branch_office", "Branch office"
    CENTRAL_UNIT = "central_unit", "Central unit"


class Language(TitledEnum):
    FI = "fi", "Finnish"
    SV = "sv", "Swedish"
    EN = "en", "English"


class Segment(TitledEnum):
    PRIVATE = "private", "Private customer"
    BUSINESS = "business", "Business customer"


class CaseStatus(TitledEnum):
    NEW = "new", "New"
    ASSIGNED = "assigned", "Assigned"
    ANSWERED = "answered", "Answered"
    CLOSED = "closed", "Closed"


OPEN_STATUSES = (CaseStatus.NEW, CaseStatus.ASSIGNED)


class CaseType(TitledEnum):
    FEEDBACK = "feedback", "Other feedback"
    COMPLAINT = "complaint", "Complaint"
    QUESTION = "question", "Question"
    PRAISE = "praise", "Praise"
    SUGGESTION = "suggestion", "Suggestion"


class ReplyChannel(TitledEnum):
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone call"
    LETTER = "letter", "Letter"


class IntakeChannel(TitledEnum):
    WEB_FORM = "web_form", "Feedback form"
    PHONE = "phone", "Phone"
    COUNTER = "counter", "Branch counter"
    LETTER = "letter", "Letter"


class EventKind(TitledEnum):
    RECEIVED = "received", "Received"
    ROUTED = "routed", "Routed"
    FORWARDED = "forwarded", "Forwarded"
    ASSIGNED = "assigned", "Assigned"
    UNASSIGNED = "unassigned", "Returned to inbox"
    NOTE = "note", "Note"
    INTERIM_NOTICE = "interim_notice", "Interim notice"
    REPLIED = "replied", "Answered"
    CLOSED = "closed", "Closed"
    REOPENED = "reopened", "Reopened"
    CUSTOMER_MATCHED = "customer_matched", "Customer set"
    CORRECTED = "corrected", "Corrected"
    DUPLICATE = "duplicate", "Duplicate"


class Resolution(TitledEnum):
    ANSWERED = "answered", "Answered"
    NO_ANSWER_WANTED = "no_answer_wanted", "No answer wanted"
    DUPLICATE = "duplicate", "Duplicate"
    WITHDRAWN = "withdrawn", "Withdrawn by the customer"
    OTHER = "other", "Other"


def name_key(name):
    """A name as matching compares it: case-folded, single-spaced."""
    return " ".join(name.casefold().split())


def utcnow():
    return datetime.now(UTC)


class Unit(db.Model):
    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    kind: Mapped[UnitKind] = enum_column(UnitKind)
    street_address: Mapped[str] = mapped_column(sa.String(200), default="")
    postal_code: Mapped[str] = mapped_column(sa.String(10), default="")
    city: Mapped[str] = mapped_column(sa.String(80), default="")
    active: Mapped[bool] = mapped_column(default=True)

    def __repr__(self):
        return f"<Unit {self.code}>"


class Membership(db.Model):
    """A user's place in a unit; a team lead leads that unit only."""

    __tablename__ = "membership"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_user.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), primary_key=True, index=True)
    is_team_lead: Mapped[bool] = mapped_column(default=False)

    user: Mapped["User"] = relationship(back_populates="memberships")
    unit: Mapped[Unit] = relationship(lazy="joined")


class User(UserMixin, db.Model):
    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(120))
    email: Mapped[str] = mapped_column(sa.String(254))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    is_admin: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    language: Mapped[Language] = enum_column(Language, default=Language.EN)
    # Opted in to an email when a case is assigned or forwarded to them or their unit.
    notify_by_email: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by=Membership.unit_id
    )

    @property
    def is_active(self):
        return self.active

    def __repr__(self):
        return f"<User {self.username}>"


class Customer(db.Model):
    """One entry of the customer register."""

    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    street_address: Mapped[str] = mapped_column(sa.String(200))
    postal_code: Mapped[str] = mapped_column(sa.String(10))
    city: Mapped[str] = mapped_column(sa.String(80))
    phone: Mapped[str | None] = mapped_column(sa.String(20), index=True)
    email: Mapped[str | None] = mapped_column(sa.String(254), index=True)
    language: Mapped[Language] = enum_column(Language)
    segment: Mapped[Segment] = enum_column(Segment)
    home_office_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)

    # The name case-folded with single spaces: matching compares names this way.
    name_key: Mapped[str] = mapped_column(sa.String(120))

    home_office: Mapped[Unit] = relationship()

    __table_args__ = (sa.Index("ix_customer_name_key_postal_code", "name_key", "postal_code"),)

    @validates("name")
    def _keep_name_key(self, _key, name):
        self.name_key = name_key(name)
        return name

    @validates("email")
    def _normalise_email(self, _key, email):
        return email.strip().lower() if email else email


class Topic(db.Model):
    """What the feedback is about; the bank edits the list."""

    __tablename__ = "topic"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    active: Mapped[bool] = mapped_column(default=True)
    # The central unit responsible for the topic's product: the suggested forward target.
    central_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"))

    central_unit: Mapped[Unit | None] = relationship()


class RoutingRule(db.Model):
    """Feedback on a topic from a segment goes straight to a unit, skipping customer service."""

    __tablename__ = "routing_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    topic_id: Mapped[int] = mapped_column(sa.ForeignKey("topic.id"))
    # None: any segment.
    segment: Mapped[Segment | None] = enum_column(Segment, nullable=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"))
    active: Mapped[bool] = mapped_column(default=True)

    topic: Mapped[Topic] = relationship()
    unit: Mapped[Unit] = relationship()


class MatchMethod(TitledEnum):
    EMAIL = "email", "Matched by email address"
    PHONE = "phone", "Matched by phone number"
    NAME_POSTAL_CODE = "name_postal_code", "Matched by name and postal code"
    AMBIGUOUS = "ambiguous", "Several possible customers"
    NONE = "none", "No customer found"
    MANUAL = "manual", "Set by hand"


class ClosingDay(db.Model):
    """A day the bank is closed besides weekends and Finnish bank holidays."""

    __tablename__ = "closing_day"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(unique=True)
    reason: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"))

    created_by: Mapped[User | None] = relationship()


class ReferenceCounter(db.Model):
    """The last case number given out in a Helsinki calendar year."""

    __tablename__ = "reference_counter"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)


class Case(db.Model):
    __tablename__ = "feedback_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(20), unique=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    intake_channel: Mapped[IntakeChannel] = enum_column(IntakeChannel, default=IntakeChannel.WEB_FORM)

    # Contact details as the customer gave them.
    contact_name: Mapped[str] = mapped_column(sa.String(120), default="")
    contact_street: Mapped[str] = mapped_column(sa.String(200), default="")
    contact_postal_code: Mapped[str] = mapped_column(sa.String(10), default="")
    contact_city: Mapped[str] = mapped_column(sa.String(80), default="")
    contact_phone: Mapped[str] = mapped_column(sa.String(20), default="")
    contact_email: Mapped[str] = mapped_column(sa.String(254), default="")

    segment: Mapped[Segment] = enum_column(Segment)
    topic_id: Mapped[int] = mapped_column(sa.ForeignKey("topic.id"))
    case_type: Mapped[CaseType] = enum_column(CaseType, default=CaseType.FEEDBACK)
    message: Mapped[str] = mapped_column(sa.Text)
    reply_wanted: Mapped[bool]
    reply_channel: Mapped[ReplyChannel | None] = enum_column(ReplyChannel, nullable=True)
    language: Mapped[Language] = enum_column(Language)

    status: Mapped[CaseStatus] = enum_column(CaseStatus, default=CaseStatus.NEW)
    current_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"))
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"))
    customer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customer.id"), index=True)
    match_method: Mapped[MatchMethod] = enum_column(MatchMethod, default=MatchMethod.NONE)
    # The customer service unit that received a form case keeps reading it wherever it goes.
    service_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"))
    suggested_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"))
    # Kinds of sensitive data masked on arrival, comma-separated; empty when none.
    masked_kinds: Mapped[str] = mapped_column(sa.String(64), default="")
    # The public form's one-time token, so a double submit makes one case.
    submission_token: Mapped[str | None] = mapped_column(sa.String(64), unique=True)

    due_date: Mapped[date]
    estimated_decision_date: Mapped[date | None]
    # The estimate when there is one, else the due date: inboxes sort and count on it.
    effective_due_date: Mapped[date]
    first_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[Resolution | None] = enum_column(Resolution, nullable=True)
    duplicate_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("feedback_case.id"))
    version: Mapped[int] = mapped_column(default=1)

    topic: Mapped[Topic] = relationship()
    current_unit: Mapped[Unit] = relationship(foreign_keys=[current_unit_id])
    service_unit: Mapped[Unit | None] = relationship(foreign_keys=[service_unit_id])
    suggested_unit: Mapped[Unit | None] = relationship(foreign_keys=[suggested_unit_id])
    assignee: Mapped[User | None] = relationship()
    customer: Mapped[Customer | None] = relationship()
    duplicate_of: Mapped["Case | None"] = relationship(remote_side=[id])
    past_units: Mapped[list["CasePastUnit"]] = relationship(cascade="all, delete-orphan")
    events: Mapped[list["CaseEvent"]] = relationship(
        back_populates="case", order_by="(CaseEvent.at, CaseEvent.id)"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # Inbox lists and their counts: one unit, one status, ordered by urgency;
        # reply_wanted last so the overdue counts never touch the table.
        sa.Index(
            "ix_feedback_case_inbox",
            "current_unit_id", "status", "effective_due_date", "received_at", "id", "reply_wanted",
        ),
        # "Mine": one person's cases in one inbox, in the same order.
        sa.Index(
            "ix_feedback_case_assignee",
            "assignee_id", "current_unit_id", "status", "effective_due_date", "received_at", "id",
        ),
    )

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    @property
    def sensitive_data_removed(self):
        return bool(self.masked_kinds)

    def set_estimate(self, estimate):
        self.estimated_decision_date = estimate
        self.effective_due_date = estimate or self.due_date


class CaseEvent(db.Model):
    """One step on a case's timeline."""

    __tablename__ = "case_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("feedback_case.id"))
    kind: Mapped[EventKind] = enum_column(EventKind)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"))
    from_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"))
    to_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"))
    text: Mapped[str] = mapped_column(sa.Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
    from_unit: Mapped[Unit | None] = relationship(foreign_keys=[from_unit_id])
    to_unit: Mapped[Unit | None] = relationship(foreign_keys=[to_unit_id])

    __table_args__ = (sa.Index("ix_case_event_case_at", "case_id", "at"),)


class CasePastUnit(db.Model):
    """A unit that held a case before it was forwarded on: it keeps reading the case."""

    __tablename__ = "case_past_unit"

    case_id: Mapped[int] = mapped_column(sa.ForeignKey("feedback_case.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), primary_key=True, index=True)


class InterimNoticeStatus(TitledEnum):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"


class InterimNotice(db.Model):
    """A message to the customer that the answer takes longer, with an estimated decision date."""

    __tablename__ = "interim_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("feedback_case.id"), index=True)
    estimate: Mapped[date]
    text: Mapped[str] = mapped_column(sa.Text)
    channel: Mapped[ReplyChannel] = enum_column(ReplyChannel)
    language: Mapped[Language] = enum_column(Language)
    status: Mapped[InterimNoticeStatus] = enum_column(InterimNoticeStatus,
                                                       default=InterimNoticeStatus.QUEUED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_user.id"))


class UsedFormToken(db.Model):
    """One-time tokens of case action forms, so a double click acts once."""

    __tablename__ = "used_form_token"

    token: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime)
