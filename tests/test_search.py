"""Searching cases: every way staff look a case up, only cases they may see, any input safe."""

import pytest

from feedback_intranet.extensions import db
from feedback_intranet.models import Customer, Language, Segment, UnitKind

from .test_case_pages import post_action


@pytest.fixture
def setting(make_unit, make_user, make_case):
    units = {
        "cs": make_unit(code="cs", name="Customer service", kind=UnitKind.CUSTOMER_SERVICE),
        "helsinki": make_unit(code="helsinki-centre", name="Helsinki Centre"),
        "turku": make_unit(code="turku", name="Turku"),
    }
    make_user("cs.agent", units=[units["cs"]])
    make_user("branch.staff", units=[units["helsinki"]])
    make_user("turku.staff", units=[units["turku"]])
    customer = Customer(customer_number="C0000042", name="Åsa Lindqvist", street_address="Gatan 1",
                        postal_code="65100", city="Vasa", language=Language.SV,
                        segment=Segment.PRIVATE, home_office_id=units["helsinki"].id)
    db.session.add(customer)
    db.session.commit()
    ours = make_case(units["cs"], contact_name="Åsa Lindqvist",
                     message="Kortin maksuautomaatti nielaisi kortin Kampissa.")
    ours.contact_phone, ours.customer_id = "+358401234567", customer.id
    db.session.commit()
    theirs = make_case(units["turku"], contact_name="Åsa Lindqvist",
                       message="Kortin maksuautomaatti Turussa.")
    return units, ours, theirs


def found(client, query):
    page = client.get("/cases/search", query_string={"q": query}).get_data(as_text=True)
    import re

    return re.findall(r">(FB-\d{4}-\d{6})</a>", page)


@pytest.mark.parametrize(
    "query",
    ["{ref}", "{ref_lower}", "aino@example.fi", "AINO@EXAMPLE.FI", "040 123 4567",
     "+358 40 1234567", "C0000042", "c0000042", "maksuautomaatti", "Kampissa kortin",
     "Lindqvist", "åsa", "maksuauto", "nielaisi kamp", "LINDQ"],
)
def test_staff_find_a_case_every_way(client, login, setting, query):
    _, ours, theirs = setting
    login("cs.agent")
    query = query.format(ref=ours.reference, ref_lower=ours.reference.lower())
    assert found(client, query) == [ours.reference]


def test_a_unit_that_forwarded_a_case_still_finds_it_read_only(client, login, setting):
    units, ours, _ = setting
    login("cs.agent")
    post_action(client, ours, "forward", unit=str(units["helsinki"].id), note="Teille.")
    assert found(client, "maksuautomaatti") == [ours.reference]
    client.post("/logout")
    login("turku.staff")
    assert found(client, ours.reference) == []
    assert len(found(client, "maksuautomaatti")) == 1


def test_the_index_follows_changes(client, login, setting):
    _, ours, _ = setting
    ours.message = "Täysin uusi viesti lainasta."
    db.session.commit()
    login("cs.agent")
    assert found(client, "lainasta") == [ours.reference]
    assert found(client, "Kampissa") == []


@pytest.mark.parametrize(
    "query",
    ['"', "'", "kortin AND OR NOT", "NEAR(kortin", "*", "x' OR '1'='1", "'; DROP TABLE unit; --",
     "a" * 5000, "🙂 kortin 🙂", "%_\\", "column:value", "^kortin", "-kortin", "(", ")"],
)
def test_any_input_gives_results_or_none_never_an_error(client, login, setting, query):
    login("cs.agent")
    response = client.get("/cases/search", query_string={"q": query})
    assert response.status_code == 200


def test_an_empty_search_shows_the_box(client, login, setting):
    login("cs.agent")
    page = client.get("/cases/search?q=+").get_data(as_text=True)
    assert 'id="q"' in page and "No results" not in page
    assert "No results" in client.get("/cases/search?q=zzzz").get_data(as_text=True)


@pytest.mark.parametrize("query", ["k", "ka", "Å", "k a", "12"])
def test_a_query_of_one_or_two_letters_finds_exact_keys_only_and_says_so(client, login, setting,
                                                                          query):
    login("cs.agent")
    page = client.get("/cases/search", query_string={"q": query}).get_data(as_text=True)
    assert found(client, query) == []
    assert "type at least three letters" in page


def test_short_words_beside_a_long_one_are_left_out_of_the_text_search(client, login, setting):
    _, ours, _theirs = setting
    login("cs.agent")
    assert found(client, "k kampissa") == [ours.reference]
