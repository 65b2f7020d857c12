"""Staff register feedback a customer gave by phone, at the counter or by letter: the form
reads from the staff member's side, says when the feedback was received (the promise counts
from then), and finds the customer in the register."""

import re
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from feedback_intranet.extensions import db
from feedback_intranet.models import AuditEvent, Customer, Language, MatchMethod, Segment

from .conftest import DEFAULT_NOW, HELSINKI
from .test_intake import count_cases, only_case, staff_form


@pytest.fixture
def staff(client, bank, make_user, login):
    user = make_user("branch.staff", units=[bank["units"]["helsinki"]])
    login("branch.staff")
    return user


def register(client, bank, **changes):
    return client.post("/register-feedback", data=staff_form(
        bank, unit=str(bank["units"]["helsinki"].id), **changes))


def error_at(page, name):
    found = re.search(rf'<p class="error" id="{name}-error">(.*?)</p>', page)
    return found and found.group(1)


def shown_value(page, name):
    return re.search(rf'<input[^>]*id="{name}"[^>]*value="([^"]*)"', page).group(1)


# The staff member's side

def test_the_form_speaks_to_staff_and_the_public_form_to_the_customer(client, staff):
    page = client.get("/register-feedback").get_data(as_text=True)
    for label in ("The customer wants an answer", "The customer's name",
                  "Answer the customer by", "The customer's feedback",
                  "The customer's contact details", "Received on", "Find in the register"):
        assert label in page, label
    assert "I want an answer" not in page and "Your feedback" not in page
    public = client.get("/feedback").get_data(as_text=True)
    assert "I want an answer" in public and "Your feedback" in public
    assert "The customer wants an answer" not in public


def test_the_form_starts_at_now(client, staff):
    page = client.get("/register-feedback").get_data(as_text=True)
    assert shown_value(page, "received_on") == "25.11.2026"
    assert shown_value(page, "received_time") == "10.00"


# When it was received

def test_a_letter_received_yesterday_keeps_yesterdays_due_date(client, bank, staff):
    response = register(client, bank, intake_channel="letter", received_on="24.11.2026",
                        received_time="15.40")
    assert response.status_code == 302
    case = only_case()
    assert case.received_at == datetime(2026, 11, 24, 15, 40, tzinfo=HELSINKI)
    # Three banking days from Tuesday: Friday; from today it would be Monday.
    assert case.due_date == date(2026, 11, 27)
    assert case.events[0].at == case.received_at
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert "registered by Branch Staff on 25.11.2026 10:00" in page


def test_feedback_received_now_says_only_who_registered_it(client, bank, staff):
    assert register(client, bank).status_code == 302
    case = only_case()
    assert case.received_at == DEFAULT_NOW and case.due_date == date(2026, 11, 30)
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert "registered by Branch Staff" in page and "registered by Branch Staff on" not in page


def test_the_due_date_counts_banking_days_from_the_day_received(client, bank, staff):
    # Received on Friday evening before a weekend, registered on Wednesday: due Wednesday.
    register(client, bank, received_on="20.11.2026", received_time="19.55")
    assert only_case().due_date == date(2026, 11, 25)


@pytest.mark.parametrize(("on", "at", "field", "message"), [
    ("25.11.2026", "10.05", "received_time",
     "This is later than now (25.11.2026 10:00): give when the feedback was received."),
    ("26.11.2026", "8.00", "received_on",
     "This is later than now (25.11.2026 10:00): give when the feedback was received."),
    ("25.9.2026", "12.00", "received_on",
     "Feedback can be registered up to 60 days after it was received: give 26.9.2026 or later."),
    ("25.11.2026", "25.10", "received_time", "Give the time as hours.minutes, e.g. 14.30."),
    ("31.11.2026", "9.00", "received_on", "Give the date as day.month.year, e.g. 24.12.2026."),
    ("", "9.00", "received_on", "Give the date."),
    ("25.11.2026", "", "received_time", "Give the time."),
])
def test_a_moment_in_the_future_or_too_long_ago_is_refused_at_the_field(client, bank, staff, on,
                                                                         at, field, message):
    page = register(client, bank, received_on=on, received_time=at).get_data(as_text=True)
    assert error_at(page, field) == message
    assert shown_value(page, "received_on") == on and shown_value(page, "received_time") == at
    assert "Konttorin jono oli tunnin mittainen." in page
    assert count_cases() == 0


def test_sixty_days_back_is_still_accepted(client, bank, staff):
    assert register(client, bank, received_on="26.9.2026", received_time="0.00").status_code == 302
    assert only_case().received_at == datetime(2026, 9, 26, tzinfo=HELSINKI)


# The customer register, for the script

def lookup(client, q):
    return client.get("/register-feedback/customers", query_string={"q": q})


