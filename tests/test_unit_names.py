"""Units are named in the reader's language: staff in their own, customers in theirs."""

from io import BytesIO

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from feedback_intranet.extensions import db
from feedback_intranet.models import (
    Language,
    Letter,
    OutboxMessage,
    UnitKind,
    UnitText,
    in_name_order,
)

from .test_case_pages import post_action
from .test_replies import NOW, answer, header


@pytest.fixture
def org(make_unit, make_user):
    units = {
        "cs": make_unit(code="cs", name="Customer service", kind=UnitKind.CUSTOMER_SERVICE),
        "turku": make_unit(code="turku", name="Turku"),
        "vaasa": make_unit(code="vaasa", name="Vaasa"),
        "cards": make_unit(code="cards", name="Cards", kind=UnitKind.CENTRAL_UNIT),
    }
    for code, fi, sv in (("cs", "Asiakaspalvelu", "Kundservice"), ("turku", "Turku", "Åbo"),
                         ("vaasa", "Vaasa", "Vasa"), ("cards", "Kortit", "")):
        units[code].name_fi, units[code].name_sv = fi, sv
    people = {"cs.agent": make_user("cs.agent", units=[units["cs"]]),
              "turku.staff": make_user("turku.staff", units=[units["turku"]]),
              "admin": make_user("admin", is_admin=True)}
    db.session.commit()
    return units, people


@pytest.fixture
def case(org, make_case, clock):
    from feedback_intranet.models import CaseStatus

    clock.set(NOW)
    units, people = org
    case = make_case(units["cs"], received_at=NOW, status=CaseStatus.ASSIGNED,
                     assignee=people["cs.agent"], contact_name="Åsa Lindqvist")
    case.contact_street, case.contact_postal_code, case.contact_city = "Slottsgatan 3", "20100", "Åbo"
    case.language = Language.SV
    db.session.commit()
    return case


def speaks(user, language):
    user.language = Language(language)
    db.session.commit()


def test_the_name_falls_back_to_english_where_a_language_has_none(org):
    units, _people = org
    assert units["cs"].name_in("fi") == "Asiakaspalvelu"
    assert units["cs"].name_in("sv") == "Kundservice"
    assert units["cs"].name_in("en") == "Customer service"
    assert units["cards"].name_in("sv") == "Cards"
    # Swedish order: Å after V.
    assert [u.code for u in in_name_order(units.values(), "sv")] == ["cards", "cs", "vaasa", "turku"]


@pytest.mark.parametrize(("language", "name", "other"), [
    ("fi", "Asiakaspalvelu", "Customer service"), ("sv", "Kundservice", "Customer service"),
    ("en", "Customer service", "Asiakaspalvelu")])
def test_staff_read_the_inbox_and_the_case_in_their_language(client, login, org, case, language,
                                                            name, other):
    speaks(org[1]["cs.agent"], language)
    login("cs.agent")
    inbox = client.get("/inbox/cs").get_data(as_text=True)
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    for html in (inbox, page):
        assert name in html
        assert other not in html


def test_the_forward_picker_names_units_in_the_readers_language_and_order(client, login, org,
                                                                          case):
    speaks(org[1]["cs.agent"], "sv")
    login("cs.agent")
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    picker = page[page.index('name="forward-unit"'):]
    picker = picker[:picker.index("</select>")]
    # Cards has no Swedish name: its English one stands in.
    assert [name for name in ("Cards", "Vasa", "Åbo") if name in picker] == ["Cards", "Vasa", "Åbo"]
    assert picker.index("Cards") < picker.index("Vasa") < picker.index("Åbo")


def test_an_email_answer_is_signed_and_sent_in_the_customers_language(client, login, org, case,
                                                                      smtp_server, run_worker):
    speaks(org[1]["cs.agent"], "fi")  # the agent's own language does not matter
    login("cs.agent")
    answer(client, case, body="Vi har rättat avgiften.")
    assert run_worker() == {"sent": 1}
    [sent] = smtp_server.messages
    assert header(sent["From"]).startswith("Kundservice <")
    message = db.session.scalar(sa.select(OutboxMessage))
    assert "Med vänlig hälsning\nKundservice\nBanken" in message.body_text
    assert "Asiakaspalvelu" not in message.body_text and "Customer service" not in message.body_text


