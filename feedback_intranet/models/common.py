"""Column types, enums and helpers shared by the tables."""

import enum
from datetime import UTC, datetime

import sqlalchemy as sa
from flask_babel import force_locale
from sqlalchemy.orm import mapped_column
from sqlalchemy.types import TypeDecorator

from ..i18n import lazy_gettext as _l
from ..i18n import lazy_pgettext


def fixed_limit(rows=None, name=None):
    """A LIMIT written into the statement's text, not sent as a parameter (`name`: its value
    comes with the statement's parameters). PostgreSQL prices a prepared statement's plan for
    any parameters as if LIMIT $n wanted a tenth of the rows; that plan then always lost to
    one made for the values, so an inbox's lists and my cases were planned afresh on every run
    (some 0.35 ms a statement). With the limit in the text the one plan, the same index read in
    order, wins after five runs. Not for search, whose best plan depends on the words, nor for
    the case page's other cases (bench/results.md, seventh session)."""
    if name is not None:
        return sa.bindparam(name, type_=sa.Integer, literal_execute=True)
    return sa.literal(rows, sa.Integer, literal_execute=True)


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
    """A string enum whose members carry the title shown to users.

    `title` is a lazy string: it is translated into the reader's language whenever it is
    shown. Text stored once for every reader (the timeline) uses `english_title`.
    """

    def __new__(cls, value, title):
        member = str.__new__(cls, value)
        member._value_ = value
        member.title = title
        return member

    @property
    def english_title(self):
        """The title in English, whatever the current locale."""
        with force_locale("en"):
            return str(self.title)


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
    CUSTOMER_SERVICE = "customer_service", _l("Customer service")
    BUSINESS_CUSTOMER_SERVICE = "business_customer_service", _l("Business customer service")
    BRANCH_OFFICE = "branch_office", _l("Branch office")
    CENTRAL_UNIT = "central_unit", _l("Central unit")


class Language(TitledEnum):
    FI = "fi", _l("Finnish")
    SV = "sv", _l("Swedish")
    EN = "en", _l("English")


class Segment(TitledEnum):
    PRIVATE = "private", _l("Private customer")
    BUSINESS = "business", _l("Business customer")


class CaseStatus(TitledEnum):
    NEW = "new", _l("New")
    ASSIGNED = "assigned", lazy_pgettext("case status", "Assigned")
    ANSWERED = "answered", lazy_pgettext("case status", "Answered")
    CLOSED = "closed", _l("Closed")


OPEN_STATUSES = (CaseStatus.NEW, CaseStatus.ASSIGNED)


class CaseType(TitledEnum):
    FEEDBACK = "feedback", _l("Other feedback")
    COMPLAINT = "complaint", _l("Complaint")
    QUESTION = "question", _l("Question")
    PRAISE = "praise", _l("Praise")
    SUGGESTION = "suggestion", _l("Suggestion")


class ReplyChannel(TitledEnum):
    EMAIL = "email", _l("Email")
    PHONE = "phone", _l("Phone call")
    LETTER = "letter", _l("Letter")


class IntakeChannel(TitledEnum):
    WEB_FORM = "web_form", _l("Feedback form")
    PHONE = "phone", _l("Phone")
    COUNTER = "counter", _l("Branch counter")
    LETTER = "letter", _l("Letter")
    EMAIL = "email", _l("Email")


