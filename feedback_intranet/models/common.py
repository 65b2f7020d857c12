"""Column types, enums and helpers shared by the tables."""

import enum
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import mapped_column
from sqlalchemy.types import TypeDecorator


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
    DELIVERED = "delivered", "Delivered"
    DELIVERY_FAILED = "delivery_failed", "Delivery failed"
    CALLBACK = "callback", "Call attempt"
    BANKING_MATTER = "banking_matter", "Own banking matter"


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


class MatchMethod(TitledEnum):
    EMAIL = "email", "Matched by email address"
    PHONE = "phone", "Matched by phone number"
    NAME_POSTAL_CODE = "name_postal_code", "Matched by name and postal code"
    AMBIGUOUS = "ambiguous", "Several possible customers"
    NONE = "none", "No customer found"
    MANUAL = "manual", "Set by hand"


class AnswerStatus(TitledEnum):
    PENDING = "pending", "On its way"
    DELIVERED = "delivered", "Reached the customer"
    FAILED = "failed", "Could not be delivered"


class Purpose(TitledEnum):
    ANSWER = "answer", "Answer"
    INTERIM_NOTICE = "interim_notice", "Interim notice"


class OutboxStatus(TitledEnum):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Handed to the mail server"
    FAILED = "failed", "Failed"


class CallbackStatus(TitledEnum):
    OPEN = "open", "To call"
    DONE = "done", "Reached"
    WRONG_NUMBER = "wrong_number", "Wrong number"
    GAVE_UP = "gave_up", "Not reached"
