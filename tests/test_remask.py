"""After an upgrade, `masking reapply` masks what was stored before the detector knew better:
cases, the timeline, answers, unsent emails, waiting letters and the search index."""

from datetime import datetime
from io import BytesIO

import pytest
import sqlalchemy as sa
from pypdf import PdfReader
from sqlalchemy.orm import Session

from feedback_intranet import remasking
from feedback_intranet.extensions import db
from feedback_intranet.models import (
    Answer,
    AuditEvent,
    Case,
    CaseEvent,
    EventKind,
    InboxStamp,
    Letter,
    OutboxMessage,
    OutboxStatus,
    Purpose,
    ReplyChannel,
)
from feedback_intranet.replies.channels.email import email_content
from feedback_intranet.replies.channels.letter import letter_pdf

from .conftest import HELSINKI

NOW = datetime(2026, 11, 25, 10, tzinfo=HELSINKI)
CARD = "4111 1111\n1111 1111"                    # split across a line
IBAN = "tilinumeroFI2112345600000785kiitos"       # glued to words
IBAN_DOTS = "FI21.1234.5600.0007.85"
HETU = "131052 308T"                              # a space for the century sign
SECRETS = ["4111 1111", "41111111", "12345600000", "1234.5600", "131052", "308T"]


def flat(text):
    return text.replace("\n", " ").replace("  ", " ")


def assert_clean(text):
    for secret in SECRETS:
        assert secret not in text and secret not in flat(text)


def pdf_text(pdf):
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


@pytest.fixture
def stored(units, make_user, make_case, data, clock):
    """Rows as an older release stored them: numbers its detector did not know, unmasked."""
    clock.set(NOW)
    staff = make_user("cs.agent", units=[units["cs"]])
    make_user("turku.staff", units=[units["turku"]])
    dirty = db.session.merge(make_case(units["cs"], contact_name=f"Aino {HETU}",
                                       message=f"Maksoin kortilla {CARD}. {IBAN}"))
    clean = make_case(units["turku"], message="Soita 040 123 4567, viite 12345 67891 23459.")
    dirty.contact_street, dirty.contact_postal_code, dirty.contact_city = "Katu 1", "00100", "Helsinki"

    def answer(channel, purpose, text):
        row = Answer(case_id=dirty.id, purpose=purpose, channel=channel, text=text, created_at=NOW,
                     created_by_id=staff.id)
        db.session.add(row)
        db.session.flush()
        return row

    by_letter = answer(ReplyChannel.LETTER, Purpose.ANSWER, f"Hei,\ntilisi {IBAN_DOTS} on avattu.")
    by_email = answer(ReplyChannel.EMAIL, Purpose.INTERIM_NOTICE, f"Hei,\nkortti {CARD} suljettiin.")
    sent = answer(ReplyChannel.EMAIL, Purpose.ANSWER, f"Kortti {CARD} on avattu.")

    def email(row, status):
        subject, text, html = email_content(dirty, row.purpose, row.text)
        db.session.add(OutboxMessage(
            kind=str(row.purpose), recipient="aino@example.fi", sender="feedback@bank.example",
            subject=subject, body_text=text, body_html=html, message_id=f"<{row.id}@bank.example>",
            status=status, next_attempt_at=NOW, created_at=NOW, case_id=dirty.id, answer_id=row.id))

    email(by_email, OutboxStatus.QUEUED)
    email(sent, OutboxStatus.SENT)
    for row, posted in ((by_letter, None), (sent, NOW)):
        db.session.add(Letter(case_id=dirty.id, answer_id=row.id, unit_id=units["cs"].id,
                              pdf=letter_pdf(dirty, units["cs"], row.purpose, row.text, NOW.date()),
                              created_at=NOW, posted_at=posted))
    db.session.add_all([
        CaseEvent(case_id=dirty.id, kind=EventKind.NOTE, text=f"Asiakas luki kortin: {CARD}", at=NOW),
        CaseEvent(case_id=clean.id, kind=EventKind.NOTE, text="Soitin 040 123 4567 klo 8.30.", at=NOW),
    ])
    db.session.commit()
    return dirty, clean


def run(app, *args):
    result = app.test_cli_runner().invoke(args=["masking", "reapply", *args])
    assert result.exit_code == 0, result.output
    return result.output


def stamp(unit):
    return db.session.scalar(sa.select(InboxStamp.stamp).where(InboxStamp.unit_id == unit.id))


def searches(client, login, query):
    login("cs.agent")
    return client.get(f"/cases/search?q={query}").get_data(as_text=True)


