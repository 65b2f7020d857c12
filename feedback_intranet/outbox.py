"""Queued email: enqueued in the caller's transaction, delivered by a worker.

Nothing is sent inside a web request. A worker claims due messages for a lease (with
FOR UPDATE SKIP LOCKED on PostgreSQL), talks SMTP itself phase by phase, and records the
outcome: temporary failures are retried with exponential backoff, permanent ones fail at once.
A message is sent once the mail server answered 250 to its DATA, whatever happens after.
Only a message whose worker died waits for its lease to run out.
"""

import os
import re
import secrets
import smtplib
import socket
import threading
import time
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_mail import BadHeaderError, Message, sanitize_address

from . import clock
from .extensions import db
from .logs import get_logger
from .models import OutboxKind, OutboxMessage, OutboxStatus
from .monitoring import rounds

log = get_logger(__name__)
# The longest wait for one reply of the mail server.
SMTP_TIMEOUT_SECONDS = 30
# Mail no person wrote, marked as RFC 3834 asks so that auto-responders (out-of-office replies)
# stay silent; answers and interim notices are written by staff, so they are not.
AUTOMATIC_KINDS = frozenset({OutboxKind.NOTIFICATION, OutboxKind.MORNING_DIGEST,
                             OutboxKind.CONFIRMATION})
# Mail to a customer about their case: threaded, and answered to the feedback mailbox
# (INBOUND_ADDRESS) when there is one, which also takes its bounces.
CUSTOMER_KINDS = frozenset({OutboxKind.ANSWER, OutboxKind.INTERIM_NOTICE, OutboxKind.CONFIRMATION,
                            OutboxKind.WRITTEN_CONFIRMATION})
# What the customer has or will have received: a failed or cancelled message never reached them,
# so the next one does not answer it.
THREADED_STATUSES = (OutboxStatus.QUEUED, OutboxStatus.SENDING, OutboxStatus.SENT)
# References keeps the thread's first message and its last ones (RFC 5322 allows trimming it):
# mail programs thread on those, and the header stays under a kilobyte.
REFERENCES_KEPT = 10
# A customer's own Message-ID comes from their mail: only a plain "<...>" goes into a header.
MESSAGE_ID = re.compile(r"<[!-;=?-~]{1,196}>")


def enqueue(*, kind, recipient, subject, body_text, body_html="", sender_name="", case_id=None,
            answer=None, auto_replied=False, replying_to="", now):
    """Add an email to the outbox in the current transaction.

    A customer's email about a case answers the case's previous one to the same address (or
    `replying_to`, the Message-ID of the customer's own mail, when there is none);
    `auto_replied`: written automatically in answer to that mail (RFC 3834).
    """
    sender = current_app.config["FEEDBACK_FROM_ADDRESS"]
    in_reply_to = references = ""
    if case_id is not None and kind in CUSTOMER_KINDS:
        in_reply_to, references = _thread(case_id, recipient, replying_to)
    message = OutboxMessage(
        kind=kind, recipient=recipient, sender=sender, sender_name=sender_name,
        subject=subject, body_text=body_text, body_html=body_html,
        # From `secrets`, not make_msgid, whose randomness is the `random` module's, which
        # anything may seed; short enough that the header is never folded.
        message_id=f"<{secrets.token_hex(16)}@{sender.rsplit('@', 1)[-1]}>",
        status=OutboxStatus.QUEUED, attempts=0, next_attempt_at=now, created_at=now,
        case_id=case_id, answer=answer, in_reply_to=in_reply_to, references=references,
        auto_replied=auto_replied,
    )
    db.session.add(message)
    return message


def _thread(case_id, recipient, replying_to):
    """In-Reply-To and References of the case's next email to `recipient`.

    One statement on the case's own rows (ix_outbox_message_case_id); a message enqueued earlier
    in the same transaction is flushed first, so it counts.
    """
    previous = db.session.execute(
        sa.select(OutboxMessage.message_id, OutboxMessage.references)
        .where(OutboxMessage.case_id == case_id, OutboxMessage.recipient == recipient,
               OutboxMessage.kind.in_(CUSTOMER_KINDS),
               OutboxMessage.status.in_(THREADED_STATUSES))
        .order_by(OutboxMessage.id.desc()).limit(1)
    ).first()
    if previous is None:
        replying_to = replying_to.strip()
        return (replying_to, replying_to) if MESSAGE_ID.fullmatch(replying_to) else ("", "")
    chain = [*previous.references.split(), previous.message_id]
    if len(chain) > REFERENCES_KEPT + 1:
        chain = [chain[0], *chain[-REFERENCES_KEPT:]]
    return previous.message_id, " ".join(chain)