def test_the_units_own_signature_in_the_customers_language_wins(client, login, org, case):
    db.session.add(UnitText(unit_id=org[0]["cs"].id, language=Language.SV, greeting="",
                            signature="Hälsningar\nKundservice i Åbo"))
    db.session.commit()
    login("cs.agent")
    answer(client, case, body="Vi har rättat avgiften.")
    assert "Hälsningar\nKundservice i Åbo" in db.session.scalar(sa.select(OutboxMessage.body_text))


def test_a_letter_carries_the_letterhead_in_the_customers_language(client, login, org, case):
    login("cs.agent")
    answer(client, case, channel="letter", body="Vi har rättat avgiften.", reason="Brev önskat.")
    pdf = db.session.scalar(sa.select(Letter.pdf))
    text = "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)
    assert "Kundservice" in text
    assert "Customer service" not in text and "Asiakaspalvelu" not in text


def test_a_forward_notification_names_the_unit_in_the_recipients_language(client, login, org,
                                                                          case):
    units, people = org
    recipient = people["turku.staff"]
    recipient.notify_by_email = True
    speaks(recipient, "sv")
    login("cs.agent")
    response = post_action(client, case, "forward", unit=str(units["turku"].id), note="Till er.")
    assert response.status_code == 302
    notification = db.session.scalar(sa.select(OutboxMessage).where(
        OutboxMessage.kind == "notification"))
    assert "Åbo" in notification.body_text and "Turku" not in notification.body_text


def test_an_admin_names_a_unit_in_three_languages(client, login, org):
    units, people = org
    speaks(people["admin"], "fi")
    login("admin")
    unit = units["vaasa"]
    form = {"code": "vaasa", "name": "Vaasa branch", "name_fi": "Vaasan konttori",
            "name_sv": "Vasa kontor", "kind": "branch_office", "street_address": "",
            "postal_code": "", "city": "", "active": "y"}
    response = client.post(f"/admin/units/{unit.id}", data=form)
    assert response.status_code == 302
    db.session.refresh(unit)
    assert (unit.name, unit.name_fi, unit.name_sv) == ("Vaasa branch", "Vaasan konttori",
                                                       "Vasa kontor")
    assert "Vaasan konttori" in client.get("/admin/units").get_data(as_text=True)
    # A line break would break the sender name of its emails: refused at the field, kept typed.
    page = client.post(f"/admin/units/{unit.id}",
                       data={**form, "name_sv": "Vasa\nkontor"}).get_data(as_text=True)
    assert "Vasa\nkontor" in page or "Vasa\r\nkontor" in page
    db.session.refresh(unit)
    assert unit.name_sv == "Vasa kontor"


def test_reports_name_units_in_the_readers_language(client, login, org, case, make_user):
    speaks(make_user("cs.lead", lead_of=[org[0]["cs"]]), "sv")
    login("cs.lead")
    page = client.get("/reports/").get_data(as_text=True)
    assert "Kundservice" in page and "Customer service" not in page


def test_the_demo_names_every_unit_in_three_languages_and_signs_in_each(data):
    import random

    from feedback_intranet.demo import seed_reference_data

    units, _topics = seed_reference_data("demo-password-1", random.Random(1))
    db.session.commit()
    for unit in units.values():
        assert unit.name and unit.name_fi and unit.name_sv
        signatures = {str(text.language): text.signature for text in db.session.scalars(
            sa.select(UnitText).where(UnitText.unit_id == unit.id))}
        assert set(signatures) == {"fi", "sv", "en"}
        for language, signature in signatures.items():
            assert unit.name_in(language) in signature
    assert units["turku"].name_sv == "Åbo"


def test_a_swedish_customer_reads_no_english_in_a_letter_or_an_email(client, login, org, case,
                                                                     smtp_server, run_worker):
    from .english import english_in, english_phrases

    phrases = english_phrases()["sv"] | {"Customer service"}
    login("cs.agent")
    post_action(client, case, "interim_notice", estimate="2.12.2026",
                text="Vi behöver mer tid. Du får ett beslut senast 2.12.2026.")
    answer(client, case, channel="letter", body="Vi har rättat avgiften.", reason="Brev önskat.")
    assert run_worker() == {"sent": 1}
    [email] = smtp_server.messages
    email_text = header(email["Subject"]) + "\n" + "\n".join(
        part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
        for part in email.walk() if part.get_content_type() == "text/plain")
    pdf = db.session.scalar(sa.select(Letter.pdf))
    letter = "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)
    assert "Vi behöver mer tid" in email_text and "Vi har rättat avgiften" in letter
    assert english_in(email_text, phrases) == []
    assert english_in(letter, phrases) == []
