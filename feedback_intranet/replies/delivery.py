"""A new answer or interim notice on record; the channels deliver it (see `channels`)."""

from ..extensions import db
from ..models import Answer


def new_answer(case, actor, channel, text, purpose, now):
    answer = Answer(case_id=case.id, purpose=purpose, channel=channel, text=text,
                    created_at=now, created_by_id=actor.id)
    db.session.add(answer)
    db.session.flush()
    return answer