def test_a_dry_run_counts_and_changes_nothing(app, stored):
    dirty, _clean = stored
    version = dirty.version
    output = run(app, "--dry-run")
    assert output == ("Would mask numbers in 1 case, 1 timeline entry, 3 answers, 1 unsent email and "
                      "1 waiting letter.\n")
    db.session.expire_all()
    case = db.session.get(Case, dirty.id)
    assert CARD in case.message and case.version == version and case.masked_kinds == ""
    (event,) = db.session.scalars(sa.select(AuditEvent))
    assert (event.kind, event.username) == ("admin_change", "(command line)")
    assert event.facts == {"change": "masking_reapply", "dry_run": True, "changed_meanwhile": 0,
                           "counts": {"cases": 1, "events": 1, "answers": 3, "emails": 1,
                                      "letters": 1}}


def test_stored_numbers_are_masked_everywhere_they_were_kept(app, client, login, stored, units):
    dirty, clean = stored
    assert dirty.reference in searches(client, login, "4111")
    stamps_before = stamp(units["cs"]), stamp(units["turku"])
    versions = dirty.version, clean.version
    output = run(app)
    assert output == ("Masked numbers in 1 case, 1 timeline entry, 3 answers, 1 unsent email and "
                      "1 waiting letter.\n")
    db.session.expire_all()
    case = db.session.get(Case, dirty.id)
    assert case.contact_name == "Aino [identity code removed]"
    assert case.message == ("Maksoin kortilla [card number …1111 removed]. "
                            "tilinumero[account number …0785 removed]kiitos")
    assert case.masked_kinds == "card_number,iban,identity_code"
    assert case.version == versions[0] + 1  # a page loaded before is told the case changed
    assert db.session.get(Case, clean.id).version == versions[1]
    # The case's inbox is computed again; another unit's cached inbox stays.
    assert stamp(units["cs"]) != stamps_before[0] and stamp(units["turku"]) == stamps_before[1]

    texts = db.session.scalars(sa.select(CaseEvent.text).order_by(CaseEvent.id)).all()
    assert "Asiakas luki kortin: [card number …1111 removed]" in texts
    assert "Soitin 040 123 4567 klo 8.30." in texts
    answers = db.session.scalars(sa.select(Answer.text).order_by(Answer.id)).all()
    assert answers == ["Hei,\ntilisi [account number …0785 removed] on avattu.",
                       "Hei,\nkortti [card number …1111 removed] suljettiin.",
                       "Kortti [card number …1111 removed] on avattu."]
    queued, sent = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert "kortti [card number …1111 removed] suljettiin." in queued.body_text
    assert "kortti [card number …1111 removed] suljettiin." in queued.body_html
    assert CARD in sent.body_text  # what was sent is the record of what the customer got
    waiting, posted = db.session.scalars(sa.select(Letter).order_by(Letter.id)).all()
    shown = pdf_text(waiting.pdf)
    assert "[account number …0785 removed]" in shown and "Aino [identity code removed]" in shown
    assert waiting.version == 2 and posted.version == 1

    everything = " ".join([*(getattr(case, c.key) for c in remasking.CASE_FIELDS), *texts, *answers,
                           queued.body_text, queued.body_html, shown])
    assert_clean(everything)
    assert dirty.reference not in searches(client, login, "4111")
    assert dirty.reference not in searches(client, login, "131052")
    assert dirty.reference in searches(client, login, "Maksoin kortilla")


def test_running_again_changes_nothing(app, stored):
    run(app)
    db.session.expire_all()
    version = db.session.get(Case, stored[0].id).version
    assert run(app) == ("Masked numbers in 0 cases, 0 timeline entries, 0 answers, 0 unsent emails "
                        "and 0 waiting letters.\n")
    db.session.expire_all()
    assert db.session.get(Case, stored[0].id).version == version
    assert len(db.session.scalars(sa.select(AuditEvent)).all()) == 2


def test_batches_of_one_row_give_the_same_outcome(stored):
    outcome = remasking.reapply(batch=1)
    assert outcome.counts == {"cases": 1, "events": 1, "answers": 3, "emails": 1, "letters": 1}
    assert remasking.reapply(batch=1).counts == dict.fromkeys(outcome.counts, 0)


def test_a_case_changed_while_it_ran_is_left_for_the_next_run(stored):
    """Someone saves the case between the command's read and its write: theirs stands."""
    dirty, _clean = stored
    table, done = Case.__table__, []

    def colleague_first(state):
        if state.is_update and state.statement.table.name == table.name and not done:
            done.append(True)
            state.session.connection().execute(
                table.update().where(table.c.id == dirty.id).values(version=table.c.version + 1))

    sa.event.listen(Session, "do_orm_execute", colleague_first)
    try:
        outcome = remasking.reapply()
    finally:
        sa.event.remove(Session, "do_orm_execute", colleague_first)
    assert outcome.counts["cases"] == 0 and outcome.changed_meanwhile == 1
    assert "1 changed by someone while this ran and were left for the next run" in outcome.summary()
    assert remasking.reapply().counts["cases"] == 1
