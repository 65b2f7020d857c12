"""What a sent or failed email means for the answer and the case it belongs to.

The outbox is transport only: it records each message's own status and calls these, which
the app registers at start-up (`register_outbox_outcomes`).
"""

import sqlalchemy as sa

from .. import clock
from ..cases.common import claim_version
from ..closing_days import banking_calendar
from ..extensions import db
from ..logs import get_logger
from ..models import Answer, AnswerStatus, Case, OutboxMessage, OutboxStatus
from .answers import mark_address_refused, mark_confirmation_failed, mark_delivered, mark_failed

log = get_logger(__name__)


def register_outbox_outcomes(app):
    app.extensions["outbox_outcomes"] = OutboxOutcomes


class OutboxOutcomes:
    @staticmethod
    def sent(message_id, now):
        """An answer or notice handed to the mail server has reached the customer."""
        _tell_case(message_id, "was sent", lambda m, case: mark_delivered(
            m.answer, case, m.sent_at or now, banking_calendar(clock.timezone())),
            answers_only=True)

    @staticmethod
    def failed(message_id, reason, refused, now):
        """An answer, notice or confirmation did not reach the customer: the case is flagged."""
        def flag(message, case):
            if message.answer is not None:
                mark_failed(message.answer, case, reason, now)
            else:
                mark_confirmation_failed(case, reason, now)
            if refused:
                mark_address_refused(case, message.recipient)

        _tell_case(message_id, "failed", flag, kinds=("confirmation",))

    @staticmethod
    def before_round(now):
        """Answers still waiting whose email was already sent or failed: the worker that
        recorded the email died, or lost the database, before it told the case. Found
        through the small index of waiting answers."""
        stranded = db.session.execute(
            sa.select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.last_error)
            .join(Answer, sa.and_(Answer.case_id == OutboxMessage.case_id,
                                  Answer.id == OutboxMessage.answer_id))
            .where(Answer.status == AnswerStatus.PENDING,
                   OutboxMessage.status.in_((OutboxStatus.SENT, OutboxStatus.FAILED)))
            .order_by(OutboxMessage.id)
        ).all()
        db.session.commit()
        for message_id, status, reason in stranded:
            log.warning("Outbox message %s %s, but its case had not been told: telling it now",
                        message_id, status)
            if status == OutboxStatus.SENT:
                OutboxOutcomes.sent(message_id, now)
            else:
                _tell_case(message_id, "failed", lambda m, case, reason=reason: mark_failed(
                    m.answer, case, reason, now))


def _tell_case(message_id, what, change, answers_only=False, kinds=(), tries=3):
    """The case learns what became of its email; retried when staff changed the case meanwhile.
    Only messages that carry an answer count (or, for failures, also the kinds named)."""
    for attempt in range(tries):
        try:
            message = db.session.get(OutboxMessage, message_id)
            if message.answer_id is None and (answers_only or message.kind not in kinds):
                db.session.rollback()
                return
            case = db.session.get(Case, message.case_id)
            # The case's row first, as every case action takes it: no deadlock with staff.
            claim_version(case)
            # Under that lock: an answer settled meanwhile (by another worker's round, or
            # cancelled by staff) stays as it is.
            if message.answer is not None:
                db.session.refresh(message.answer)
                if message.answer.status != AnswerStatus.PENDING:
                    db.session.rollback()
                    return
            change(message, case)
            db.session.commit()
            return
        except Exception:
            db.session.rollback()
            if attempt == tries - 1:
                log.exception("Outbox message %s %s, but its case was not updated", message_id,
                              what)