class EventKind(TitledEnum):
    RECEIVED = "received", _l("Received")
    ROUTED = "routed", _l("Routed")
    FORWARDED = "forwarded", _l("Forwarded")
    ASSIGNED = "assigned", lazy_pgettext("timeline event", "Assigned")
    UNASSIGNED = "unassigned", _l("Returned to inbox")
    NOTE = "note", _l("Note")
    INTERIM_NOTICE = "interim_notice", _l("Interim notice")
    REPLIED = "replied", lazy_pgettext("timeline event", "Answered")
    CLOSED = "closed", _l("Closed")
    REOPENED = "reopened", _l("Reopened")
    CUSTOMER_MATCHED = "customer_matched", _l("Customer set")
    CORRECTED = "corrected", _l("Corrected")
    DUPLICATE = "duplicate", lazy_pgettext("timeline event", "Duplicate")
    DELIVERED = "delivered", _l("Delivered")
    DELIVERY_FAILED = "delivery_failed", _l("Delivery failed")
    CALLBACK = "callback", _l("Call attempt")
    BANKING_MATTER = "banking_matter", _l("Own banking matter")
    REPLY_CANCELLED = "reply_cancelled", _l("Cancelled before it went out")
    CUSTOMER_REPLIED = "customer_replied", _l("Customer replied")
    AUTOMATIC_REPLY = "automatic_reply", _l("Automatic reply received")


class Resolution(TitledEnum):
    ANSWERED = "answered", lazy_pgettext("resolution", "Answered")
    NO_ANSWER_WANTED = "no_answer_wanted", _l("No answer wanted")
    DUPLICATE = "duplicate", lazy_pgettext("resolution", "Duplicate")
    WITHDRAWN = "withdrawn", _l("Withdrawn by the customer")
    OTHER = "other", _l("Other")


def name_key(name):
    """A name as matching compares it: case-folded, single-spaced."""
    return " ".join(name.casefold().split())


def utcnow():
    return datetime.now(UTC)


class MatchMethod(TitledEnum):
    EMAIL = "email", _l("Matched by email address")
    PHONE = "phone", _l("Matched by phone number")
    NAME_POSTAL_CODE = "name_postal_code", _l("Matched by name and postal code")
    AMBIGUOUS = "ambiguous", _l("Several possible customers")
    NONE = "none", _l("No customer found")
    MANUAL = "manual", _l("Set by hand")


class AnswerStatus(TitledEnum):
    PENDING = "pending", _l("On its way")
    DELIVERED = "delivered", _l("Reached the customer")
    FAILED = "failed", _l("Could not be delivered")
    CANCELLED = "cancelled", _l("Cancelled before it went out")


class Purpose(TitledEnum):
    ANSWER = "answer", _l("Answer")
    INTERIM_NOTICE = "interim_notice", _l("Interim notice")
    # A complaint's final answer given by phone, confirmed in writing with the paragraph on
    # where to turn: not an answer of its own (reports count the call).
    WRITTEN_CONFIRMATION = "written_confirmation", _l("Written confirmation")


class OutboxKind(TitledEnum):
    """What an email in the outbox is; an answer's kind is its purpose."""

    ANSWER = "answer", _l("Answer to a customer")
    INTERIM_NOTICE = "interim_notice", _l("Interim notice to a customer")
    CONFIRMATION = "confirmation", _l("Confirmation of receipt to a customer")
    WRITTEN_CONFIRMATION = "written_confirmation", _l("Written confirmation of a phone answer")
    NOTIFICATION = "notification", _l("Notification to staff")
    MORNING_DIGEST = "morning_digest", _l("Morning summary to staff")


class InboundOutcome(TitledEnum):
    """What became of one mail read from the feedback mailbox."""

    THREADED = "threaded", _l("Threaded into its case")
    NEW_FEEDBACK = "new_feedback", _l("New feedback")
    AUTOMATIC_REPLY = "automatic_reply", _l("Automatic reply")
    BOUNCE = "bounce", _l("Delivery report")
    QUARANTINED = "quarantined", _l("Quarantined")


class OutboxStatus(TitledEnum):
    QUEUED = "queued", _l("Queued")
    SENDING = "sending", _l("Being sent")
    SENT = "sent", _l("Handed to the mail server")
    FAILED = "failed", _l("Failed")
    CANCELLED = "cancelled", lazy_pgettext("email", "Cancelled")


class CallbackStatus(TitledEnum):
    OPEN = "open", _l("To call")
    DONE = "done", _l("Reached")
    WRONG_NUMBER = "wrong_number", _l("Wrong number")
    GAVE_UP = "gave_up", _l("Not reached")
    CANCELLED = "cancelled", lazy_pgettext("call", "Cancelled")
