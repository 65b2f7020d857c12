"""Answers and how they travel: the email outbox, callback tasks, letters; and their texts."""

from datetime import date, datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .cases import Case
from .common import (
    AnswerStatus,
    CallbackStatus,
    InboundOutcome,
    Language,
    OutboxKind,
    OutboxStatus,
    Purpose,
    ReplyChannel,
    Segment,
    UTCDateTime,
    enum_column,
)
from .organisation import Topic, Unit, User


class Answer(db.Model):
    """What the bank told the customer: an answer, or an interim notice, by one channel."""

    __tablename__ = "answer"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("feedback_case.id"), index=True)
    purpose: Mapped[Purpose] = enum_column(Purpose, default=Purpose.ANSWER)
    channel: Mapped[ReplyChannel] = enum_column(ReplyChannel)
    subject: Mapped[str] = mapped_column(sa.String(200), default="")
    text: Mapped[str] = mapped_column(sa.Text)
    # A phone answer's words the caller reads out as written, in the customer's language: the
    # complaint paragraph of a complaint's final answer. Its written confirmation carries them.
    read_out: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    status: Mapped[AnswerStatus] = enum_column(AnswerStatus, default=AnswerStatus.PENDING)
    failure: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_user.id"))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "Send, close when delivered": the case closes as answered once this answer reaches the
    # customer (and opens again should it turn out later not to have).
    close_when_delivered: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # An interim notice's estimate and the one it replaced: cancelling it restores the latter.
    estimate: Mapped[date | None]
    previous_estimate: Mapped[date | None]

    created_by: Mapped[User] = relationship()
    # A phone answer's call still to make, read with the case for its page: no statement of its own.
    open_callback: Mapped["CallbackTask | None"] = relationship(
        primaryjoin="and_(CallbackTask.answer_id == Answer.id, CallbackTask.status == 'open')",
        viewonly=True, uselist=False)

    # What still waits for the customer: the outbox worker settles any it finds already sent.
    __table_args__ = (sa.Index("ix_answer_pending", "case_id",
                               sqlite_where=sa.text("status = 'pending'"),
                               postgresql_where=sa.text("status = 'pending'")),)


class OutboxMessage(db.Model):
    """An email waiting for the worker; written in the same transaction as its cause."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OutboxKind] = enum_column(OutboxKind)
    recipient: Mapped[str] = mapped_column(sa.String(254))
    sender: Mapped[str] = mapped_column(sa.String(254))
    sender_name: Mapped[str] = mapped_column(sa.String(120), default="")
    subject: Mapped[str] = mapped_column(sa.String(200))
    body_text: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text, default="")
    # One Message-ID for every attempt, so a resend after an ambiguous failure is recognisable.
    message_id: Mapped[str] = mapped_column(sa.String(200), unique=True)
    # The case's previous message to this customer and the chain before it, so the customer's
    # mail program threads them (and a reply names them back: see inbound).
    in_reply_to: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    references: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    # Written automatically in answer to mail (a confirmation of feedback that came by email):
    # Auto-Submitted: auto-replied (RFC 3834), not auto-generated.
    auto_replied: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    status: Mapped[OutboxStatus] = enum_column(OutboxStatus, default=OutboxStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(sa.String(500), default="")
    claimed_by: Mapped[str | None] = mapped_column(sa.String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("feedback_case.id"), index=True)
    answer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("answer.id"))

    answer: Mapped[Answer | None] = relationship()

    __table_args__ = (sa.Index("ix_outbox_message_due", "status", "next_attempt_at"),)


class CallbackTask(db.Model):
    """A call to make inside service hours: the answer or an interim notice by phone."""

    __tablename__ = "callback_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("feedback_case.id"), index=True)
    answer_id: Mapped[int] = mapped_column(sa.ForeignKey("answer.id"))
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"))
    phone: Mapped[str] = mapped_column(sa.String(20))
    segment: Mapped[Segment] = enum_column(Segment)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    status: Mapped[CallbackStatus] = enum_column(CallbackStatus, default=CallbackStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Two people recording the same call at once: the second is refused, not counted twice.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    answer: Mapped[Answer] = relationship()
    unit: Mapped[Unit] = relationship()
    case: Mapped["Case"] = relationship()

    __table_args__ = (sa.Index("ix_callback_task_list", "unit_id", "status", "window_start"),
                      # An answer's call still to make, read with the answer (Answer.open_callback).
                      sa.Index("ix_callback_task_answer", "answer_id", "status"))
    __mapper_args__ = {"version_id_col": version}


class Letter(db.Model):
    """A PDF letter in the unit's print queue until it is posted."""

    __tablename__ = "letter"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("feedback_case.id"), index=True)
    answer_id: Mapped[int] = mapped_column(sa.ForeignKey("answer.id"))
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"))
    pdf: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    posted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"))
    # Posted twice at once, or made again while being posted: the second is refused.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    answer: Mapped[Answer] = relationship()
    unit: Mapped[Unit] = relationship()
    case: Mapped["Case"] = relationship()

    __table_args__ = (sa.Index("ix_letter_queue", "unit_id", "posted_at"),)
    __mapper_args__ = {"version_id_col": version}


