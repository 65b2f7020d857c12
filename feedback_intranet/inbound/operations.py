"""What one mail from the feedback mailbox becomes, and the fetch round that reads them.

A mail is recorded (mailbox, UIDVALIDITY, UID and the hash of its bytes) in the same
transaction as its change to a case, and only then taken out of the mailbox: a crash before the
commit leaves it to be read again, one after leaves a record that says it is done. Nothing of a
mail is stored before it is masked as the form masks.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..cases.common import CaseChanged
from ..extensions import db
from ..intake.emails import queue_confirmation_of_emailed_feedback
from ..intake.operations import Feedback, receive_feedback
from ..logs import get_logger
from ..matching import match_customer
from ..models import (
    Case,
    Customer,
    InboundMail,
    InboundOutcome,
    IntakeChannel,
    Language,
    OutboxMessage,
    ReplyChannel,
    Segment,
    Topic,
)
from ..rules.banking_days import local_date
from ..rules.masking import mask
from . import cases, reading
from .mailbox import Mailbox

log = get_logger(__name__)

# Why a mail went to quarantine, as the record and the admin page say it.
UNREADABLE = "unreadable"
OVERSIZED = "oversized"
NO_SENDER = "no_sender"
OWN_ADDRESS = "own_address"
SPAM = "spam"
TOO_MANY = "too_many_new_cases"
SEEN_BEFORE = "seen_before"
# How a reply was matched, what a delivery report did, what new feedback follows.
BY_MESSAGE_ID = "message_id"
BY_REFERENCE = "subject_reference"
FOLLOWS = "follows"
UNKNOWN_ORIGINAL = "unknown_original"
DELAYED = "delayed"
FAILED = "failed"


@dataclass(frozen=True)
class Rules:
    """The settings processing reads, from the app's config."""

    own_addresses: frozenset
    authserv_id: str
    spam_header: str
    spam_values: frozenset
    max_bytes: int
    new_cases_per_day: int
    topic_code: str

    @classmethod
    def from_config(cls, config):
        own = {config["FEEDBACK_FROM_ADDRESS"], config["INBOUND_ADDRESS"]}
        return cls(
            own_addresses=frozenset(a.strip().lower() for a in own if a.strip()),
            authserv_id=config["INBOUND_AUTHSERV_ID"].strip(),
            spam_header=config["INBOUND_SPAM_HEADER"],
            spam_values=frozenset(v.strip().lower()
                                  for v in config["INBOUND_SPAM_VALUES"].split(",") if v.strip()),
            max_bytes=int(config["INBOUND_MAX_BYTES"]),
            new_cases_per_day=int(config["INBOUND_NEW_CASES_PER_SENDER_PER_DAY"]),
            topic_code=config["INBOUND_TOPIC"].strip())


def already_processed(mailbox, uidvalidity, uid):
    """The record of this mail, if it was processed (its removal may not have happened)."""
    return db.session.scalar(sa.select(InboundMail).where(
        InboundMail.mailbox == mailbox, InboundMail.uidvalidity == uidvalidity,
        InboundMail.uid == uid))


def seen_before(sha256):
    """A record of the very same bytes, read under an earlier UIDVALIDITY."""
    return db.session.scalar(sa.select(InboundMail.id).where(InboundMail.sha256 == sha256)
                             .limit(1)) is not None


def quarantine_oversized(*, mailbox, uidvalidity, uid, size, now):
    """A mail too big to read: recorded without its bytes ever being fetched."""
    record = InboundMail(mailbox=mailbox, uidvalidity=uidvalidity, uid=uid,
                         sha256="", processed_at=now, outcome=InboundOutcome.QUARANTINED,
                         reason=f"{OVERSIZED}: {size} bytes")
    db.session.add(record)
    db.session.flush()
    return record


