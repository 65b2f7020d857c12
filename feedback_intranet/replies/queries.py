"""The replies' reads."""

import sqlalchemy as sa

from ..models import Answer, AnswerStatus, Letter


def waiting_letters(unit):
    """The unit's letters still to post: not posted, and not cancelled before they went out."""
    return (
        sa.select(Letter).join(Answer, Answer.id == Letter.answer_id)
        .where(Letter.unit_id == unit.id, Letter.posted_at.is_(None),
               Answer.status == AnswerStatus.PENDING)
        .order_by(Letter.created_at, Letter.id)
    )