def test_the_lookup_finds_customers_by_number_name_phone_or_email(client, bank, staff):
    aino = bank["customers"][0]
    for query in ("C0000001", "aino virt", "040 123 4567", "+358401234567",
                  "aino.virtanen@example.fi"):
        response = lookup(client, query)
        assert response.status_code == 200 and response.mimetype == "application/json"
        assert response.headers["Cache-Control"] == "no-store"
        (found,) = response.get_json()["customers"]
        assert found == {
            "id": aino.id, "customer_number": "C0000001", "name": "Aino Virtanen",
            "street": "Bulevardi 1", "postal_code": "00120", "city": "Helsinki", "country": "FI",
            "phone": "+358401234567", "email": "aino.virtanen@example.fi", "segment": "private",
            "language": "fi", "home_office": "Helsinki Centre"}, query
    assert [c["customer_number"] for c in lookup(client, "Meikäläinen").get_json()["customers"]] \
        == ["C0000002", "C0000003"]
    assert lookup(client, "x").get_json() == {"customers": []}


def test_the_lookup_gives_at_most_ten(client, bank, staff, data):
    db.session.add_all(Customer(
        customer_number=f"C10000{n:02}", name=f"Kalle Korhonen {n}", street_address="Katu 1",
        postal_code="00100", city="Helsinki", language=Language.FI, segment=Segment.PRIVATE,
        home_office_id=bank["units"]["helsinki"].id) for n in range(15))
    db.session.commit()
    assert len(lookup(client, "korhonen").get_json()["customers"]) == 10


def test_visitors_who_are_not_logged_in_get_no_customer_data(client, bank):
    response = lookup(client, "Virtanen")
    assert response.status_code == 401
    assert response.get_json() == {"error": "Log in to search the customer register."}
    assert "Virtanen" not in response.get_data(as_text=True)


def test_staff_of_no_unit_may_not_search_or_register(client, bank, make_user, login):
    make_user("no.unit")
    login("no.unit")
    response = lookup(client, "Virtanen")
    assert response.status_code == 403
    assert response.get_json() == {"error": "You may not search the customer register."}
    assert client.get("/register-feedback").status_code == 403
    assert register(client, bank).status_code == 403
    assert count_cases() == 0
    refused = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.kind == "refused")).all()
    assert any((e.facts["status"], e.facts["method"], e.facts["path"]) ==
               (403, "GET", "/register-feedback/customers") for e in refused)


def test_an_admin_may_search_the_register(client, bank, make_user, login):
    make_user("admin", is_admin=True)
    login("admin")
    assert len(lookup(client, "Virtanen").get_json()["customers"]) == 1


# The customer register, without the script

def test_without_javascript_find_shows_the_matches_and_keeps_what_was_typed(client, bank, staff):
    page = register(client, bank, find_customer="1", register_query="Meikäläinen",
                    name="M. Meikäläinen", received_on="24.11.2026").get_data(as_text=True)
    assert count_cases() == 0
    assert f'name="use_customer" value="{bank["customers"][1].id}"' in page
    assert f'name="use_customer" value="{bank["customers"][2].id}"' in page
    assert "Aurakatu 9" in page and "Aino Virtanen" not in page
    assert shown_value(page, "name") == "M. Meikäläinen"
    assert shown_value(page, "register_query") == "Meikäläinen"
    assert shown_value(page, "received_on") == "24.11.2026"
    assert "Konttorin jono oli tunnin mittainen." in page
    assert 'class="error"' not in page  # nothing was checked
    page = register(client, bank, find_customer="1", register_query="Nobody").get_data(
        as_text=True)
    assert "No customer in the register matches this." in page


def test_without_javascript_the_chosen_customer_fills_the_form_and_links_the_case(
        client, bank, staff):
    matti = bank["customers"][2]
    page = register(client, bank, use_customer=str(matti.id), name="", street="", email="",
                    phone="", postal_code="", city="").get_data(as_text=True)
    assert count_cases() == 0
    assert shown_value(page, "name") == "Matti Meikäläinen"
    assert shown_value(page, "street") == "Aurakatu 9" and shown_value(page, "city") == "Turku"
    assert shown_value(page, "email") == "mm@example.fi"
    assert shown_value(page, "phone") == "+358503334444"
    assert re.search(rf'name="customer_id" type="hidden" value="{matti.id}"', page)
    assert "Linked to the customer C0000003, Matti Meikäläinen (home office Turku)." in page
    assert "Konttorin jono oli tunnin mittainen." in page

    # Name and postal code alone would match two customers: the choice decides.
    response = register(client, bank, customer_id=str(matti.id), name="Matti Meikäläinen",
                        street="Aurakatu 9", postal_code="20100", city="Turku", phone="",
                        email="uusi@example.fi")
    assert response.status_code == 302
    case = only_case()
    assert case.customer_id == matti.id and case.match_method == MatchMethod.MANUAL
    assert case.contact_email == "uusi@example.fi"


def test_the_link_can_be_removed_and_matching_decides_again(client, bank, staff):
    matti = bank["customers"][2]
    page = register(client, bank, customer_id=str(matti.id), unlink_customer="1").get_data(
        as_text=True)
    assert re.search(r'name="customer_id" type="hidden" value=""', page)
    assert "Linked to the customer" not in page.split('data-register-linked-text>')[1][:10]
    assert register(client, bank).status_code == 302
    case = only_case()
    assert case.customer.customer_number == "C0000001"
    assert case.match_method == MatchMethod.EMAIL


def test_an_unknown_customer_id_links_nothing(client, bank, staff):
    assert register(client, bank, customer_id="999999", use_customer="abc").status_code == 200
    assert register(client, bank, customer_id="999999").status_code == 302
    assert only_case().match_method == MatchMethod.EMAIL

