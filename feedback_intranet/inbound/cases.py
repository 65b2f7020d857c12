"""What mail from a customer does to their case: a reply threads into it (and may open it
again), an automatic reply is only noted, a delivery report fails the message it returns.

The inbound run calls these in the transaction that records the mail (InboundMail) and commits
once: nothing here commits. Each change takes the case's row first, as case actions do
(cases.common.claim_version), so staff acting on the case at the same moment wait, and the run
is refused (CaseChanged, or the ORM's StaleDataError) when staff changed the case after the run
read it: roll back and read the mail again.
"""

from datetime import timedelta

import sqlalchemy as sa

from ..cases.common import add_event, claim_version
from ..cases.operations import active_member, reopen_on_reply, waiting_replies
from ..extensions import db
from ..models import (
    Answer,
    AnswerStatus,
    Case,
    CaseEvent,
    CaseStatus,
    EventKind,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    Purpose,
    Unit,
)
from ..notifications import CUSTOMER_REPLIED, REOPENED_BY_REPLY, notify
from ..replies.answers import (
    mark_address_refused,
    mark_confirmation_failed,
    mark_failed,
)
from ..routing import service_unit
from ..rules.banking_days import local_date

# A reply this many calendar days (Helsinki) after the close, or after the last answer of a case
# answered and not closed, still belongs to the case; a later one is new feedback.
REPLY_WINDOW_DAYS = 30


def original_of(case):
    """The case a duplicate duplicates, to the end of the chain (a chain that turns back on
    itself ends where it would)."""
    seen = {case.id}
    while case.duplicate_of is not None and case.duplicate_of.id not in seen:
        case = case.duplicate_of
        seen.add(case.id)
    return case


def last_answer_at(case):
    """When the case's last answer reached the customer (None: none did)."""
    return db.session.scalar(sa.select(sa.func.max(Answer.delivered_at)).where(
        Answer.case_id == case.id, Answer.purpose == Purpose.ANSWER,
        Answer.status == AnswerStatus.DELIVERED))


def case_for_reply(case, now, calendar):
    """Where a customer's reply about `case` belongs: (case, True) when it threads into it, a
    duplicate's reply into its original; (case, False) when the reply comes more than
    REPLY_WINDOW_DAYS after the case was closed, or after its last answer when it was answered
    and not closed: the reply is then new feedback, which the caller opens with
    follows_case_id=case.id. A case whose personal data the retention run removed takes no
    reply either."""
    case = original_of(case)
    if case.anonymised_at is not None:
        return case, False
    if case.is_open:
        return case, True
    since = case.closed_at if case.status == CaseStatus.CLOSED else (
        last_answer_at(case) or case.first_answered_at)
    return case, since is None or within_reply_window(since, now, calendar.tz)


def within_reply_window(since, now, tz):
    """A reply at `now` still belongs to a case closed (or last answered) at `since`: at most
    REPLY_WINDOW_DAYS calendar days later, counted in the bank's time zone `tz`."""
    return local_date(now, tz) <= local_date(since, tz) + timedelta(days=REPLY_WINDOW_DAYS)


def answering_unit_id(case):
    """The unit that gave the case's last answer: the one holding the case when the answer
    reached the customer. A case moves on only by a forward, so that is the unit the first
    forward after the answer left, or the unit holding the case now. None when no answer
    reached the customer."""
    delivered = last_answer_at(case)
    if delivered is None:
        return None
    left = db.session.scalar(
        sa.select(CaseEvent.from_unit_id)
        .where(CaseEvent.case_id == case.id, CaseEvent.kind == EventKind.FORWARDED,
               CaseEvent.at > delivered)
        .order_by(CaseEvent.at, CaseEvent.id).limit(1))
    return left or case.current_unit_id


def reopening_unit(case):
    """Where a reply opens the case again: the unit that answered, or if it is no longer
    active, the unit holding the case, else customer service (business customer service for a
    business customer)."""
    for unit_id in dict.fromkeys((answering_unit_id(case), case.current_unit_id)):
        unit = db.session.get(Unit, unit_id) if unit_id is not None else None
        if unit is not None and unit.active:
            return unit
    return service_unit(db.session, case.segment)