def process(raw, *, sha256, mailbox, uidvalidity, uid, now, calendar, rules):
    """Record the mail (`sha256`: the hex digest of `raw`) and make its change to a case;
    flushed, the caller commits."""
    record = InboundMail(mailbox=mailbox, uidvalidity=uidvalidity, uid=uid,
                         sha256=sha256, processed_at=now,
                         outcome=InboundOutcome.QUARANTINED)
    db.session.add(record)
    # First: a second fetch reading the same mail at once waits here on the unique key, and
    # fails once the first commits, before it changes any case.
    db.session.flush()
    try:
        mail = reading.read(raw, authserv_id=rules.authserv_id, spam_header=rules.spam_header,
                            spam_values=rules.spam_values)
    except reading.Unreadable as error:
        record.reason = f"{UNREADABLE}: {error}"[:300]
        db.session.flush()
        return record
    _describe(record, mail)
    _decide(record, mail, now=now, calendar=calendar, rules=rules)
    db.session.flush()
    return record


def _describe(record, mail):
    """What the admin page shows of the mail: masked, short."""
    record.sender = mail.from_address[:254]
    record.sender_name = mask(mail.from_name).text[:120]
    record.subject = mask(mail.subject).text[:200]
    record.excerpt = mask(" ".join(mail.text.split())).text[:500]
    record.attachments = mail.attachments


def _decide(record, mail, *, now, calendar, rules):
    if not mail.from_address and mail.bounce is None:
        record.reason = NO_SENDER
        return
    if mail.from_address in rules.own_addresses:
        record.reason = OWN_ADDRESS
        return
    if mail.spam:
        record.reason = SPAM
        return
    if mail.bounce is not None:
        _bounce(record, mail.bounce, now=now)
        return
    case, matched_by = _case_of(mail)
    if mail.automatic:
        record.outcome = InboundOutcome.AUTOMATIC_REPLY
        record.reason = mail.automatic[:300]
        if case is not None:
            cases.record_automatic_reply(case, reason=mail.automatic, now=now)
            record.case_id = case.id
        return
    if case is not None:
        target, threads = cases.case_for_reply(case, now, calendar)
        if threads:
            body = mask(mail.text)
            cases.record_customer_reply(
                target, text=body.text, subject=mask(mail.subject).text,
                attachments=mail.attachments, masked_kinds=sorted(body.kinds), now=now,
                calendar=calendar)
            record.outcome, record.case_id = InboundOutcome.THREADED, target.id
            record.reason = matched_by
            return
        _new_feedback(record, mail, now=now, calendar=calendar, rules=rules, follows=target)
        return
    _new_feedback(record, mail, now=now, calendar=calendar, rules=rules)


def _case_of(mail):
    """The case a mail answers, and how it was found: first by the Message-IDs it names (which
    only the intranet and the customer know), else by the reference in the subject together
    with the case's customer address as the sender, when the bank's mail server recorded a
    DMARC pass for the sender's domain (a From: header alone can be forged)."""
    if mail.references:
        found = db.session.execute(
            sa.select(OutboxMessage.case_id).where(
                OutboxMessage.message_id.in_(mail.references[:50]),
                OutboxMessage.case_id.is_not(None))
            .order_by(OutboxMessage.id.desc()).limit(1)).scalar()
        if found is not None:
            return db.session.get(Case, found, populate_existing=True), BY_MESSAGE_ID
    reference = reading.subject_reference(mail.subject)
    if reference and mail.dmarc_pass:
        case = db.session.scalar(sa.select(Case).where(Case.reference == reference)
                                 .execution_options(populate_existing=True))
        if case is not None and case.contact_email.lower() == mail.from_address:
            return case, BY_REFERENCE
    return None, ""


