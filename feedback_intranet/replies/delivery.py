"""A new answer or interim notice on record; the channels deliver it (see `channels`)."""

from ..extensions import db
from ..models import Answer


def new_answer(case, actor, channel, text, purpose, now):
    # Never before the customer's reply the writer has seen (inbound.cases keeps a reply after
    # what was on its way): its delivery then answers the reply, whatever the hosts' clocks say.
    written = max(now, case.customer_replied_at or now)
    answer = Answer(case_id=case.id, purpose=purpose, channel=channel, text=text,
                    created_at=written, created_by_id=actor.id)
    # Not flushed here: the channel links its letter, callback or email to the answer object, so
    # the answer is written with its subject in the transaction's one flush.
    db.session.add(answer)
    return answer