def _lease():
    return timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])


def _backoff(attempts):
    return timedelta(seconds=current_app.config["OUTBOX_BACKOFF_SECONDS"] * 2 ** (attempts - 1))


def claim(worker_id, now, batch=20, due_by=None):
    """Take up to `batch` queued messages due by `due_by` (default: now) for this worker, for a
    lease; returns exactly the ids taken.

    Messages whose worker died (their lease ran out) are first queued again, with a warning.
    """
    abandoned = sa.and_(OutboxMessage.status == OutboxStatus.SENDING,
                        OutboxMessage.claimed_until < now)
    # SKIP LOCKED here too: two workers never wait for each other, so never deadlock.
    requeued = db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id.in_(sa.select(OutboxMessage.id).where(abandoned)
                                    .with_for_update(skip_locked=True).scalar_subquery()),
               abandoned)
        .values(status=OutboxStatus.QUEUED, claimed_by=None, claimed_until=None,
                next_attempt_at=now,
                last_error="the lease of worker " + OutboxMessage.claimed_by + " ran out")
        .returning(OutboxMessage.id, OutboxMessage.last_error)
        .execution_options(synchronize_session=False)
    ).all()
    due = sa.and_(OutboxMessage.status == OutboxStatus.QUEUED,
                  OutboxMessage.next_attempt_at <= (due_by or now))
    # FOR UPDATE SKIP LOCKED on PostgreSQL: no message is taken twice; SQLite has one writer at a
    # time and ignores it. Materialized, so it runs once: a subquery the planner ran again per
    # row would skip the rows this statement just took and take `batch` more each time.
    picked = (
        sa.select(OutboxMessage.id).where(due).order_by(OutboxMessage.id).limit(batch)
        .with_for_update(skip_locked=True).cte("picked").prefix_with("MATERIALIZED")
    )
    taken = db.session.scalars(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id.in_(sa.select(picked.c.id)), due)
        .values(status=OutboxStatus.SENDING, claimed_by=worker_id, claimed_until=now + _lease())
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    for message_id, reason in requeued:
        log.warning("Outbox message %s is queued again: %s", message_id, reason)
    return sorted(taken)


class PermanentFailure(Exception):
    """The message can never be sent as it is; `refused`: the recipient's address was refused."""

    def __init__(self, reason, refused=False):
        super().__init__(reason)
        self.refused = refused


class TemporaryFailure(Exception):
    pass


def _compose(message):
    """The envelope and bytes of a message; one that cannot be written fails for good."""
    mail_message = Message(subject=message.subject, recipients=[message.recipient],
                           body=message.body_text, html=message.body_html or None)
    headers = {}
    if message.auto_replied:
        headers["Auto-Submitted"] = "auto-replied"
    elif message.kind in AUTOMATIC_KINDS:
        headers["Auto-Submitted"] = "auto-generated"
    if message.in_reply_to:
        headers["In-Reply-To"] = message.in_reply_to
        headers["References"] = message.references
    mail_message.extra_headers = headers
    # A pair, never "name <address>", which a comma in the name would break when parsed again.
    mail_message.sender = _named(message.sender_name, message.sender)
    mail_message.msgId = message.message_id
    envelope_sender = message.sender
    mailbox = current_app.config["INBOUND_ADDRESS"]
    if mailbox and message.kind in CUSTOMER_KINDS:
        # Replies and bounces (to the envelope sender, which becomes Return-Path) both reach the
        # mailbox the intranet reads; staff mail keeps the plain sender.
        mail_message.reply_to = _named(message.sender_name, mailbox)
        envelope_sender = mailbox
    try:
        if mail_message.has_bad_headers():
            raise BadHeaderError("a line break in the sender name, the subject or an address")
        content = mail_message.as_bytes()
        recipient = sanitize_address(message.recipient)
        # SMTP commands are ASCII; the headers were encoded above.
        recipient.encode("ascii")
        envelope_sender.encode("ascii")
    except (BadHeaderError, UnicodeError, ValueError) as error:
        raise PermanentFailure(f"the email cannot be written: {_describe(error)}") from None
    return envelope_sender, recipient, content


def _named(name, address):
    return (name, address) if name else address


def _describe(error):
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _text(reply):
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


def _time_left(deadline):
    """How long the next reply may take: the whole conversation stays inside its budget."""
    return max(min(SMTP_TIMEOUT_SECONDS, deadline - time.monotonic()), 0.001)


