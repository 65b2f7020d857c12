"""What the database says, read at each scrape: a fixed number of statements, each cheap at a
million cases (tests/test_metrics.py counts them).

- the outbox: messages queued, being sent and failed (sent and cancelled ones are all of
  history: counting them would read the whole table), and the age of the oldest one not yet
  sent, along the (status, next attempt) index;
- each background job's last finished round (the heartbeat table, one row a job);
- each unit's open, overdue and unassigned cases, summed from the inbox counters (the inbox's
  own definitions), never by counting cases;
- inbound mail of the last 24 hours by outcome, along the index on its processing time (all of
  history would again read the whole table);
- readiness, each check 1 or 0.

A database that does not answer leaves only readiness in the scrape: Prometheus then sees the
failing check, and the series read from the database go missing rather than stale.
"""

from datetime import timedelta

import sqlalchemy as sa
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy.exc import SQLAlchemyError

from .. import clock
from ..extensions import db
from ..inboxes import counters
from ..logs import get_logger
from ..models import Heartbeat, InboundMail, InboundOutcome, OutboxMessage, OutboxStatus, Unit
from . import readiness

log = get_logger(__name__)

OUTBOX_COUNTED = (OutboxStatus.QUEUED, OutboxStatus.SENDING, OutboxStatus.FAILED)
UNSENT = (OutboxStatus.QUEUED, OutboxStatus.SENDING)
INBOUND_WINDOW = timedelta(hours=24)


class DatabaseCollector:
    """A prometheus_client collector; runs in the scrape's request (its app and session)."""

    def collect(self):
        checked = readiness.check()
        ready = GaugeMetricFamily(
            "feedback_ready", "Whether this server passes each readiness check (1) or not (0): "
            "the database answers within a second, its schema is at the migrations' head, "
            "Redis answers (where configured); /readyz says why one fails.", labels=["check"])
        for name in checked.checked:
            ready.add_metric([name], 0 if name in checked.failed else 1)
        yield ready
        if readiness.DATABASE in checked.failed:
            return
        try:
            families = list(_from_database(clock.now(), clock.today()))
        except SQLAlchemyError:
            db.session.rollback()
            log.warning("Metrics: the database could not be read", exc_info=True)
            return
        yield from families


def _from_database(now, today):
    yield from _outbox(now)
    yield from _heartbeats()
    yield from _units(today)
    yield from _inbound(now)


def _outbox(now):
    status = OutboxMessage.status
    rows = db.session.execute(
        sa.select(status, sa.func.count(),
                  sa.func.min(sa.case((status.in_(UNSENT), OutboxMessage.created_at))))
        .where(status.in_(OUTBOX_COUNTED)).group_by(status)).all()
    messages = GaugeMetricFamily(
        "feedback_outbox_messages", "Outbox messages queued, being sent (claimed by a worker) "
        "and failed.", labels=["status"])
    counted = {OutboxStatus(row[0]): row[1] for row in rows}
    for each in OUTBOX_COUNTED:
        messages.add_metric([each.value], counted.get(each, 0))
    yield messages
    oldest = min((row[2] for row in rows if row[2] is not None), default=None)
    yield GaugeMetricFamily(
        "feedback_outbox_oldest_unsent_age_seconds", "How long the oldest email not yet handed "
        "to the mail server (queued, waiting for a retry or being sent) has waited; 0 when none "
        "waits.", value=max((now - oldest).total_seconds(), 0) if oldest else 0)


def _heartbeats():
    rows = db.session.execute(sa.select(Heartbeat.job, Heartbeat.finished_at, Heartbeat.seconds))
    # Not "job": Prometheus gives every target that label and would rename this one.
    finished = GaugeMetricFamily(
        "feedback_job_last_round_timestamp_seconds", "When each background job last finished a "
        "round (Unix time): outbox (the email worker), inbound, reminders, retention, "
        "directory_sync. Missing: the job never finished one on this database.",
        labels=["background_job"])
    took = GaugeMetricFamily(
        "feedback_job_last_round_duration_seconds", "How long each background job's last "
        "finished round took.", labels=["background_job"])
    for job, finished_at, seconds in rows:
        finished.add_metric([job], finished_at.timestamp())
        took.add_metric([job], seconds)
    yield finished
    yield took


def _units(today):
    counts = counters.backlog(today)
    rows = db.session.execute(
        sa.select(Unit.code, counts.c.open, counts.c.overdue, counts.c.unassigned)
        .outerjoin(counts, counts.c.unit_id == Unit.id)
        .where(sa.or_(Unit.active, counts.c.unit_id.is_not(None)))
        .order_by(Unit.code)).all()
    families = [
        GaugeMetricFamily("feedback_cases_open", "Open cases awaiting an answer per unit (its "
                          "inbox's Open filter).", labels=["unit"]),
        GaugeMetricFamily("feedback_cases_overdue", "Open cases awaiting an answer past their due "
                          "date per unit (its inbox's Overdue filter).", labels=["unit"]),
        GaugeMetricFamily("feedback_cases_unassigned", "New cases nobody holds per unit (its "
                          "inbox's Unassigned filter).", labels=["unit"]),
    ]
    for code, *values in rows:
        for family, value in zip(families, values, strict=True):
            family.add_metric([code], value or 0)
    yield from families


def _inbound(now):
    rows = dict(db.session.execute(
        sa.select(InboundMail.outcome, sa.func.count())
        .where(InboundMail.processed_at >= now - INBOUND_WINDOW)
        .group_by(InboundMail.outcome)).all())
    mails = GaugeMetricFamily(
        "feedback_inbound_mails_last_24h", "Mails read from the feedback mailbox in the last 24 "
        "hours, by what became of them (quarantined: held for review).", labels=["outcome"])
    counted = {InboundOutcome(outcome): count for outcome, count in rows.items()}
    for outcome in InboundOutcome:
        mails.add_metric([outcome.value], counted.get(outcome, 0))
    yield mails
