"""The timeline speaks the reader's language: events keep facts, sentences are written on reading;
the migration reads the English sentences stored before into facts."""

import importlib.util
from datetime import datetime
from pathlib import Path

import pytest

from feedback_intranet.models import CaseEvent, EventKind, Unit, User

from .conftest import HELSINKI, said

MIGRATION = Path(__file__).resolve().parent.parent / "migrations" / "versions" / \
    "0028_timeline_facts.py"


def migration():
    spec = importlib.util.spec_from_file_location("timeline_facts", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def event(kind, facts=None, text="", actor="Aino Virtanen", from_unit=None, to_unit=None):
    return CaseEvent(kind=EventKind(kind), facts=facts if facts is not None else {}, text=text,
                     actor=User(full_name=actor) if actor else None, from_unit=from_unit,
                     to_unit=to_unit, at=datetime(2026, 11, 30, 9, tzinfo=HELSINKI))


CS = Unit(code="cs", name="Customer service", name_fi="Asiakaspalvelu", name_sv="Kundservice")
TURKU = Unit(code="turku", name="Turku", name_fi="Turku", name_sv="Åbo")
WINDOW = ["2026-12-01T09:00:00+02:00", "2026-12-01T12:00:00+02:00"]

# (event, English, Finnish, Swedish)
SENTENCES = [
    (event("forwarded", from_unit=CS, to_unit=TURKU),
     "Aino Virtanen forwarded the case from Customer service to Turku.",
     "Aino Virtanen siirsi asian eteenpäin: Asiakaspalvelu → Turku.",
     "Aino Virtanen skickade ärendet vidare från Kundservice till Åbo."),
    (event("routed", {"rule": "Kortit suoraan"}, actor=None, from_unit=CS, to_unit=TURKU),
     "Routed from Customer service to Turku by the rule “Kortit suoraan”.",
     "Ohjattiin säännön ”Kortit suoraan” mukaan: Asiakaspalvelu → Turku.",
     "Styrdes enligt regeln ”Kortit suoraan” från Kundservice till Åbo."),
    (event("assigned", {"taken": True, "holder": "Aino Virtanen"}),
     "Aino Virtanen took the case.", "Aino Virtanen otti asian käsittelyyn.",
     "Aino Virtanen tog ärendet."),
    (event("assigned", {"holder": "Eero Laine", "previous": "Aino Virtanen"},
           actor="Maria Heikkinen"),
     "Maria Heikkinen assigned the case to Eero Laine (it was with Aino Virtanen).",
     "Maria Heikkinen antoi asian käsittelijälle Eero Laine (aiemmin Aino Virtanen).",
     "Maria Heikkinen gav ärendet till Eero Laine (det låg tidigare hos Aino Virtanen)."),
    (event("unassigned", {"previous": "Eero Laine"}),
     "Aino Virtanen returned the case to the inbox; Eero Laine held it.",
     "Aino Virtanen palautti asian saapuneisiin (käsittelijä oli Eero Laine).",
     "Aino Virtanen lämnade tillbaka ärendet till inkorgen (det låg hos Eero Laine)."),
    (event("interim_notice", {"estimate": "2026-12-11", "previous": "2026-12-04",
                              "sent": {"channel": "email", "to": "aino@example.fi"}}),
     "Aino Virtanen moved the estimated decision date from 4.12.2026 to 11.12.2026. It goes by "
     "email to aino@example.fi.",
     "Aino Virtanen siirsi arvioitua päätöspäivää: 4.12.2026 → 11.12.2026. Se lähtee "
     "sähköpostilla osoitteeseen aino@example.fi.",
     "Aino Virtanen flyttade det beräknade beslutsdatumet från 4.12.2026 till 11.12.2026. Det "
     "skickas per e-post till aino@example.fi."),
    (event("replied", {"channel": "phone", "sent": {"channel": "phone", "to": "+358401234567",
                                                    "start": WINDOW[0], "end": WINDOW[1]},
                       "close_when_delivered": True}),
     "Aino Virtanen answered by phone. A callback to +358401234567 is planned for 1.12.2026 "
     "09–12. The case closes when the answer is delivered.",
     "Aino Virtanen vastasi puhelimitse. Soitto numeroon +358401234567 on suunniteltu ajalle "
     "1.12.2026 09–12. Asia suljetaan, kun vastaus on mennyt perille.",
     "Aino Virtanen svarade per telefon. Ett samtal till +358401234567 är planerat till 1.12.2026 "
     "09–12. Ärendet stängs när svaret har nått kunden."),
    (event("closed", {"resolution": "no_answer_wanted"}),
     "Aino Virtanen closed the case: No answer wanted.",
     "Aino Virtanen sulki asian: Vastausta ei haluttu.",
     "Aino Virtanen stängde ärendet: Inget svar önskas."),
    (event("delivered", {"purpose": "answer", "channel": "letter", "posted_on": "2026-11-27",
                         "not_closed": "waiting"}),
     "The answer was posted as a letter on 27.11.2026. The case was not closed: something "
     "addressed to the customer still waits.",
     "Vastaus postitettiin kirjeenä 27.11.2026. Asiaa ei suljettu: jotain asiakkaalle "
     "osoitettua odottaa vielä lähtöä.",
     "Svaret postades som brev den 27.11.2026. Ärendet stängdes inte: något som ska till kunden "
     "väntar fortfarande."),
    (event("delivery_failed", {"purpose": "answer", "channel": "phone", "problem": "not_reached",
                               "attempts": 3}, actor=None),
     "The answer did not reach the customer. 3 calls did not reach the customer: answer by "
     "letter or email instead.",
     "Vastaus ei mennyt perille asiakkaalle. 3 soittoa ei tavoittanut asiakasta: vastaa sen "
     "sijaan kirjeellä tai sähköpostilla.",
     "Svaret nådde inte kunden. 3 samtal nådde inte kunden: svara i stället per brev eller "
     "e-post."),
    (event("callback", {"attempt": 2, "phone": "+358401234567", "outcome": "busy",
                        "next": WINDOW}),
     "Aino Virtanen called +358401234567 (call 2): busy. Next attempt 1.12.2026 09–12.",
     "Aino Virtanen soitti numeroon +358401234567 (2. soitto): varattu. Seuraava yritys "
     "1.12.2026 09–12.",
     "Aino Virtanen ringde +358401234567 (samtal 2): upptaget. Nästa försök 1.12.2026 09–12."),
    (event("corrected", {"changes": [
        ["topic_id", {"en": "Cards", "fi": "Kortit", "sv": "Kort"},
         {"en": "Loans", "fi": "Lainat", "sv": "Lån"}],
        ["case_type", "feedback", "complaint"], ["contact_phone", None, "+358401234567"]]}),
     "Aino Virtanen corrected the case: Topic: Cards → Loans; Type: Other feedback → Complaint; "
     "Phone: — → +358401234567",
     "Aino Virtanen korjasi asian tietoja: Aihe: Kortit → Lainat; Tyyppi: Muu palaute → "
     "Reklamaatio; Puhelinnumero: — → +358401234567",
     "Aino Virtanen rättade ärendets uppgifter: Ämne: Kort → Lån; Typ: Annan respons → "
     "Reklamation; Telefonnummer: — → +358401234567"),
    (event("reply_cancelled", {"purpose": "interim_notice", "channel": "letter",
                               "due_date_holds": "2026-12-02"}),
     "Aino Virtanen cancelled the interim notice letter before it was posted. The due date "
     "2.12.2026 holds again.",
     "Aino Virtanen perui väliilmoituskirjeen ennen sen postittamista. Luvattu vastauspäivä "
     "2.12.2026 on taas voimassa.",
     "Aino Virtanen avbröt mellanbeskedet per brev innan det postades. Den utlovade svarsdagen "
     "2.12.2026 gäller igen."),
    (event("banking_matter", {"own_banking": True}),
     "Aino Virtanen marked the case as concerning the customer's own banking matters: answers "
     "by phone or letter only.",
     "Aino Virtanen merkitsi asian koskemaan asiakkaan omia pankkiasioita: vastaus vain "
     "puhelimitse tai kirjeellä.",
     "Aino Virtanen markerade att ärendet gäller kundens egna bankärenden: svar endast per "
     "telefon eller brev."),
]


@pytest.mark.parametrize(("stored", "english", "finnish", "swedish"), SENTENCES,
                         ids=[row[0].kind.value + str(i) for i, row in enumerate(SENTENCES)])
def test_each_event_reads_naturally_in_the_readers_language(data, stored, english, finnish,
                                                            swedish):
    assert said(stored, "en") == english
    assert said(stored, "fi") == finnish
    assert said(stored, "sv") == swedish


def test_every_kind_of_event_has_its_sentence(data):
    from feedback_intranet.cases.timeline import _SENTENCES

    assert set(_SENTENCES) == set(EventKind)


def test_an_event_without_facts_reads_as_its_actor_and_keeps_its_text(data):
    old = event("assigned", facts=None, text="Something the migration could not read.")
    old.facts = None
    assert said(old, "fi") == "Aino Virtanen"
    assert said(event("note", text="Soitin."), "sv") == "Aino Virtanen"


# The migration reads the English sentences stored until now.

@pytest.mark.parametrize(("kind", "stored", "facts", "text"), [
    ("received", "Received through the feedback form.", {}, ""),
    ("received", "Registered by Aino Virtanen (Phone).", {}, ""),
    ("routed", "Routed by rule “Card complaints to Cards”.",
     {"rule": "Card complaints to Cards"}, ""),
    ("assigned", "Taken by Aino Virtanen.", {"taken": True, "holder": "Aino Virtanen"}, ""),
    ("assigned", "Taken by Aino Virtanen from Eero Laine.",
     {"taken": True, "holder": "Aino Virtanen", "previous": "Eero Laine"}, ""),
    ("assigned", "Assigned to Eero Laine, was Aino Virtanen.",
     {"holder": "Eero Laine", "previous": "Aino Virtanen"}, ""),
    ("assigned", "", {"taken": True}, ""),
    ("unassigned", "Returned to the inbox by Maria Heikkinen, was held by Eero Laine.",
     {"previous": "Eero Laine"}, ""),
    ("unassigned", "Returned to the inbox: Eero Laine was deactivated.",
     {"deactivated": "Eero Laine"}, ""),
    ("note", "Soitin konttoriin.", {}, "Soitin konttoriin."),
    ("forwarded", "Selvittäkää.", {}, "Selvittäkää."),
    ("interim_notice", "Estimated decision date 11.12.2026, was 4.12.2026. Notice queued by "
     "email to aino@example.fi.\n\nHei Aino,\n\nVastaamme 11.12.2026.",
     {"estimate": "2026-12-11", "previous": "2026-12-04",
      "sent": {"channel": "email", "to": "aino@example.fi"}}, "Hei Aino,\n\nVastaamme 11.12.2026."),
    ("interim_notice", "Estimated decision date 2026-12-01.", {"estimate": "2026-12-01"}, ""),
    ("replied", "Answer by phone call: callback to +358401234567 planned for 1.12.2026 09–12. The "
     "customer asked for email; Soitto pyydetty. The case closes when the answer is delivered."
     "\n\nHei,\n\nVastaus.",
     {"channel": "phone", "sent": {"channel": "phone", "to": "+358401234567",
                                   "window": "1.12.2026 09–12"},
      "asked_for": "email", "reason": "Soitto pyydetty.", "close_when_delivered": True},
     "Hei,\n\nVastaus."),
    ("replied", "Answer by letter: letter waiting in the print queue.\n\nHei,\n\nKirje.",
     {"channel": "letter", "sent": {"channel": "letter"}}, "Hei,\n\nKirje."),
    ("closed", "Closed: Answered.", {"resolution": "answered"}, ""),
    ("closed", "Closed: Other.\n\nAsiakas peruutti.", {"resolution": "other"}, "Asiakas peruutti."),
    ("closed", "Closed: Duplicate.\n\nDuplicate of FB-2026-000001.",
     {"resolution": "duplicate", "duplicate_of": "FB-2026-000001"}, ""),
    ("closed", "Closed: Answered.\n\nClosed on delivery, as Aino Virtanen asked when sending the "
     "answer.", {"resolution": "answered", "on_delivery_for": "Aino Virtanen"}, ""),
    ("reopened", "Reopened: the answer the case closed on did not reach the customer.",
     {"delivery_failed": True}, ""),
    ("reopened", "Asiakas soitti uudelleen.", {}, "Asiakas soitti uudelleen."),
    ("customer_matched", "Customer set to Matti Meikäläinen (C0000002), was Aino Virtanen "
     "(C0000001).", {"customer": "Matti Meikäläinen", "number": "C0000002",
                     "previous": "Aino Virtanen", "previous_number": "C0000001"}, ""),
    ("corrected", "email: aino@example.fi → aino.a@example.fi\ntopic: Cards → Loans\nphone: — → "
     "+358401234567", {"changes": [["contact_email", "aino@example.fi", "aino.a@example.fi"],
                                   ["topic_id", {"en": "Cards"}, {"en": "Loans"}],
                                   ["contact_phone", None, "+358401234567"]]}, ""),
    ("duplicate", "FB-2026-000002 was closed as a duplicate of this case.",
     {"duplicate": "FB-2026-000002"}, ""),
    ("delivered", "Answer delivered.", {"purpose": "answer"}, ""),
    ("delivered", "Interim notice was posted as a letter on 27.11.2026.",
     {"purpose": "interim_notice", "channel": "letter", "posted_on": "2026-11-27"}, ""),
    ("delivered", "Answer was handed to the mail server. Not closed: Interim notice by letter, "
     "not yet marked posted. Cancel it first, or close the case once it has gone out.",
     {"purpose": "answer", "channel": "email", "not_closed": "waiting"}, ""),
    ("delivered", "Answer reached the customer by phone. Not closed again: the case was already "
     "closed.", {"purpose": "answer", "channel": "phone", "not_closed": "already_closed"}, ""),
    ("delivery_failed", "Answer: Phone call could not be delivered: 3 calls did not reach the "
     "customer; answer by letter or email instead",
     {"purpose": "answer", "channel": "phone", "problem": "not_reached", "attempts": 3}, ""),
    ("delivery_failed", "Answer: Email could not be delivered: 550 5.1.1 Mailbox does not exist",
     {"purpose": "answer", "channel": "email",
      "detail": "550 5.1.1 Mailbox does not exist"}, ""),
    ("delivery_failed", "Confirmation email could not be delivered: 550 no such user",
     {"purpose": "confirmation", "detail": "550 no such user"}, ""),
    ("callback", "Call 2 to +358401234567: busy. Next attempt 1.12.2026 09–12.",
     {"attempt": 2, "phone": "+358401234567", "outcome": "busy", "next": "1.12.2026 09–12"}, ""),
    ("callback", "Call 1 to +358401234567: reached.\n\nKerroin päätöksen.",
     {"attempt": 1, "phone": "+358401234567", "outcome": "reached"}, "Kerroin päätöksen."),
    ("callback", "Callback moved from 25.11.2026 10–11 to 26.11.2026 09–12.",
     {"moved_from": "25.11.2026 10–11", "moved_to": "26.11.2026 09–12"}, ""),
    ("banking_matter", "No longer marked as concerning the customer's own banking matters.",
     {"own_banking": False}, ""),
    ("reply_cancelled", "Interim notice by email cancelled by Aino Virtanen before it went out. "
     "The estimated decision date 4.12.2026 holds again.",
     {"purpose": "interim_notice", "channel": "email", "estimate_holds": "2026-12-04"}, ""),
])
def test_the_migration_reads_each_stored_sentence(kind, stored, facts, text):
    assert migration().read_event(kind, stored) == (facts, text)


@pytest.mark.parametrize(("kind", "stored"), [
    ("assigned", "Handed over in the old system."),
    ("closed", "Closed: Resolved somehow."),
    ("callback", "Call to the customer."),
    ("delivered", "Answer sent by fax."),
])
def test_what_the_migration_cannot_read_keeps_its_text(kind, stored):
    assert migration().read_event(kind, stored) == (None, stored)


def test_a_migrated_event_reads_in_finnish(data):
    facts, text = migration().read_event(
        "replied", "Answer by phone call: callback to +358401234567 planned for 1.12.2026 09–12."
        "\n\nHei,\n\nVastaus.")
    assert said(event("replied", facts, text), "fi") == (
        "Aino Virtanen vastasi puhelimitse. Soitto numeroon +358401234567 on suunniteltu ajalle "
        "1.12.2026 09–12.")