def record_customer_reply(case, *, text, subject, attachments, masked_kinds, now, calendar):
    """The customer wrote back about `case` (one case_for_reply threads into): `text` is the
    reply as it is kept (masked, quotes and signature cut), `subject` its masked subject,
    `attachments` how many were left out, `masked_kinds` the kinds of sensitive data masked in
    it (rules.masking).

    The timeline says so and the inbox row says "customer replied" until staff answer or close
    the case. An answer waiting to close the case on delivery no longer does: the reply must
    be read first. A closed or answered case opens again (`reopening_unit`), awaiting an answer
    by the third banking day after the Helsinki day of the reply; an open case keeps its due
    date. The case's holder is emailed if they asked to be (User.notify_customer_replied).
    Flushed, not committed."""
    claim_version(case)
    facts = {"attachments": attachments, "subject": subject}
    if masked_kinds:
        facts["masked"] = sorted(masked_kinds)
    waiting = waiting_replies(case)
    closing = [answer for answer in waiting if answer.close_when_delivered]
    for answer in closing:
        answer.close_when_delivered = False
    if closing:
        facts["close_cancelled"] = True
    add_event(case, EventKind.CUSTOMER_REPLIED, None, now, text,
              from_unit_id=case.current_unit_id, **facts)
    # Later than anything still on its way to the customer, whatever the clocks of the hosts
    # said: a delivery tells an answer written before the reply by this (replies.answers).
    case.customer_replied_at = max([now, *(answer.created_at + timedelta(microseconds=1)
                                           for answer in waiting)])
    if case.is_open:
        holder = case.assignee_id and active_member(case.current_unit_id, case.assignee_id)
        message = CUSTOMER_REPLIED
    else:
        holder = reopen_on_reply(case, reopening_unit(case), calendar.due_date(now), now)
        message = REOPENED_BY_REPLY
    if holder:
        notify([holder], case, message, now, opted_in="notify_customer_replied")
    db.session.flush()


def record_automatic_reply(case, *, reason, now):
    """An automatic reply about `case` (an out-of-office message, a mailing list: `reason` is
    what showed it, as inbound.reading words it): the timeline notes it, and nothing else
    changes or is sent. A note on the timeline only, so the case's row is not taken."""
    add_event(case, EventKind.AUTOMATIC_REPLY, None, now, from_unit_id=case.current_unit_id,
              reason=reason)
    db.session.flush()


# A permanent failure about the address itself (RFC 3463 5.1.x): no email goes to it any more.
_ADDRESS_STATUS = "5.1."


def record_bounce(message, *, status, diagnostic, now):
    """A delivery status notification says `message` failed for good (Action: failed, a 5.x.x
    `status`, the `diagnostic` text): the message is failed, and so is the answer, notice or
    written confirmation it carried, even one that had already counted as delivered: the case is
    flagged and offers another channel, a case answered by it awaits an answer again, and a case
    that closed on its delivery opens again, flagged, in its holder's list. A failed
    confirmation of receipt flags the case too. An address refused as such (5.1.x) gets no more
    email.

    Returns the case the message belonged to, also when an earlier report already failed it;
    None for mail that concerns no customer of a case (staff notifications, summaries)."""
    if message.case_id is None or (message.answer_id is None
                                    and message.kind != OutboxKind.CONFIRMATION):
        return None
    case = db.session.get(Case, message.case_id)
    claim_version(case)
    reason = f"{status} {diagnostic}".strip()[:300]
    # A message still being handed over is the outbox worker's; one already failed or
    # cancelled has nothing more to say.
    failed = db.session.execute(sa.update(OutboxMessage).where(
        OutboxMessage.id == message.id,
        OutboxMessage.status.in_((OutboxStatus.SENT, OutboxStatus.QUEUED)),
    ).values(status=OutboxStatus.FAILED, last_error=f"returned: {reason}"[:500])).rowcount
    db.session.expire(message, ["status", "last_error"])
    if failed != 1:
        return case
    problem = {"bounced": status, "detail": diagnostic[:200]}
    answer = message.answer
    if answer is not None:
        db.session.refresh(answer)
        if answer.status in (AnswerStatus.PENDING, AnswerStatus.DELIVERED):
            _fail_answer(answer, case, reason, problem, now)
    else:
        mark_confirmation_failed(case, reason, now, problem)
    if status.startswith(_ADDRESS_STATUS):
        mark_address_refused(case, message.recipient)
    db.session.flush()
    return case


def _fail_answer(answer, case, reason, problem, now):
    latest = (answer.purpose == Purpose.ANSWER and answer.delivered_at is not None
              and answer.delivered_at == last_answer_at(case))
    mark_failed(answer, case, reason, now, problem)
    if latest and case.status == CaseStatus.ANSWERED:
        # The answer the case stood answered on never arrived: it awaits one again.
        case.status = CaseStatus.ASSIGNED if case.assignee_id else CaseStatus.NEW
