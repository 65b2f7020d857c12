"""Words in the reader's language: the outbox's kinds, the audit log's events (new rows from
their facts, old rows as stored), and short words that mean two things told apart by context."""

import re
from datetime import date

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, pgettext

from feedback_intranet import audit
from feedback_intranet.admin.audit_texts import describe, username
from feedback_intranet.extensions import db
from feedback_intranet.models import (
    AuditEvent,
    AuditKind,
    CallbackStatus,
    CaseStatus,
    EventKind,
    Language,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    Purpose,
    Resolution,
    User,
)


@pytest.fixture
def admin(make_user, units):
    return make_user("admin", is_admin=True)


def speaks(user, language):
    db.session.get(User, user.id).language = Language(language)
    db.session.commit()


def cells(page):
    return [re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", page, re.S)]


@pytest.mark.parametrize(("language", "button", "tab"),
                         [("fi", "Avaa", "Avoimet"), ("sv", "Öppna", "Öppna"),
                          ("en", "Open", "Open")])
def test_the_admins_button_to_open_another_units_inbox_reads_as_a_verb(
        client, login, admin, language, button, tab):
    speaks(admin, language)
    login("admin")
    page = client.get("/inbox/helsinki-centre").get_data(as_text=True)
    jump = page[page.index('id="jump-form"'):]
    jump = jump[:jump.index("</form>")]
    assert f'<button type="submit">{button}</button>' in jump
    # The list of the unit's open cases keeps its own word.
    assert re.search(rf">\s*{tab}\b", page[page.index("</form>"):])


def test_every_answer_purpose_is_a_kind_of_email():
    assert {purpose.value for purpose in Purpose} <= {kind.value for kind in OutboxKind}


@pytest.mark.parametrize(("language", "expected"), [
    ("fi", ["Vastaus asiakkaalle", "Väliilmoitus asiakkaalle",
            "Vastaanottokuittaus asiakkaalle", "Puhelinvastauksen kirjallinen vahvistus",
            "Ilmoitus henkilöstölle", "Aamukooste henkilökunnalle"]),
    ("sv", ["Svar till en kund", "Mellanbesked till en kund", "Mottagningsbekräftelse till en kund",
            "Skriftlig bekräftelse av ett telefonsvar", "Avisering till personalen",
            "Morgonsammandrag till personalen"]),
    ("en", ["Answer to a customer", "Interim notice to a customer",
            "Confirmation of receipt to a customer", "Written confirmation of a phone answer",
            "Notification to staff", "Morning summary to staff"]),
])
def test_the_outbox_page_names_each_kind_in_the_readers_language(client, login, admin, clock,
                                                                  language, expected):
    for n, kind in enumerate(reversed(OutboxKind)):
        db.session.add(OutboxMessage(kind=kind, recipient="a@example.fi", subject=f"s{n}",
                                     sender="feedback@bank.example", body_text="b",
                                     message_id=f"<{n}@bank.example>", next_attempt_at=clock(),
                                     created_at=clock(),
                                     status=OutboxStatus.QUEUED if n else OutboxStatus.CANCELLED))
    db.session.commit()
    speaks(admin, language)
    login("admin")
    page = client.get("/admin/outbox").get_data(as_text=True)
    shown = cells(page)
    assert [shown[i] for i in range(1, len(shown), 7)] == expected
    for raw in ("interim_notice", "notification", ">confirmation<", "written_confirmation",
                ">answer<"):
        assert raw not in page
    cancelled = {"fi": "Peruttu", "sv": "Stoppat", "en": "Cancelled"}[language]
    assert shown[-3] == cancelled


def record_one_of_each(case_reference=""):
    """New rows of every kind that has something to say, with the facts their writers give."""
    rows = [
        (AuditKind.LOGIN_FAILED, {"reason": "locked"}),
        (AuditKind.LOCKED, {"failures": 5, "minutes": 15}),
        (AuditKind.PASSWORD_CHANGED, {"set_by": "admin"}),
        (AuditKind.REFUSED, {"status": 403, "method": "GET", "path": "/admin/audit",
                             "unrecorded": 3}),
        (AuditKind.EXPORT, {"export": "inbox", "unit": "turku", "filter": "overdue"}),
        (AuditKind.EXPORT, {"export": "report", "report": "promise", "table": "promise-by-unit",
                            "start": "2026-11-01", "end": "2026-11-30"}),
        (AuditKind.LETTER_DOWNLOAD, {"waiting_letters": 2, "unit": "turku"}),
        (AuditKind.ADMIN_CHANGE, {"change": "closing_day_added", "day": "2026-12-31"}),
        (AuditKind.ADMIN_CHANGE, {"change": "saved", "record": "unit", "id": 4,
                                  "path": "/admin/units/4"}),
        (AuditKind.RETENTION, {"dry_run": False, "months": 36, "cases": 2,
                               "rows": {"answers": 1, "events": 5, "calls": 0}}),
        (AuditKind.DATA_REQUEST, {"found_by": "email", "cases": 1}),
    ]
    for kind, facts in rows:
        audit.record(kind, username="admin", **facts)
    db.session.commit()
    return db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()


SAID = {
    "fi": ["Tunnus on lukittu.",
           "Lukittu 15 minuutiksi 5 peräkkäisen epäonnistuneen kirjautumisen jälkeen.",
           "Asettanut admin.",
           "GET /admin/audit: ei käyttöoikeutta (403). Tästä osoitteesta on edellisen rivin "
           "jälkeen torjuttu vielä 3 pyyntöä.",
           "Yksikön turku saapuneet, lista ”Myöhässä”.",
           "Raportti ”Lupauksen pito”, taulukko promise-by-unit, 1.11.–30.11.2026.",
           "2 yksikön turku odottavaa kirjettä.",
           "31.12.2026 lisätty suljetuksi päiväksi.",
           "Tallennettu yksikkö 4.",
           "2 yli 36 kuukautta sitten suljettua asiaa anonymisoitiin (1 vastaus, 5 tapahtumaa).",
           "Haettu sähköpostiosoitteella: 1 asia."],
    "sv": ["Kontot är låst.",
           "Låst i 15 minuter efter 5 misslyckade inloggningar i rad.",
           "Satt av admin.",
           "GET /admin/audit: ingen behörighet (403). Ytterligare 3 begäranden från den här "
           "adressen har nekats sedan föregående rad.",
           "Inkorgen för turku, listan ”Försenade”.",
           "Rapport ”Löftet hållet”, tabell promise-by-unit, 1.11.–30.11.2026.",
           "2 väntande brev från turku.",
           "31.12.2026 tillagd som stängd dag.",
           "Enhet 4 sparad.",
           "2 ärenden som avslutades för mer än 36 månader sedan anonymiserades (1 svar, "
           "5 händelser).",
           "Sökt med e-postadress: 1 ärende."],
    "en": ["The account is locked.",
           "Locked for 15 minutes after 5 failed logins in a row.",
           "Set by admin.",
           "GET /admin/audit: no access (403). 3 more were refused from this address since its "
           "previous row.",
           "Inbox turku, list “Overdue”.",
           "Report “Promise kept”, table promise-by-unit, 1.11.–30.11.2026.",
           "2 waiting letters of turku.",
           "Added 31.12.2026 as a closing day.",
           "Saved unit 4.",
           "2 cases closed more than 36 months ago were anonymised (1 answer, 5 timeline events).",
           "Found by email address: 1 case."],
}


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_each_audit_event_is_written_from_its_facts_in_the_readers_language(data, language):
    events = record_one_of_each()
    with force_locale(language):
        assert [describe(event) for event in events] == SAID[language]


def old_row(clock):
    """A row written before the facts: it keeps its English detail for good."""
    db.session.add(AuditEvent(at=clock(), kind=AuditKind.ADMIN_CHANGE, username="admin",
                              detail="/admin/closing-days closing day 2026-12-24"))
    db.session.commit()


@pytest.mark.parametrize(("language", "header", "event", "sentence"), [
    ("fi", "Aika;Tapahtuma;Käyttäjä", "Ylläpitomuutos", "31.12.2026 lisätty suljetuksi päiväksi."),
    ("sv", "Tid;Händelse;Användare", "Administrativ ändring", "31.12.2026 tillagd som stängd dag."),
])
def test_the_audit_page_and_its_csv_speak_the_readers_language_and_keep_old_rows_as_stored(
        client, login, admin, clock, language, header, event, sentence):
    old_row(clock)
    speaks(admin, language)
    login("admin")
    assert client.post("/admin/closing-days", data={"day": "31.12.2026", "reason": "Uusi vuosi",
                                                    "confirmed": "yes"}).status_code == 302
    page = client.get("/admin/audit?kind=admin_change").get_data(as_text=True)
    assert f"<td>{sentence}</td>" in page
    assert "<td>/admin/closing-days closing day 2026-12-24</td>" in page
    with force_locale(language):
        assert str(AuditKind.ADMIN_CHANGE.title) == event
    lines = client.get("/admin/audit.csv?kind=admin_change").data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith(header)
    assert lines[1].startswith(f"{lines[1][:19]};{event};admin;") and lines[1].endswith(sentence)
    assert lines[2].endswith(";/admin/closing-days closing day 2026-12-24")


def test_the_command_line_is_named_in_the_readers_language(data):
    row = AuditEvent(kind=AuditKind.ADMIN_CHANGE, username=audit.COMMAND_LINE,
                     facts={"change": "user_created", "id": 7})
    with force_locale("fi"):
        assert (username(row), describe(row)) == ("(komentorivi)",
                                                  "Käyttäjä 7 luotu komentoriviltä.")


def test_a_masking_run_that_found_nothing_says_so(data):
    row = AuditEvent(kind=AuditKind.ADMIN_CHANGE, facts={
        "change": "masking_reapply", "dry_run": False, "changed_meanwhile": 0,
        "counts": {"cases": 0, "events": 0}})
    with force_locale("sv"):
        assert describe(row) == "Maskeringen körd på nytt: inget att maskera."


@pytest.mark.parametrize(("title", "fi", "sv"), [
    # The status of one case, the resolution it closed with, the timeline heading, and the
    # inbox's list of answered cases.
    (CaseStatus.ANSWERED.title, "Vastattu", "Besvarat"),
    (Resolution.ANSWERED.title, "Vastattu", "Besvarat"),
    (EventKind.REPLIED.title, "Vastattu", "Besvarat"),
    (CaseStatus.ASSIGNED.title, "Käsittelyssä", "Under handläggning"),
    (EventKind.ASSIGNED.title, "Annettu käsittelijälle", "Tilldelat handläggare"),
    (EventKind.DUPLICATE.title, "Merkitty kaksoiskappaleeksi", "Markerat som dubblett"),
    (Resolution.DUPLICATE.title, "Kaksoiskappale", "Dubblett"),
    (OutboxStatus.CANCELLED.title, "Peruttu", "Stoppat"),
    (CallbackStatus.CANCELLED.title, "Peruttu", "Inställt"),
])
def test_one_english_word_with_two_meanings_is_translated_by_its_meaning(data, title, fi, sv):
    for language, expected in (("fi", fi), ("sv", sv)):
        with force_locale(language):
            assert str(title) == expected


@pytest.mark.parametrize(("context", "word", "fi", "sv"), [
    ("verb", "Open", "Avaa", "Öppna"),
    ("cases", "Open", "Avoimet", "Öppna"),
    ("cases", "Answered", "Vastatut", "Besvarade"),
    ("cases", "Received", "Saapuneet", "Inkomna"),
    ("date range", "From", "Alkaen", "Från"),
    ("date range", "To", "Päättyen", "Till"),
    ("forwarding", "From", "Mistä", "Från"),
    ("forwarding", "To", "Mihin", "Till"),
    ("recipient", "To", "Vastaanottaja", "Mottagare"),
    ("contact", "Phone", "Puhelinnumero", "Telefonnummer"),
    ("contact", "Email", "Sähköpostiosoite", "E-postadress"),
])
def test_each_context_has_its_own_translation(data, context, word, fi, sv):
    for language, expected in (("fi", fi), ("sv", sv)):
        with force_locale(language):
            assert pgettext(context, word) == expected


def test_the_audit_filter_asks_for_a_date_range_in_finnish(client, login, admin):
    speaks(admin, "fi")
    login("admin")
    page = client.get("/admin/audit").get_data(as_text=True)
    assert re.search(r"<label[^>]*>\s*Alkaen", page) and re.search(r"<label[^>]*>\s*Päättyen", page)
    assert "Mistä" not in page


def test_the_report_day_range_is_the_readers_own(data):
    """The export row's period comes from its facts, in the reader's date format."""
    row = AuditEvent(kind=AuditKind.EXPORT, facts={"export": "report", "report": "volumes",
                                                  "table": "volume-by-week",
                                                  "start": date(2026, 12, 1).isoformat(),
                                                  "end": date(2026, 12, 31).isoformat()})
    with force_locale("fi"):
        assert describe(row) == "Raportti ”Määrät”, taulukko volume-by-week, 1.12.–31.12.2026."
