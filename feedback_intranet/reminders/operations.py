"""One banking morning's summaries: read everything once, then for each recipient one
transaction that records the summary, queues its email and notes the escalations it reports.

The record (MorningDigest, unique per day and recipient) is written first: a second run the same
day, even one running at the same moment on PostgreSQL, stops at it and sends nothing twice.
Each recipient commits alone, so a run that dies halfway leaves the rest to a rerun.
"""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from .. import outbox
from ..extensions import db, insert_of
from ..models import (
    OPEN_STATUSES,
    Case,
    CaseEscalation,
    ClosingDay,
    MorningDigest,
    OutboxKind,
)
from ..rules.banking_days import holiday_name, local_date
from . import digests
from . import queries as q


@dataclass
class MorningRun:
    """What one run did, or on a dry run would do."""

    day: object
    closed: str = ""  # why the bank is closed today (then nothing is sent)
    sent: int = 0
    with_escalations: int = 0
    nothing_to_tell: int = 0
    already_sent: int = 0
    escalated: int = 0  # cases reported overdue to their unit's lead for the first time
    planned: list = field(default_factory=list)  # a dry run's summaries, one line each


def why_closed(day, calendar):
    """In the operator's words, why `day` is no banking day; empty when it is one."""
    if calendar.is_banking_day(day):
        return ""
    if day.weekday() >= 5:
        return "weekend"
    holiday = holiday_name(day, "en")
    if holiday:
        return holiday
    reason = db.session.scalar(sa.select(ClosingDay.reason).where(
        ClosingDay.day == day, ClosingDay.withdrawn_at.is_(None)))
    return f"a closing day: {reason}" if reason else "a closing day"


def previous_banking_day(day, calendar):
    day -= timedelta(days=1)
    while not calendar.is_banking_day(day):
        day -= timedelta(days=1)
    return day


def read_morning(today, calendar):
    """Every list of the morning, for all units and members, in a few statements."""
    units = q.units()
    unit_ids = [unit.id for unit in units]
    next_day = calendar.add_banking_days(today, 1)
    day_began = datetime.combine(today, time.min, tzinfo=calendar.tz)
    # A letter made on day D is late once the banking day after D has ended: made before the
    # previous banking day began.
    letters_late_from = datetime.combine(previous_banking_day(today, calendar), time.min,
                                         tzinfo=calendar.tz)
    unit_lists = {
        **q.unit_cases(unit_ids, today, next_day),
        **q.late_letters(unit_ids, letters_late_from),
        **q.late_callbacks(unit_ids, day_began),
        **q.held_by_leavers(),
    }
    overdue = [item.case_id for (_unit, name), listed in unit_lists.items()
               if name == q.OVERDUE for item in listed.items]
    return digests.Morning(
        today=today, calendar=calendar, units={unit.id: unit for unit in units},
        own=q.own_cases(unit_ids, today, next_day, q.central_unit_ids(units)),
        unit_lists=unit_lists, held_since=q.held_since(overdue))


def send_morning(now, calendar, *, dry_run=False):
    """Send this banking morning's summaries; nothing on a day the bank is closed, nothing to
    anyone with nothing to be told, nothing twice. Returns what was done (`MorningRun`)."""
    today = local_date(now, calendar.tz)
    run = MorningRun(today, closed=why_closed(today, calendar))
    if run.closed:
        return run
    people = q.people()
    morning = read_morning(today, calendar)
    done = q.already_sent(today)
    for recipient in digests.recipients(people, morning.units.values()):
        digest = digests.compose(recipient, morning)
        if digest.empty:
            run.nothing_to_tell += 1
        elif recipient.key in done:
            run.already_sent += 1
        elif dry_run:
            run.planned.append(digests.describe(digest))
        else:
            escalated = _send(digest, morning, now)
            if escalated is None:
                run.already_sent += 1
                continue
            run.sent += 1
            run.with_escalations += bool(digest.overdue_unit_ids)
            run.escalated += escalated
    if dry_run:
        db.session.rollback()
    return run


def _send(digest, morning, now):
    """Record, queue and escalate one summary in one transaction; the number of cases escalated
    for the first time, or None when the recipient had theirs already (another run got there
    first)."""
    recipient = digest.recipient
    subject, body_text, body_html = digests.render(digest, morning)
    try:
        # First, so that a run racing this one waits here and then stops, before any email.
        record = MorningDigest(day=morning.today, recipient=recipient.key,
                               user_id=recipient.user_id, created_at=now)
        db.session.add(record)
        db.session.flush()
        message = outbox.enqueue(kind=OutboxKind.MORNING_DIGEST, recipient=recipient.email,
                                 subject=subject, body_text=body_text, body_html=body_html,
                                 now=now)
        db.session.flush()
        record.outbox_message_id = message.id
        escalated = sum(_escalate(unit_id, morning.today) for unit_id in digest.overdue_unit_ids)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return escalated


def _escalate(unit_id, today):
    """Note every overdue case of the unit as escalated there today, unless it already was:
    one statement on the inbox index; the number noted now."""
    table = CaseEscalation.__table__
    overdue = sa.select(Case.id, sa.literal(unit_id), sa.literal(today, sa.Date)).where(
        Case.current_unit_id == unit_id, Case.status.in_(OPEN_STATUSES),
        Case.effective_due_date < today, Case.reply_wanted.is_(True)).order_by(Case.id)
    return len(db.session.execute(
        insert_of(db.session.connection().dialect.name)(table)
        .from_select(["case_id", "unit_id", "escalated_on"], overdue)
        .on_conflict_do_nothing().returning(table.c.case_id)).all())
