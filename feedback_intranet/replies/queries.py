"""The replies' reads."""

import functools

import sqlalchemy as sa
from flask import g
from sqlalchemy.orm import aliased, contains_eager, joinedload, undefer

from ..extensions import db
from ..models import (
    Answer,
    AnswerStatus,
    CallbackStatus,
    CallbackTask,
    Letter,
    Purpose,
    ReplyChannel,
    ReplyTemplate,
)
from ..reads import read


def open_callbacks(unit):
    """The unit's callbacks still to make, the earliest window first."""
    return db.session.scalars(
        sa.select(CallbackTask)
        .where(CallbackTask.unit_id == unit.id, CallbackTask.status == CallbackStatus.OPEN)
        .options(joinedload(CallbackTask.case), joinedload(CallbackTask.answer))
        .order_by(CallbackTask.window_start, CallbackTask.id)
    ).all()


def _waiting(unit):
    return (
        sa.select(Letter).join(Answer, Answer.id == Letter.answer_id)
        .where(Letter.unit_id == unit.id, Letter.posted_at.is_(None),
               Answer.status == AnswerStatus.PENDING)
        .options(joinedload(Letter.case), contains_eager(Letter.answer))
        .order_by(Letter.created_at, Letter.id)
    )


def waiting_letters(unit, with_pdfs=False):
    """The unit's letters still to post (not posted, and not cancelled before they went out),
    with their cases and answers; `with_pdfs` loads the rendered letters too."""
    query = _waiting(unit)
    if with_pdfs:
        query = query.options(undefer(Letter.pdf))
    return db.session.scalars(query).all()


def print_queue(unit):
    """The waiting letters, each with the channel of its case's answer when the letter is an
    interim notice and that answer waits to go out too (else None): the customer would read
    the notice with the answer or after it."""
    answer = aliased(Answer)
    answer_channel = (
        sa.select(answer.channel)
        .where(answer.case_id == Letter.case_id, answer.purpose == Purpose.ANSWER,
               answer.status == AnswerStatus.PENDING)
        .limit(1).scalar_subquery()
    )
    query = _waiting(unit).add_columns(
        sa.case((Answer.purpose == Purpose.INTERIM_NOTICE, answer_channel)))
    return [(letter, ReplyChannel(channel) if channel else None)
            for letter, channel in db.session.execute(query)]


def reply_templates(case):
    """The templates offered for a case (id, title and body): active, in its language, for its
    topic or any; read once a request (the case page's template list and its chosen template both
    ask), as plain columns (whole objects took three times as long)."""
    key = (case.language, case.topic_id)
    memo = g.setdefault("reply_templates", {})
    if key not in memo:
        memo[key] = read(_reply_templates_statement(), {
            "language": case.language, "topic_id": case.topic_id}).all()
    return memo[key]


@functools.cache
def _reply_templates_statement():
    """The statement of reply_templates, built once (building it took longer than running it)."""
    return (sa.select(ReplyTemplate.id, ReplyTemplate.title, ReplyTemplate.body)
            .where(ReplyTemplate.active,
                   ReplyTemplate.language == sa.bindparam("language"),
                   sa.or_(ReplyTemplate.topic_id == sa.bindparam("topic_id"),
                          ReplyTemplate.topic_id.is_(None)))
            .order_by(ReplyTemplate.title))