def _connect(settings, deadline):
    """A connection to the bank's own mail server; any failure here is temporary.

    Never with smtplib's debug level: its transcript carries whole emails.
    """
    try:
        smtp = (smtplib.SMTP_SSL if settings.use_ssl else smtplib.SMTP)(
            settings.server, settings.port, timeout=_time_left(deadline))
    except (OSError, smtplib.SMTPException) as error:
        raise TemporaryFailure(f"no connection to the mail server: {_describe(error)}") from None
    try:
        if settings.use_tls:
            smtp.starttls()
        if settings.username and settings.password:
            smtp.login(settings.username, settings.password)
        smtp.ehlo_or_helo_if_needed()
    except (OSError, smtplib.SMTPException) as error:
        smtp.close()
        raise TemporaryFailure(f"the mail server refused the session: {_describe(error)}") from None
    return smtp


def _step(smtp, deadline, phase, command, refused=False):
    """One command and its reply: 2xx goes on, 4xx or a broken connection is temporary, 5xx is
    permanent (`refused`: the reply is about the recipient's address)."""
    smtp.sock.settimeout(_time_left(deadline))
    try:
        code, reply = command()
    except smtplib.SMTPResponseException as error:
        code, reply = error.smtp_code, error.smtp_error
    except (OSError, smtplib.SMTPException) as error:
        raise TemporaryFailure(
            f"the connection to the mail server broke at {phase}: {_describe(error)}") from None
    if 200 <= code < 300:
        return
    reason = f"{code} {_text(reply)} (at {phase})"
    if code >= 500 and refused and not _about_the_address(code, _text(reply)):
        # Refused at RCPT TO for the relay's own reasons (530 authentication, 5.7.1 relaying
        # denied): the bank's side, so tried again, and the address is not marked.
        raise TemporaryFailure(reason)
    if code >= 500:
        raise PermanentFailure(reason, refused=refused)
    raise TemporaryFailure(reason)


def _about_the_address(code, reply):
    """A 5xx to RCPT TO that says the mailbox does not exist or cannot take mail: 5.1.x in the
    enhanced status code (RFC 3463), or without one 550, 551 or 553."""
    enhanced = re.match(r"5\.(\d{1,3})\.\d{1,3}\b", reply.strip())
    if enhanced:
        return enhanced.group(1) == "1"
    return code in (550, 551, 553)


def _quit(smtp, deadline):
    try:
        if smtp.sock is not None and deadline > time.monotonic():
            smtp.sock.settimeout(_time_left(deadline))
            smtp.quit()
    except (OSError, smtplib.SMTPException):
        pass  # the message's fate was decided at DATA
    finally:
        smtp.close()


def _transmit(sender, recipient, content):
    """Hand one message to the mail server; raises TemporaryFailure or PermanentFailure.

    The whole conversation takes at most half the lease, so a live worker's claim never runs out.
    """
    settings = current_app.extensions["mail"]
    if settings.suppress:
        return
    deadline = time.monotonic() + current_app.config["OUTBOX_LEASE_SECONDS"] / 2
    smtp = _connect(settings, deadline)
    try:
        _step(smtp, deadline, "MAIL FROM", lambda: smtp.mail(sender))
        _step(smtp, deadline, "RCPT TO", lambda: smtp.rcpt(recipient), refused=True)
        # Once this answers 250 the server has the message.
        _step(smtp, deadline, "DATA", lambda: smtp.data(content))
    finally:
        _quit(smtp, deadline)


def _renew(worker_id, now):
    """Renew every claim this worker holds; returns the ids still its own (a claim that ran out
    may have gone to another worker)."""
    mine = set(db.session.scalars(
        sa.update(OutboxMessage)
        .where(OutboxMessage.claimed_by == worker_id, OutboxMessage.status == OutboxStatus.SENDING)
        .values(claimed_until=now + _lease())
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ))
    db.session.commit()
    return mine


def _deliver(message_id, worker_id, now):
    """Send one claimed message and record the outcome; None when the claim was lost."""
    if message_id not in _renew(worker_id, now):
        return None
    message = db.session.get(OutboxMessage, message_id)
    try:
        envelope = _compose(message)
        db.session.commit()  # no transaction stays open while the mail server talks
        _transmit(*envelope)
    except PermanentFailure as error:
        _count_attempt(message)
        return _fail(message, str(error), now, refused=error.refused)
    except TemporaryFailure as error:
        return _try_again_later(message, str(error)[:500], now)
    _count_attempt(message)
    message.status = OutboxStatus.SENT
    message.sent_at = now
    message.last_error = ""
    # Sent is recorded at once: whatever happens next, this message never goes out again.
    db.session.commit()
    _outcomes().sent(message_id, now)
    return OutboxStatus.SENT


