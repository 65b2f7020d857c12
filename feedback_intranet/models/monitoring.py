"""What the background jobs leave for monitoring: the time of each job's last finished round."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .common import UTCDateTime


class Heartbeat(db.Model):
    """A job's last finished round (the email worker, inbound fetch, reminders, retention,
    directory sync), written by the job itself: an old one means the job stopped."""

    __tablename__ = "heartbeat"

    job: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    # Host and process of the worker that finished it.
    worker: Mapped[str] = mapped_column(sa.String(100), default="")
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # How long the round took.
    seconds: Mapped[float] = mapped_column(sa.Float, default=0.0)
