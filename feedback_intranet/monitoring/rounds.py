"""The background jobs' rounds: each finished round writes its job's heartbeat and one log line.

A heartbeat is the time a job last finished a round (monitoring reads it: the email worker
stopped shows as an old heartbeat, not as customers' complaints). It is written in a short
transaction of its own after the round's work is committed, so a round that failed leaves the
previous heartbeat in place.
"""

import os
import socket
import time

from .. import clock
from ..extensions import db, insert_of
from ..logs import get_logger
from ..models import Heartbeat

log = get_logger(__name__)

OUTBOX = "outbox"
INBOUND = "inbound"
REMINDERS = "reminders"
RETENTION = "retention"
DIRECTORY_SYNC = "directory_sync"
BACKUP = "backup"
JOBS = (OUTBOX, INBOUND, REMINDERS, RETENTION, DIRECTORY_SYNC, BACKUP)


def started():
    """The moment a round starts, for `finished`: a monotonic clock, not the injectable one."""
    return time.monotonic()


def finished(job, began, outcome=None):
    """Record that a round of `job` begun at `began` (from `started`) finished now: commits its
    heartbeat and logs one line with what the round did (`outcome`: {what: how many})."""
    seconds = time.monotonic() - began
    table = Heartbeat.__table__
    values = {"job": job, "worker": f"{socket.gethostname()[:80]}:{os.getpid()}",
              "finished_at": clock.now(), "seconds": round(seconds, 3)}
    statement = insert_of(db.session.get_bind().dialect.name)(table).values(values)
    db.session.execute(statement.on_conflict_do_update(
        index_elements=[table.c.job],
        set_={name: statement.excluded[name] for name in values if name != "job"}))
    db.session.commit()
    outcome = {str(what): count for what, count in (outcome or {}).items() if count}
    log.info("Round of %s finished in %d ms: %s", job, seconds * 1000,
             ", ".join(f"{what} {count}" for what, count in sorted(outcome.items())) or "nothing "
             "to do", extra={"job": job, "duration_ms": round(seconds * 1000, 1),
                             "outcome": outcome})