def _try_again_later(message, reason, now):
    """Count the attempt that failed for `reason`: queue the message again after its backoff,
    or fail it once it has had all its attempts."""
    _count_attempt(message)
    if message.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
        return _fail(message, f"gave up after {message.attempts} attempts ({reason})", now)
    message.status = OutboxStatus.QUEUED
    message.last_error = reason
    message.next_attempt_at = now + _backoff(message.attempts)
    db.session.commit()
    return OutboxStatus.QUEUED


def _count_attempt(message):
    message.attempts += 1
    message.claimed_by = message.claimed_until = None


def _fail(message, reason, now, refused=False):
    message_id = message.id
    message.status = OutboxStatus.FAILED
    message.last_error = reason[:500]
    db.session.commit()
    log.warning("Outbox message %s failed: %s", message_id, reason)
    _outcomes().failed(message_id, reason, refused, now)
    return OutboxStatus.FAILED


class _NoOutcomes:
    """Without a registered handler a message's fate concerns only the outbox."""

    @staticmethod
    def before_round(now):
        pass

    @staticmethod
    def sent(message_id, now):
        pass

    @staticmethod
    def failed(message_id, reason, refused, now):
        pass


def _outcomes():
    """What a message's fate means for what it belongs to: registered at start-up by the app
    (`replies.outcomes`), so the transport imports nothing above it."""
    return current_app.extensions.get("outbox_outcomes", _NoOutcomes)


def _release(message_id, worker_id, now):
    """Queue a message whose handling failed unexpectedly again, after the backoff of its
    attempts (only a worker that died leaves a message to wait for its lease), or fail it for
    good once it has had them all: one that can never be handled does not come back forever."""
    try:
        db.session.rollback()
        message = db.session.get(OutboxMessage, message_id, with_for_update=True)
        if message is None or message.claimed_by != worker_id \
                or message.status != OutboxStatus.SENDING:
            db.session.rollback()  # gone, or no longer this worker's
            return
        _try_again_later(message, "the worker could not handle it (see its log)", now)
    except Exception:
        db.session.rollback()
        log.exception("Outbox message %s could not be queued again; it waits for its lease",
                      message_id)


def worker_name():
    """Names the host and the process, so anyone can tell whose claims are whose."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


def deliver_due(batch=20, stop=None):
    """Deliver the messages due when the round starts, each at most once; returns how many ended
    in each status. A retry that comes due during the round is left to the next round.

    Once `stop` is set (the service is being stopped) the message being sent is finished and the
    rest of the worker's claim is handed back at once, not left to wait for its lease."""
    began = rounds.started()
    worker_id = worker_name()
    started = clock.now()
    outcome = {}
    _outcomes().before_round(started)
    while not _stopping(stop) and (ids := claim(worker_id, clock.now(), batch, due_by=started)):
        for position, message_id in enumerate(ids):
            if _stopping(stop):
                _hand_back(ids[position:], worker_id)
                break
            try:
                status = _deliver(message_id, worker_id, clock.now())
            except Exception:  # one bad message must not hold up the others
                log.exception("Outbox message %s could not be handled", message_id)
                _release(message_id, worker_id, clock.now())
                continue
            if status is not None:
                outcome[str(status)] = outcome.get(str(status), 0) + 1
    rounds.finished(rounds.OUTBOX, began, outcome)
    return outcome


def _stopping(stop):
    return stop is not None and stop.is_set()


def _hand_back(message_ids, worker_id):
    """Queue claimed messages that were not tried again as they were: no attempt counted."""
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id.in_(message_ids), OutboxMessage.claimed_by == worker_id,
               OutboxMessage.status == OutboxStatus.SENDING)
        .values(status=OutboxStatus.QUEUED, claimed_by=None, claimed_until=None)
        .execution_options(synchronize_session=False))
    db.session.commit()


def run_forever(interval, stop=None):
    """Deliver due mail every `interval` seconds until `stop` is set."""
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            deliver_due(stop=stop)
        except Exception:  # keep the worker alive; the next round tries again
            log.exception("Outbox round failed")
        finally:
            # No transaction (nor connection) is held while the worker waits.
            db.session.remove()
        stop.wait(interval)


def start_background_worker(app, interval=2.0, stop=None):
    """Deliver mail from a thread of the development server, no second process needed, until
    `stop` is set (the development server's never is)."""
    def work():
        with app.app_context():
            run_forever(interval, stop)

    thread = threading.Thread(target=work, name="outbox-worker", daemon=True)
    thread.start()
    return thread
