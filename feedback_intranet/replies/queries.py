"""The replies' reads."""

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, undefer

from ..extensions import db
from ..models import (
    Answer,
    AnswerStatus,
    CallbackStatus,
    CallbackTask,
    Letter,
    ReplyTemplate,
)


def open_callbacks(unit):
    """The unit's callbacks still to make, the earliest window first."""
    return db.session.scalars(
        sa.select(CallbackTask)
        .where(CallbackTask.unit_id == unit.id, CallbackTask.status == CallbackStatus.OPEN)
        .options(joinedload(CallbackTask.case), joinedload(CallbackTask.answer))
        .order_by(CallbackTask.window_start, CallbackTask.id)
    ).all()


def waiting_letters(unit, with_pdfs=False):
    """The unit's letters still to post (not posted, and not cancelled before they went out),
    with their cases; `with_pdfs` loads the rendered letters and their answers too."""
    query = (
        sa.select(Letter).join(Answer, Answer.id == Letter.answer_id)
        .where(Letter.unit_id == unit.id, Letter.posted_at.is_(None),
               Answer.status == AnswerStatus.PENDING)
        .options(joinedload(Letter.case))
        .order_by(Letter.created_at, Letter.id)
    )
    if with_pdfs:
        query = query.options(undefer(Letter.pdf), joinedload(Letter.answer))
    return db.session.scalars(query).all()


def reply_templates(case):
    """The templates offered for a case: active, in its language, for its topic or any."""
    return db.session.scalars(
        sa.select(ReplyTemplate)
        .where(ReplyTemplate.active, ReplyTemplate.language == case.language,
               sa.or_(ReplyTemplate.topic_id == case.topic_id, ReplyTemplate.topic_id.is_(None)))
        .order_by(ReplyTemplate.title)
    ).all()
