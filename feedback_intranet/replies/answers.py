"""An answer's fate: it reached the customer, or it could not be delivered."""

from ..cases.common import add_event
from ..cases.operations import close_on_delivery, reopen_on_failed_delivery
from ..models import AnswerStatus, CaseStatus, EventKind, Purpose, ReplyChannel
from ..notifications import REOPENED_UNDELIVERED, notify
from ..rules.banking_days import local_date


def mark_delivered(answer, case, now, calendar, how=None, actor=None):
    """The answer reached the customer: the promise is measured on the first such moment.
    `actor` is the person who recorded it (posted the letter, made the call); none for an email,
    which the outbox hands to the mail server. `how` adds facts for the timeline (the day a
    letter was posted)."""
    how = how or {}
    answer.status = AnswerStatus.DELIVERED
    answer.delivered_at = now
    case.delivery_problem = ""
    day = local_date(now, calendar.tz)
    # The customer wrote again after this was written: their reply still awaits an answer.
    replied_since = (case.customer_replied_at is not None
                     and case.customer_replied_at > answer.created_at)
    if answer.purpose == Purpose.INTERIM_NOTICE:
        # A notice after the first answer is about a reply, not the promise the reports measure.
        if case.interim_notice_on is None and case.first_answered_at is None:
            case.interim_notice_on = day
        # The customer has been told when to expect the answer to their reply.
        if not replied_since and case.customer_replied_at is not None:
            case.customer_replied_at = None
    if answer.purpose == Purpose.ANSWER:
        if case.first_answered_at is None:
            case.record_first_answer(now, answer.channel, calendar)
        if replied_since:
            if case.reply_due_date is None and case.is_open:
                case.set_reply_due_date(calendar.due_date(case.customer_replied_at))
        else:
            case.clear_customer_reply()
            if case.status in (CaseStatus.NEW, CaseStatus.ASSIGNED):
                case.status = CaseStatus.ANSWERED
    delivered = add_event(case, EventKind.DELIVERED, actor, now, purpose=str(answer.purpose),
                          channel=str(answer.channel), **how)
    if answer.purpose in CLOSING_PURPOSES and answer.close_when_delivered:
        not_closed = close_on_delivery(actor, case, _asked_to_close(answer, case), now)
        if not_closed:
            delivered.facts = {**delivered.facts, "not_closed": not_closed}


# What may close a case on its delivery: the answer, or the written confirmation of an answer
# given by phone, which the case waits for.
CLOSING_PURPOSES = (Purpose.ANSWER, Purpose.WRITTEN_CONFIRMATION)


def _asked_to_close(answer, case):
    """Who sent the answer with "close when delivered": for a written confirmation, the one who
    sent the phone answer it confirms (the last one reached)."""
    if answer.purpose == Purpose.ANSWER:
        return answer.created_by
    confirmed = [a for a in case.answers if a.purpose == Purpose.ANSWER
                 and a.status == AnswerStatus.DELIVERED and a.channel == ReplyChannel.PHONE]
    return confirmed[-1].created_by if confirmed else answer.created_by


def mark_failed(answer, case, reason, now, problem=None):
    """The answer did not reach the customer: the case is open again and flagged; closed on
    this answer's delivery, it reopens, to its holder's list. `reason` is the mail server's or
    the caller's words; `problem`, when known, the facts the timeline words it from."""
    answer.status = AnswerStatus.FAILED
    answer.failure = reason[:300]
    what = "Email" if answer.channel == "email" else answer.channel.english_title
    case.delivery_problem = f"{what} could not be delivered: {reason}"[:300]
    add_event(case, EventKind.DELIVERY_FAILED, None, now, purpose=str(answer.purpose),
              channel=str(answer.channel), **(problem or {"detail": reason[:300]}))
    counted = (answer.purpose == Purpose.ANSWER and answer.delivered_at is not None
               and case.first_answered_at == answer.delivered_at)
    if counted and case.status == CaseStatus.ANSWERED:
        case.forget_first_answer()
        case.status = CaseStatus.ASSIGNED if case.assignee_id else CaseStatus.NEW
    elif reopen_on_failed_delivery(answer, case, now):
        if counted:
            case.forget_first_answer()
        if case.assignee is not None:
            notify([case.assignee], case, REOPENED_UNDELIVERED, now)


def mark_confirmation_failed(case, reason, now, problem=None):
    """The confirmation did not reach the customer: their address is probably wrong."""
    case.delivery_problem = f"Confirmation email could not be delivered: {reason}"[:300]
    add_event(case, EventKind.DELIVERY_FAILED, None, now, purpose="confirmation",
              **(problem or {"detail": reason[:300]}))


def mark_address_refused(case, address):
    """The customer's mail server refused `address`: no email goes to it until it is corrected."""
    if address == case.contact_email:
        case.email_refused = address
