"""The feedback forms' reads."""

import sqlalchemy as sa

from ..extensions import db
from ..models import Topic


def active_topics():
    return list(db.session.scalars(sa.select(Topic).where(Topic.active).order_by(Topic.name)))