def _bounce(record, bounce, *, now):
    """A delivery report: only a recipient that failed for good (5.x.x) marks the original
    failed; the original is found by its Message-ID, never by the subject."""
    record.outcome = InboundOutcome.BOUNCE
    message = db.session.scalar(sa.select(OutboxMessage).where(
        OutboxMessage.message_id == bounce.original_message_id)) \
        if bounce.original_message_id else None
    if message is None:
        record.reason = UNKNOWN_ORIGINAL
        return
    record.case_id = message.case_id
    if not bounce.failed:
        record.reason = f"{DELAYED}: {bounce.status} {bounce.diagnostic}".strip()[:300]
        return
    record.reason = f"{FAILED}: {bounce.status} {bounce.recipient} {bounce.diagnostic}"[:300]
    cases.record_bounce(message, status=bounce.status, diagnostic=bounce.diagnostic, now=now)


def _new_feedback(record, mail, *, now, calendar, rules, follows=None):
    """Mail that answers no case is feedback like feedback staff register: by email, an answer
    wanted by email, the sender's display name (or address) as the name."""
    if _new_cases_today(mail.from_address, now, calendar) >= rules.new_cases_per_day:
        record.reason = TOO_MANY
        return
    customer = _customer(mail.from_address)
    language = mail.language or (customer.language.value if customer else Language.FI.value)
    body = mail.text.strip() or mail.subject
    message = f"{mail.subject}\n\n{body}" if mail.subject and body != mail.subject else body
    feedback = Feedback(
        name=(mail.from_name or mail.from_address)[:120], street="", postal_code="", city="",
        phone="", email=mail.from_address,
        segment=(customer.segment if customer else Segment.PRIVATE).value,
        topic_id=_topic_id(rules.topic_code), case_type="", message=message,
        reply_wanted=True, reply_channel=ReplyChannel.EMAIL.value, language=language,
        intake_channel=IntakeChannel.EMAIL.value)
    case = receive_feedback(feedback, now=now, calendar=calendar)
    if follows is not None:
        case.follows_case_id = follows.id
    case.events[0].facts = {**(case.events[0].facts or {}), "by_email": True,
                            "attachments": mail.attachments}
    record.outcome, record.case_id = InboundOutcome.NEW_FEEDBACK, case.id
    record.reason = f"{FOLLOWS}: {follows.reference}" if follows is not None else ""
    # No confirmation to a sender whose domain is not proven (it would go to whoever the From:
    # names), and at most one a day to one sender.
    if mail.dmarc_pass and not _confirmed_today(mail.from_address, now, calendar):
        queue_confirmation_of_emailed_feedback(case, now, replying_to=mail.message_id)
        record.confirmation_sent = True


def _today_began(now, calendar):
    return datetime.combine(local_date(now, calendar.tz), time(0), calendar.tz)


def _new_cases_today(sender, now, calendar):
    return db.session.scalar(sa.select(sa.func.count()).select_from(InboundMail).where(
        InboundMail.sender == sender, InboundMail.processed_at >= _today_began(now, calendar),
        InboundMail.outcome == InboundOutcome.NEW_FEEDBACK))


def _confirmed_today(sender, now, calendar):
    return db.session.scalar(sa.select(InboundMail.id).where(
        InboundMail.sender == sender, InboundMail.processed_at >= _today_began(now, calendar),
        InboundMail.confirmation_sent.is_(True)).limit(1)) is not None


def _customer(address):
    match = match_customer(db.session, email=address)
    return db.session.get(Customer, match.customer_id) if match.customer_id else None


def _topic_id(code):
    query = sa.select(Topic.id).where(Topic.active.is_(True))
    if code:
        found = db.session.scalar(query.where(Topic.code == code))
        if found is not None:
            return found
    return db.session.scalar(query.order_by(Topic.id).limit(1))


@dataclass
class Round:
    """What one fetch round did: outcome -> count, and mail skipped as already processed."""

    outcomes: dict = field(default_factory=dict)
    finished: int = 0


