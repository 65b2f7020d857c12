"""Numbers written the way people really write them are masked on every way in, and refused on
every way out, through real requests."""

import re

import pytest
import sqlalchemy as sa

from feedback_intranet.extensions import db
from feedback_intranet.models import Answer, Case, CaseEvent, CaseStatus, OutboxMessage, UnitKind

from .test_case_pages import post_action
from .test_intake import form, only_case, staff_form

# Each split across a line, grouped by dots, glued to a word, or with a space for the sign.
WRITTEN = {
    "iban": "tilinumeroFI2112345600000785kiitos",
    "iban split": "Tili FI21 1234 5600\n0007 85",
    "card split": "kortti 4111 1111\n1111 1111",
    "card dots": "kortti 5500.0000.0000.0004",
    "card glued": "korttini4012888888881881",
    "hetu": "hetu 131052 308T",
}
# What must not survive anywhere: the digits of each number but the last four.
SECRETS = ["12345600000", "123456000007", "411111111111", "4111 1111", "550000000000",
           "5500.0000", "401288888888", "131052", "308T"]


def stored_text():
    return " ".join(str(value) for table in db.metadata.sorted_tables
                    for row in db.session.execute(sa.select(table)) for value in row)


def assert_nowhere(*places):
    for secret in SECRETS:
        for place in places:
            assert secret not in place and secret not in place.replace("\n", "").replace(" ", "")


@pytest.mark.parametrize("path", ["/feedback", "/register-feedback"])
def test_feedback_never_stores_or_shows_numbers_however_written(client, bank, make_user, login,
                                                                path):
    make_user("cs.agent", units=[bank["units"]["cs"]])
    message = " ".join(WRITTEN.values()) + ". Maksoin 24.12.2026 summan 1 250,50 €, viite 12345 67891 23459."
    if path == "/feedback":
        client.post(path, data=form(bank, message=message, street="Box 131052308T",
                                     city="Helsinki FI21.1234.5600.0007.85"))
    else:
        login("cs.agent")
        client.post(path, data=staff_form(bank, message=message, street="Box 131052308T",
                                          city="Helsinki FI21.1234.5600.0007.85",
                                          unit=str(bank["units"]["cs"].id)))
    case = only_case()
    assert case.message == (
        "tilinumero[account number …0785 removed]kiitos Tili [account number …0785 removed] "
        "kortti [card number …1111 removed] kortti [card number …0004 removed] "
        "korttini[card number …1881 removed] hetu [identity code removed]. "
        "Maksoin 24.12.2026 summan 1 250,50 €, viite 12345 67891 23459.")
    assert case.contact_street == "Box [identity code removed]"
    assert case.contact_city == "Helsinki [account number …0785 removed]"
    assert case.masked_kinds == "card_number,iban,identity_code"
    login("cs.agent")
    case_page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    found = client.get("/cases/search?q=5600").get_data(as_text=True)
    assert case.reference not in found
    assert_nowhere(stored_text(), case_page)


@pytest.fixture
def holder(make_unit, make_user, make_case, login):
    unit = make_unit(code="cs", name="Customer service", kind=UnitKind.CUSTOMER_SERVICE)
    agent = make_user("cs.agent", units=[unit])
    case = make_case(unit, status=CaseStatus.ASSIGNED, assignee=agent)
    login("cs.agent")
    return case


def test_notes_and_corrections_are_masked(client, holder):
    case = holder
    post_action(client, case, "note", text="Asiakas luki kortin: 4111\n1111 1111 1111")
    page = client.get(f"/cases/{case.reference}/correct").get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    client.post(f"/cases/{case.reference}/correct", data={
        "contact_name": "Aino Asiakas 131052308t", "contact_street": "", "contact_postal_code": "",
        "contact_city": "", "contact_phone": "", "contact_email": "aino@example.fi",
        "topic_id": str(case.topic_id), "case_type": "feedback", "segment": "private",
        "version": str(db.session.get(Case, case.id).version), "token": token})
    db.session.expire_all()
    note, corrected = db.session.scalars(
        sa.select(CaseEvent).where(CaseEvent.kind.in_(["note", "corrected"]))
        .order_by(CaseEvent.id)).all()
    assert note.text == "Asiakas luki kortin: [card number …1111 removed]"
    assert corrected.facts["changes"] == [
        ["contact_name", "Aino Asiakas", "Aino Asiakas [identity code removed]"]]
    assert_nowhere(stored_text())


@pytest.mark.parametrize("body", [WRITTEN["iban"], WRITTEN["iban split"], WRITTEN["card split"],
                                  WRITTEN["card dots"], WRITTEN["card glued"], WRITTEN["hetu"]])
def test_an_answer_carrying_a_number_is_refused_before_anything_is_queued(client, holder, body):
    response = post_action(client, holder, "answer", channel="email", final="y", send="Send",
                           body=f"Hei,\n{body}\nTerveisin")
    assert "The text contains sensitive data" in response.get_data(as_text=True)
    assert db.session.scalars(sa.select(Answer)).all() == []
    assert db.session.scalars(sa.select(OutboxMessage)).all() == []


@pytest.mark.parametrize("text", [WRITTEN["iban"], WRITTEN["card split"], WRITTEN["hetu"]])
def test_an_interim_notice_carrying_a_number_is_refused_before_anything_is_queued(client, holder,
                                                                                 text):
    response = post_action(client, holder, "interim_notice", estimate="2026-12-04",
                           text=f"Päätös viimeistään 4.12.2026. {text}")
    assert "The text contains sensitive data" in response.get_data(as_text=True)
    assert db.session.scalars(sa.select(Answer)).all() == []
    assert db.session.scalars(sa.select(OutboxMessage)).all() == []
    db.session.expire_all()
    assert db.session.get(Case, holder.id).estimated_decision_date is None
