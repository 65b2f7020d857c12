"""One reading of phone numbers for the form, the register search and the case search."""

import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from feedback_intranet.rules.phones import e164, for_dialling, tel_uri


@pytest.mark.parametrize("typed, stored", [
    ("040 123 4567", "+358401234567"),
    ("+358 40 123 4567", "+358401234567"),
    ("(09) 1234 5678", "+358912345678"),
    ("+46 8 123 456 78", "+46812345678"),
])
def test_numbers_are_stored_and_compared_in_e164(typed, stored):
    assert e164(typed) == stored
    assert e164(typed, valid=True) == stored


@pytest.mark.parametrize("typed", ["", "Aino", "12", "0" * 30, "+358 40 123 4567 890 123"])
def test_what_cannot_be_a_number_is_none(typed):
    assert e164(typed) is None


def test_a_customer_gives_a_number_in_use_staff_may_search_any_possible_one():
    assert e164("+358 1 234 567") == "+3581234567"  # a possible length, no such area code
    assert e164("+358 1 234 567", valid=True) is None


# Written for the caller to dial


@pytest.mark.parametrize("stored, shown", [
    ("+358401234567", "+358 40 123 4567"),  # a mobile
    ("040 123 4567", "+358 40 123 4567"),  # as a customer may have typed it
    ("+358501112222", "+358 50 111 2222"),
    ("+358912345678", "+358 9 1234 5678"),  # Helsinki, an eight-digit landline
    ("+35821234567", "+358 2 123 4567"),  # Turku, a seven-digit landline
    ("+358800123456", "+358 800 123 456"),  # a free service number
    ("+46812345678", "+46 8 123 456 78"),  # Stockholm, as Sweden groups it
    ("+442079460958", "+44 20 7946 0958"),
    ("+12025550143", "+1 202 555 0143"),  # no hyphens to misread as digits
])
def test_numbers_are_written_for_dialling_with_the_country_code(stored, shown):
    assert for_dialling(stored) == shown


@pytest.mark.parametrize("odd", ["", "Aino", "12"])
def test_what_is_not_a_number_is_shown_as_it_was(odd):
    assert for_dialling(odd) == odd


def test_the_link_dials_the_whole_international_number():
    assert tel_uri("040 123 4567") == "tel:+358401234567"
    assert tel_uri("+46 8 123 456 78") == "tel:+46812345678"


@settings(deadline=None, max_examples=300)
@given(prefix=st.sampled_from(["40", "41", "44", "45", "50", "9", "2", "3", "13", "19"]),
       rest=st.text("0123456789", min_size=5, max_size=8),
       country=st.sampled_from(["FI", "SE", "GB", "DE", "EE"]))
def test_a_number_written_for_dialling_is_the_same_number(prefix, rest, country):
    from phonenumbers import country_code_for_region
    typed = f"+{country_code_for_region(country)}{prefix}{rest}"
    stored = e164(typed)
    assume(stored is not None)
    shown = for_dialling(stored)
    # Only digits in groups after the plus, single spaces between them, and read back the same.
    assert re.fullmatch(r"\+\d+( \d+)+", shown), shown
    assert e164(shown) == stored
    assert shown.startswith(f"+{country_code_for_region(country)} ")
    if country == "FI":  # ours are grouped as people here write them: none longer than four
        assert all(len(group) <= 4 for group in shown.split()[1:])