def fetch(settings, rules, *, clock_now, calendar):
    """Read every mail in the folder once: process, commit, then take it out. Raises
    mailbox.MailboxUnavailable when the mailbox cannot be used (what was committed stays done)."""
    done = Round()
    with Mailbox(settings) as box:
        for uid in box.uids():
            record = already_processed(settings.name, box.uidvalidity, uid)
            if record is None:
                record = _process_one(box, uid, settings, rules, clock_now(), calendar)
                if record is None:
                    continue
                done.outcomes[str(record.outcome)] = done.outcomes.get(str(record.outcome), 0) + 1
            else:
                # Processed before a crash or a lost connection kept it from being taken out.
                done.finished += 1
            _take_out(box, uid, record, settings)
    return done


def _process_one(box, uid, settings, rules, now, calendar):
    size = box.size(uid)
    if size is None:
        return None  # taken out meanwhile by another fetch
    if size > rules.max_bytes:
        record = quarantine_oversized(mailbox=settings.name, uidvalidity=box.uidvalidity,
                                      uid=uid, size=size, now=now)
    else:
        raw = box.read(uid)
        if raw is None:
            return None
        digest = hashlib.sha256(raw).hexdigest()
        if seen_before(digest):
            log.warning("Inbound mail %s/%s was processed under an earlier UIDVALIDITY: "
                        "taken out without processing it again", box.uidvalidity, uid)
            record = InboundMail(mailbox=settings.name, uidvalidity=box.uidvalidity, uid=uid,
                                 sha256=digest, processed_at=now,
                                 outcome=InboundOutcome.QUARANTINED,
                                 reason=SEEN_BEFORE)
            db.session.add(record)
        else:
            record = _process_raw(raw, digest, box, uid, settings, rules, now, calendar)
    try:
        db.session.commit()
    except IntegrityError:
        # Another fetch recorded this mail first (uq_inbound_mail_uid): it is theirs.
        db.session.rollback()
        return None
    return record


def _process_raw(raw, digest, box, uid, settings, rules, now, calendar, tries=3):
    """Process under the case's version check: staff changing the case at the same moment
    makes it read the case again and retry, as the outbox's outcomes do."""
    for attempt in range(tries):
        try:
            return process(raw, sha256=digest, mailbox=settings.name, uidvalidity=box.uidvalidity, uid=uid,
                           now=now, calendar=calendar, rules=rules)
        except CaseChanged:
            db.session.rollback()
            if attempt == tries - 1:
                raise
        except IntegrityError:
            db.session.rollback()
            if already_processed(settings.name, box.uidvalidity, uid) is None:
                raise
            return None  # another fetch recorded it first: it is theirs
        except Exception:
            db.session.rollback()
            raise
    return None


def _take_out(box, uid, record, settings):
    if record.outcome is InboundOutcome.QUARANTINED:
        moved_to = box.move(uid, settings.quarantine_folder)
        if moved_to is not None and record.quarantine_uid is None:
            record.quarantine_uid = moved_to
            db.session.commit()
    else:
        box.delete(uid)


def purge(settings, now, calendar, *, quarantine_days, log_days):
    """Delete quarantined mail older than `quarantine_days` from the quarantine folder, and
    blank what names the sender in records older than `log_days`. Returns (mails deleted,
    records blanked)."""
    today = local_date(now, calendar.tz)
    deleted = 0
    if settings is not None:
        with Mailbox(settings) as box:
            deleted = box.purge(settings.quarantine_folder, today - timedelta(days=quarantine_days))
    quarantine_end = now - timedelta(days=quarantine_days)
    db.session.execute(sa.update(InboundMail).where(
        InboundMail.outcome == InboundOutcome.QUARANTINED, InboundMail.purged_at.is_(None),
        InboundMail.processed_at < quarantine_end).values(purged_at=now))
    blanked = db.session.execute(sa.update(InboundMail).where(
        InboundMail.processed_at < now - timedelta(days=log_days),
        InboundMail.sender != "").values(sender="", sender_name="", subject="", excerpt="")
    ).rowcount
    return deleted, blanked

