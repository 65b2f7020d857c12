"""Postal codes as each country writes them, and countries named in the reader's language."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedback_intranet.countries import countries, country_line, country_name, is_abroad
from feedback_intranet.rules.postal_codes import FORMATS, example, needs_postal_code, normalise


@pytest.mark.parametrize(("country", "typed", "written"), [
    ("FI", "00100", "00100"),
    ("FI", " 00100 ", "00100"),
    ("AX", "22100", "22100"),
    ("SE", "11122", "111 22"),
    ("SE", "se-111 22", "111 22"),
    ("NO", "0150", "0150"),
    ("DK", "1050", "1050"),
    ("EE", "10111", "10111"),
    ("LV", "1050", "LV-1050"),
    ("DE", "10115", "10115"),
    ("NL", "1012ab", "1012 AB"),
    ("PL", "00950", "00-950"),
    ("GB", "sw1a 1aa", "SW1A 1AA"),
    ("GB", "EC1A1BB", "EC1A 1BB"),
    ("GB", "m1 1ae", "M1 1AE"),
    ("US", "12345", "12345"),
    ("US", "12345 6789", "12345-6789"),
    ("CA", "k1a0b6", "K1A 0B6"),
    ("JP", "100-0001", "100-0001"),
    ("BR", "01310-100", "01310-100"),
    ("FI", "", ""),
    ("SE", "   ", ""),
])
def test_a_code_is_kept_as_its_country_writes_it(country, typed, written):
    assert normalise(country, typed) == written


@pytest.mark.parametrize(("country", "typed"), [
    ("FI", "0010"), ("FI", "001000"), ("FI", "00 100"), ("AX", "00100"), ("SE", "1234"),
    ("NO", "01500"), ("DK", "123"), ("EE", "1011"), ("DE", "1011"), ("GB", "12345"),
    ("GB", "SW1A"), ("US", "1234"), ("US", "12345-67"), ("JP", "!"), ("JP", "A"),
    ("JP", "12345678901"), ("JP", "--12"),
])
def test_a_code_in_another_shape_is_refused(country, typed):
    assert normalise(country, typed) is None


def test_every_format_accepts_its_own_example():
    for country in FORMATS:
        assert normalise(country, example(country)) == example(country)
    assert example("JP") is None


@settings(deadline=None)
@given(country=st.sampled_from([*FORMATS, "JP", "BR"]), typed=st.text(max_size=14))
def test_a_written_code_is_written_the_same_again(country, typed):
    written = normalise(country, typed)
    if written:
        assert normalise(country, written) == written and len(written) <= 10


def test_a_few_places_have_no_postal_codes():
    assert not needs_postal_code("HK") and needs_postal_code("FI") and needs_postal_code("SE")


def test_countries_are_named_and_sorted_in_the_readers_language():
    assert country_name("SE", "fi") == "Ruotsi" and country_name("SE", "sv") == "Sverige"
    fi = [name for _, name in countries("fi")]
    assert fi.index("Ahvenanmaa") < fi.index("Ruotsi") < fi.index("Zimbabwe")
    sv = [name for _, name in countries("sv")]
    assert sv.index("Zambia") < sv.index("Åland") < sv.index("Österrike")
    codes = {code for code, _ in countries("en")}
    assert {"FI", "SE", "GB", "US"} <= codes and not {"EU", "UN", "ZZ", "XA"} & codes


def test_a_letter_abroad_ends_with_the_country_in_capitals():
    assert country_line("SE") == "SWEDEN" and country_line("FI") == "" and country_line("") == ""
    assert is_abroad("SE") and not is_abroad("FI")