class ReplyTemplate(db.Model):
    """A canned answer for a topic (or any topic) in one language."""

    __tablename__ = "reply_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(120))
    topic_id: Mapped[int | None] = mapped_column(sa.ForeignKey("topic.id"))
    language: Mapped[Language] = enum_column(Language)
    body: Mapped[str] = mapped_column(sa.Text)
    active: Mapped[bool] = mapped_column(default=True)

    topic: Mapped[Topic | None] = relationship()


class BankText(db.Model):
    """A standard text of the bank in one language, e.g. the complaint paragraph."""

    __tablename__ = "bank_text"

    key: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    language: Mapped[Language] = enum_column(Language, primary_key=True)
    text: Mapped[str] = mapped_column(sa.Text)


class UnitText(db.Model):
    """A unit's greeting and signature in one language."""

    __tablename__ = "unit_text"

    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), primary_key=True)
    language: Mapped[Language] = enum_column(Language, primary_key=True)
    greeting: Mapped[str] = mapped_column(sa.String(200), default="")
    signature: Mapped[str] = mapped_column(sa.Text, default="")


class DeviatingHours(db.Model):
    """Service hours that differ on a date; no hours at all means no service that day."""

    __tablename__ = "deviating_hours"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(index=True)
    segment: Mapped[Segment | None] = enum_column(Segment, nullable=True)
    opens: Mapped[time | None]
    closes: Mapped[time | None]
    reason: Mapped[str] = mapped_column(sa.String(200), default="")

    __table_args__ = (sa.UniqueConstraint("day", "segment", name="uq_deviating_hours_day_segment"),)


class InboundMail(db.Model):
    """One mail read from the feedback mailbox, and what became of it: recorded in the same
    transaction as its change to a case, so a mail is processed once whatever fails after."""

    __tablename__ = "inbound_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Where it was read: a mail is known by these three as long as the mailbox keeps its
    # UIDVALIDITY, and by the hash of its bytes after that.
    mailbox: Mapped[str] = mapped_column(sa.String(200))
    uidvalidity: Mapped[int] = mapped_column(sa.BigInteger)
    uid: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    outcome: Mapped[InboundOutcome] = enum_column(InboundOutcome)
    # Why it was quarantined, how it was matched, what a delivery report said.
    reason: Mapped[str] = mapped_column(sa.String(300), default="")
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("feedback_case.id"), index=True)
    # The sender's address in lower case, for the limits per sender; blanked with the rest of
    # what names the sender when the record has been kept its days (retention).
    sender: Mapped[str] = mapped_column(sa.String(254), default="")
    # Masked as the form masks, before anything is stored.
    sender_name: Mapped[str] = mapped_column(sa.String(120), default="")
    subject: Mapped[str] = mapped_column(sa.String(200), default="")
    excerpt: Mapped[str] = mapped_column(sa.String(500), default="")
    attachments: Mapped[int] = mapped_column(default=0)
    # An automatic confirmation went to the sender (at most one per sender per day).
    confirmation_sent: Mapped[bool] = mapped_column(default=False)
    # A quarantined mail's UID in the quarantine folder, until the purge deletes it there.
    quarantine_uid: Mapped[int | None] = mapped_column(sa.BigInteger)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    case: Mapped["Case | None"] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("mailbox", "uidvalidity", "uid", name="uq_inbound_mail_uid"),
        # The limits per sender: how many new cases and confirmations today.
        sa.Index("ix_inbound_mail_sender", "sender", "processed_at"),
    )
