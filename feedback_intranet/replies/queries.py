"""The replies' reads."""

import sqlalchemy as sa

from ..extensions import db
from ..models import Answer, AnswerStatus, Letter, ReplyTemplate


def waiting_letters(unit):
    """The unit's letters still to post: not posted, and not cancelled before they went out."""
    return (
        sa.select(Letter).join(Answer, Answer.id == Letter.answer_id)
        .where(Letter.unit_id == unit.id, Letter.posted_at.is_(None),
               Answer.status == AnswerStatus.PENDING)
        .order_by(Letter.created_at, Letter.id)
    )


def reply_templates(case):
    """The templates offered for a case: active, in its language, for its topic or any."""
    return db.session.scalars(
        sa.select(ReplyTemplate)
        .where(ReplyTemplate.active, ReplyTemplate.language == case.language,
               sa.or_(ReplyTemplate.topic_id == case.topic_id, ReplyTemplate.topic_id.is_(None)))
        .order_by(ReplyTemplate.title)
    ).all()
