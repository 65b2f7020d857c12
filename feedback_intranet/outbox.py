"""Queued email: enqueued in the caller's transaction, delivered by a worker.

Nothing is sent inside a web request. Workers claim due messages (with
SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL), send them over SMTP, and
record the outcome; transient failures are retried with exponential backoff.
"""

import secrets
import smtplib
import socket
import threading
import uuid
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_mail import Message

from . import clock
from .closing_days import banking_calendar
from .extensions import db, mail
from .logs import get_logger
from .models import Case, OutboxMessage, OutboxStatus
from .replies.answers import mark_delivered, mark_failed

log = get_logger(__name__)
LEASE = timedelta(minutes=5)
# Far below the lease, so a hanging mail server never outlasts a worker's claim.
SMTP_TIMEOUT_SECONDS = 30


def enqueue(*, kind, recipient, subject, body_text, body_html="", sender_name="", case_id=None,
            answer_id=None, now):
    """Add an email to the outbox in the current transaction."""
    sender = current_app.config["FEEDBACK_FROM_ADDRESS"]
    message = OutboxMessage(
        kind=kind, recipient=recipient, sender=sender, sender_name=sender_name,
        subject=subject, body_text=body_text, body_html=body_html,
        # From `secrets`, not make_msgid, whose randomness is the `random` module's, which
        # anything may seed; short enough that the header is never folded.
        message_id=f"<{secrets.token_hex(16)}@{sender.rsplit('@', 1)[-1]}>",
        status=OutboxStatus.QUEUED, attempts=0, next_attempt_at=now, created_at=now,
        case_id=case_id, answer_id=answer_id,
    )
    db.session.add(message)
    return message


def claim(worker_id, now, batch=20):
    """Mark up to `batch` due messages as this worker's and return their ids.

    A message left "sending" by a worker that died is due again when its lease ends.
    """
    due = sa.or_(
        sa.and_(OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.next_attempt_at <= now),
        sa.and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_until < now),
    )
    # FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite has one writer at a time and ignores it.
    candidates = (
        sa.select(OutboxMessage.id).where(due).order_by(OutboxMessage.id).limit(batch)
        .with_for_update(skip_locked=True)
    )
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id.in_(candidates.scalar_subquery()), due)
        .values(status=OutboxStatus.SENDING, claimed_by=worker_id, claimed_until=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return list(db.session.scalars(
        sa.select(OutboxMessage.id).where(OutboxMessage.claimed_by == worker_id,
                                          OutboxMessage.status == OutboxStatus.SENDING)
        .order_by(OutboxMessage.id)
    ))


class PermanentFailure(Exception):
    pass


def _send(message):
    mail_message = Message(
        subject=message.subject, recipients=[message.recipient], body=message.body_text,
        html=message.body_html or None,
        sender=(message.sender_name, message.sender) if message.sender_name else message.sender,
    )
    mail_message.msgId = message.message_id
    # Flask-Mail opens SMTP without a timeout of its own; the socket default applies.
    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(SMTP_TIMEOUT_SECONDS)
    try:
        mail.send(mail_message)
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        reason = "; ".join(f"{code} {text.decode(errors='replace')}"
                           for code, text in error.recipients.values())
        if all(code >= 500 for code in codes):
            raise PermanentFailure(reason) from None
        raise
    except smtplib.SMTPResponseException as error:
        if error.smtp_code >= 500:
            reason = error.smtp_error.decode(errors="replace") if isinstance(
                error.smtp_error, bytes) else str(error.smtp_error)
            raise PermanentFailure(f"{error.smtp_code} {reason}") from None
        raise
    finally:
        socket.setdefaulttimeout(previous_timeout)


def _still_mine(message_id, worker_id, now):
    """Renew this worker's claim; False when the claim ran out and another worker took it."""
    renewed = db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == worker_id,
               OutboxMessage.status == OutboxStatus.SENDING)
        .values(claimed_until=now + LEASE)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return renewed == 1


def _deliver(message_id, worker_id, now):
    if not _still_mine(message_id, worker_id, now):
        return None
    message = db.session.get(OutboxMessage, message_id)
    message.attempts += 1
    message.claimed_by = message.claimed_until = None
    try:
        _send(message)
    except PermanentFailure as error:
        _fail(message, str(error), now)
    except (smtplib.SMTPException, OSError) as error:  # OSError covers refused and timed out
        reason = f"{type(error).__name__}: {error}"[:500]
        config = current_app.config
        if message.attempts >= config["OUTBOX_MAX_ATTEMPTS"]:
            _fail(message, f"gave up after {message.attempts} attempts ({reason})", now)
        else:
            message.status = OutboxStatus.QUEUED
            message.last_error = reason
            delay = config["OUTBOX_BACKOFF_SECONDS"] * 2 ** (message.attempts - 1)
            message.next_attempt_at = now + timedelta(seconds=delay)
    else:
        message.status = OutboxStatus.SENT
        message.sent_at = now
        message.last_error = ""
        # Sent is recorded at once: whatever happens next, this message never goes out again.
        db.session.commit()
        if message.answer_id is not None:
            _record_delivery(message.id, now)
        return OutboxStatus.SENT
    db.session.commit()
    return message.status


def _record_delivery(message_id, now, tries=3):
    """The case learns its answer went out; retried when staff changed the case meanwhile."""
    for attempt in range(tries):
        try:
            message = db.session.get(OutboxMessage, message_id)
            case = db.session.get(Case, message.case_id)
            mark_delivered(message.answer, case, now, banking_calendar(clock.timezone()),
                           "was handed to the mail server")
            db.session.commit()
            return
        except Exception:
            db.session.rollback()
            if attempt == tries - 1:
                log.exception("Outbox message %s was sent but its case was not updated", message_id)


def _fail(message, reason, now):
    message.status = OutboxStatus.FAILED
    message.last_error = reason[:500]
    log.warning("Outbox message %s failed: %s", message.id, reason)
    if message.answer is not None:
        mark_failed(message.answer, db.session.get(Case, message.case_id), reason, now)


def deliver_due(batch=20):
    """Deliver every message due now, once; returns how many ended in each status."""
    worker_id = uuid.uuid4().hex
    outcome, handled = {}, set()
    while True:
        # A message that failed oddly stays claimed until its lease ends; not again this round.
        ids = [i for i in claim(worker_id, clock.now(), batch) if i not in handled]
        if not ids:
            return outcome
        handled.update(ids)
        for message_id in ids:
            try:
                status = _deliver(message_id, worker_id, clock.now())
            except Exception:  # one bad message must not hold up the others
                db.session.rollback()
                log.exception("Outbox message %s could not be handled", message_id)
                continue
            if status is not None:
                outcome[str(status)] = outcome.get(str(status), 0) + 1


def run_forever(interval, stop=None):
    """Deliver due mail every `interval` seconds until `stop` is set."""
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            deliver_due()
        except Exception:  # keep the worker alive; the next round tries again
            log.exception("Outbox round failed")
            db.session.rollback()
        stop.wait(interval)


def start_background_worker(app, interval=2.0):
    """Deliver mail from a thread of the development server: no second process needed."""
    def work():
        with app.app_context():
            run_forever(interval)

    thread = threading.Thread(target=work, name="outbox-worker", daemon=True)
    thread.start()
    return thread


