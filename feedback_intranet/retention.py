"""Data retention: closed cases past the retention period lose their personal data.

Names, addresses, phone numbers, emails, the message, answer and note texts, the
timeline's texts, email bodies, callback numbers and letter files are blanked; what
reports count (dates, units, topic, segment, channels, banking days, resolution) stays,
so the figures still add up. The search index follows through its trigger (SQLite) or
expression (PostgreSQL). Runs in batches, each its own transaction; running it again
finds nothing new to do.
"""

from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa

from . import audit
from .extensions import db
from .models import (
    Answer,
    AuditKind,
    CallbackTask,
    Case,
    CaseEvent,
    CaseStatus,
    InboundMail,
    Letter,
    MatchMethod,
    OutboxMessage,
    UsedFormToken,
)
from .rules.counts import counted
from .rules.sort_keys import NO_NAME

BATCH = 1000
REMOVED = "[removed: retention period passed]"


# What the run touches besides the cases, as the command line and the audit log name it, in
# the singular and the plural.
WORDS = {
    "answers": ("answer", "answers"),
    "events": ("timeline event", "timeline events"),
    "emails": ("email", "emails"),
    "calls": ("call", "calls"),
    "letters": ("letter", "letters"),
    "inbound_mail": ("inbound mail record", "inbound mail records"),
    "form_tokens": ("used form token", "used form tokens"),
}


@dataclass
class Outcome:
    cases: int = 0
    rows: dict = field(default_factory=dict)

    def add(self, key, count):
        self.rows[key] = self.rows.get(key, 0) + count

    def summary(self):
        parts = ", ".join(counted(self.rows[key], *WORDS[key]) for key in WORDS
                          if self.rows.get(key))
        return counted(self.cases, "case", "cases") + (f" ({parts})" if parts else "")


_MODELS = {"answers": Answer, "events": CaseEvent, "emails": OutboxMessage,
           "calls": CallbackTask, "letters": Letter, "inbound_mail": InboundMail}
_KEYS = {model: key for key, model in _MODELS.items()}


def cutoff(now, months):
    """Closed before this moment means past the retention period (a month counted as 30.44 days)."""
    return now - timedelta(days=round(months * 30.44))


def due_cases(now, months):
    return (sa.select(Case.id)
            .where(Case.status == CaseStatus.CLOSED, Case.closed_at < cutoff(now, months),
                   Case.anonymised_at.is_(None))
            .order_by(Case.id))


def apply(now, months, dry_run=False):
    """Anonymise every closed case past the period; with `dry_run`, only count them."""
    outcome = Outcome()
    if dry_run:
        ids = sa.select(Case.id).where(Case.id.in_(due_cases(now, months)))
        outcome.cases = db.session.scalar(sa.select(sa.func.count()).select_from(ids.subquery()))
        for key, model in _MODELS.items():
            outcome.add(key, db.session.scalar(
                sa.select(sa.func.count()).select_from(model).where(model.case_id.in_(ids))))
        audit.record(AuditKind.RETENTION, dry_run=True, months=months, cases=outcome.cases,
                     rows=outcome.rows)
        db.session.commit()
        return outcome
    while True:
        ids = list(db.session.scalars(due_cases(now, months).limit(BATCH)))
        if not ids:
            break
        _anonymise(ids, now, outcome)
        db.session.commit()
    # One-time form tokens only guard against double submits: a day is plenty.
    pruned = db.session.execute(sa.delete(UsedFormToken).where(
        UsedFormToken.used_at < now - timedelta(days=1)))
    outcome.add("form_tokens", pruned.rowcount)
    audit.record(AuditKind.RETENTION, dry_run=False, months=months, cases=outcome.cases,
                 rows=outcome.rows)
    db.session.commit()
    return outcome


def _anonymise(ids, now, outcome):
    def update_rows(model, where, **values):
        outcome.add(_KEYS[model], db.session.execute(
            sa.update(model).where(where).values(**values)
            .execution_options(synchronize_session=False)).rowcount)

    # Still closed and not yet blanked: a case reopened since it was picked keeps its data, and
    # the inbox stamps, which this write past the ORM does not move, stay right.
    ids = db.session.scalars(
        sa.update(Case)
        .where(Case.id.in_(ids), Case.status == CaseStatus.CLOSED, Case.anonymised_at.is_(None))
        .values(contact_name="", customer_sort=NO_NAME, contact_street="", contact_postal_code="",
                contact_city="", contact_country="FI",
                contact_phone="", contact_email="", email_refused="", message=REMOVED, customer_id=None,
                match_method=MatchMethod.NONE, delivery_problem="", submission_token=None,
                suggested_unit_id=None, anonymised_at=now)
        .returning(Case.id)
        .execution_options(synchronize_session=False)).all()
    outcome.cases += len(ids)
    update_rows(Answer, Answer.case_id.in_(ids), subject="", text=REMOVED, failure="")
    update_rows(CaseEvent, CaseEvent.case_id.in_(ids), text="", facts=None)
    update_rows(OutboxMessage, OutboxMessage.case_id.in_(ids), recipient="", subject="",
                body_text="", body_html="", last_error="")
    # Versions move, so a call or letter being acted on meanwhile cannot write its data back.
    update_rows(CallbackTask, CallbackTask.case_id.in_(ids), phone="",
                version=CallbackTask.version + 1)
    update_rows(Letter, Letter.case_id.in_(ids), pdf=b"", version=Letter.version + 1)
    update_rows(InboundMail, InboundMail.case_id.in_(ids), sender="", sender_name="", subject="",
                excerpt="")
