"""One reading of phone numbers for the form, the register search and the case search."""

import pytest

from feedback_intranet.rules.phones import e164


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
