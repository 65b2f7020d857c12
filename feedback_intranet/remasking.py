"""Masking again what is already stored, once the detector knows more ways of writing numbers.

A one-off after an upgrade (`flask --app wsgi masking reapply`): the cases' free text, the
timeline, answers, emails not yet sent and letters not yet posted go through `masking.mask`
again. Each table is walked by id, a batch at a time, each batch its own transaction, so a
million cases take bounded memory. A row is written only where masking changes it, and only
if nobody changed it since it was read (its version, or its text, is checked in the UPDATE),
so running it again finds nothing. The search index follows the cases through its trigger
(SQLite) or expression (PostgreSQL); the inbox stamps of changed cases are touched here,
as these writes pass the ORM.
"""

from dataclasses import dataclass, field
from io import BytesIO

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from . import audit, clock
from .extensions import db
from .inboxes import stamps
from .models import Answer, AuditKind, Case, CaseEvent, Letter, OutboxMessage, OutboxStatus, Unit
from .rules.banking_days import local_date
from .rules.counts import counted, listed
from .rules.masking import mask
from .rules.sort_keys import sort_key

BATCH = 2000
LETTER_BATCH = 50  # PDFs are loaded one batch at a time
CASE_FIELDS = (Case.contact_name, Case.contact_street, Case.contact_city, Case.message)
# How the summary names each kind of row, in the singular and the plural.
WORDS = {
    "cases": ("case", "cases"),
    "events": ("timeline entry", "timeline entries"),
    "answers": ("answer", "answers"),
    "emails": ("unsent email", "unsent emails"),
    "letters": ("waiting letter", "waiting letters"),
}


@dataclass
class Outcome:
    counts: dict = field(default_factory=lambda: dict.fromkeys(WORDS, 0))
    changed_meanwhile: int = 0

    def summary(self):
        text = listed(counted(count, *WORDS[key]) for key, count in self.counts.items())
        if self.changed_meanwhile:
            text += (f"; {self.changed_meanwhile} changed by someone while this ran and were left "
                     "for the next run")
        return text


def reapply(*, dry_run=False, batch=BATCH):
    """Mask every stored free text again; with `dry_run`, only count what would change."""
    outcome = Outcome()
    _cases(outcome, dry_run, batch)
    _texts(CaseEvent, "events", outcome, dry_run, batch)
    _texts(Answer, "answers", outcome, dry_run, batch)
    _emails(outcome, dry_run, batch)
    _letters(outcome, dry_run)
    audit.record(AuditKind.ADMIN_CHANGE, username=audit.COMMAND_LINE, change="masking_reapply",
                 dry_run=dry_run, counts=outcome.counts,
                 changed_meanwhile=outcome.changed_meanwhile)
    db.session.commit()
    return outcome


def _batches(select, id_column, size):
    """The rows of `select` (the id first) in id order, `size` at a time."""
    last = None
    while True:
        page = select if last is None else select.where(id_column > last)
        rows = db.session.execute(page.order_by(id_column).limit(size)).all()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _write(outcome, key, statement, dry_run):
    if dry_run:
        outcome.counts[key] += 1
        return
    written = db.session.execute(statement.execution_options(synchronize_session=False)).rowcount
    outcome.counts[key] += written
    outcome.changed_meanwhile += 1 - written


def _cases(outcome, dry_run, size):
    select = sa.select(Case.id, Case.version, Case.current_unit_id, Case.masked_kinds, *CASE_FIELDS)
    for rows in _batches(select, Case.id, size):
        units = set()
        for case_id, version, unit_id, masked_kinds, *texts in rows:
            results = [mask(text or "") for text in texts]
            kinds = set().union(*(result.kinds for result in results))
            if not kinds:
                continue
            values = {column.key: result.text for column, result in zip(CASE_FIELDS, results, strict=True)}
            # The case shows its "sensitive data removed" flag from now on.
            if values["contact_name"]:
                values["customer_sort"] = sort_key(values["contact_name"])
            values["masked_kinds"] = ",".join(sorted(kinds | set(filter(None, masked_kinds.split(",")))))
            _write(outcome, "cases", sa.update(Case).where(Case.id == case_id, Case.version == version)
                   .values(**values, version=version + 1), dry_run)
            units.add(unit_id)
        if units and not dry_run:
            stamps.touch(db.session.connection(), units)
        db.session.commit()


def _texts(model, key, outcome, dry_run, size):
    for rows in _batches(sa.select(model.id, model.text), model.id, size):
        for row_id, text in rows:
            masked = mask(text or "")
            if masked.changed:
                _write(outcome, key, sa.update(model).where(model.id == row_id, model.text == text)
                       .values(text=masked.text), dry_run)
        db.session.commit()


# Sent, or being handed to the mail server now: what the customer gets is already decided.
_GONE = (OutboxStatus.SENT, OutboxStatus.SENDING)


def _emails(outcome, dry_run, size):
    from .replies.channels.email import email_content

    select = (sa.select(OutboxMessage.id, OutboxMessage.answer_id, OutboxMessage.body_text,
                        OutboxMessage.body_html)
              .where(OutboxMessage.status.not_in(_GONE)))
    for rows in _batches(select, OutboxMessage.id, size):
        for message_id, answer_id, body_text, body_html in rows:
            if not (mask(body_text).changed or mask(body_html).changed):
                continue
            answer = db.session.get(Answer, answer_id) if answer_id else None
            if answer is not None:
                # The HTML breaks lines with tags: render it again from the masked answer.
                case = db.session.get(Case, answer.case_id)
                _subject, text, html = email_content(case, answer.purpose, mask(answer.text).text)
            else:
                text, html = mask(body_text).text, mask(body_html).text
            if (text, html) != (body_text, body_html):
                _write(outcome, "emails", sa.update(OutboxMessage).where(
                    OutboxMessage.id == message_id, OutboxMessage.status.not_in(_GONE),
                    OutboxMessage.body_text == body_text,
                ).values(body_text=text, body_html=html), dry_run)
        db.session.commit()


def _pdf_text(pdf):
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


def _letters(outcome, dry_run):
    """Letters waiting to be posted whose PDF shows a number are rendered again from the
    masked answer and contact details. (A letter without a PDF is rendered on download.)"""
    from .replies.channels.letter import letter_pdf

    select = (sa.select(Letter.id, Letter.version, Letter.case_id, Letter.unit_id,
                        Letter.answer_id, Letter.created_at)
              .where(Letter.posted_at.is_(None), sa.func.length(Letter.pdf) > 0))
    for rows in _batches(select, Letter.id, LETTER_BATCH):
        for letter_id, version, case_id, unit_id, answer_id, created_at in rows:
            pdf = db.session.scalar(sa.select(Letter.pdf).where(Letter.id == letter_id))
            shown = _pdf_text(pdf)
            if not mask(shown).changed:
                continue
            case = db.session.get(Case, case_id)
            fields = {column.key: mask(getattr(case, column.key) or "").text for column in CASE_FIELDS}
            for name, value in fields.items():  # already so in the database, unless a dry run
                set_committed_value(case, name, value)
            answer = db.session.get(Answer, answer_id)
            fresh = letter_pdf(case, db.session.get(Unit, unit_id), answer.purpose,
                               mask(answer.text).text,
                               local_date(created_at, clock.timezone()))
            # Only when the masked sources make a different letter: else this was no number.
            if _pdf_text(fresh) != shown:
                _write(outcome, "letters", sa.update(Letter).where(
                    Letter.id == letter_id, Letter.version == version, Letter.posted_at.is_(None),
                ).values(pdf=fresh, version=version + 1), dry_run)
        db.session.commit()
