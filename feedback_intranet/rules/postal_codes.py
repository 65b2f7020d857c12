"""Postal codes by country: each is checked in the country's own format and kept as it is written
there ("123 45" in Sweden, "SW1A 1AA" in Britain). Pure.

Countries not in the table get a looser check: a code of letters and digits, as people abroad
write theirs.
"""

import re
from dataclasses import dataclass

HOME_COUNTRY = "FI"


@dataclass(frozen=True)
class PostalFormat:
    pattern: re.Pattern
    layout: str  # how the groups the pattern matched are written, for str.format
    example: str


def _digits(count, example, prefix=""):
    # The Baltic codes carry their country prefix ("LV-1050"): the post there wants it.
    prefixed = f"(?:{prefix}-?)?" if prefix else ""
    layout = f"{prefix}-{{0}}" if prefix else "{0}"
    return PostalFormat(re.compile(rf"{prefixed}(\d{{{count}}})"), layout, example)


FORMATS = {
    "FI": PostalFormat(re.compile(r"(\d{5})"), "{0}", "00100"),
    "AX": PostalFormat(re.compile(r"(?:AX-?)?(22\d{3})"), "{0}", "22100"),
    "SE": PostalFormat(re.compile(r"(?:SE-?)?(\d{3}) ?(\d{2})"), "{0} {1}", "123 45"),
    "NO": _digits(4, "0150"),
    "DK": _digits(4, "1050"),
    "IS": _digits(3, "101"),
    "EE": _digits(5, "10111"),
    "LV": _digits(4, "LV-1050", "LV"),
    "LT": _digits(5, "LT-01100", "LT"),
    "DE": _digits(5, "10115"),
    "AT": _digits(4, "1010"),
    "CH": _digits(4, "8001"),
    "BE": _digits(4, "1000"),
    "FR": _digits(5, "75001"),
    "ES": _digits(5, "28001"),
    "IT": _digits(5, "00184"),
    "NL": PostalFormat(re.compile(r"(\d{4}) ?([A-Z]{2})"), "{0} {1}", "1234 AB"),
    "PL": PostalFormat(re.compile(r"(\d{2})-?(\d{3})"), "{0}-{1}", "12-345"),
    # Outward code (area and district), then inward code (sector and unit).
    "GB": PostalFormat(re.compile(r"([A-Z]{1,2}\d[A-Z\d]?) ?(\d[A-Z]{2})"), "{0} {1}", "SW1A 1AA"),
    "US": PostalFormat(re.compile(r"(\d{5})(?:[- ]?(\d{4}))?"), "{0}", "12345"),
    "CA": PostalFormat(re.compile(r"([A-Z]\d[A-Z]) ?(\d[A-Z]\d)"), "{0} {1}", "K1A 0B6"),
}
# ZIP+4 keeps its four digits: "12345-6789".
US_PLUS_FOUR = "{0}-{1}"

# Places whose post needs no postal code: the address is complete without one.
WITHOUT_POSTAL_CODES = frozenset({"AE", "HK", "MO", "QA"})

# Elsewhere: letters and digits, with a space or hyphen between groups, 2 to 10 characters.
ANY_CODE = re.compile(r"[A-Z0-9](?:[A-Z0-9]|[ -](?=[A-Z0-9])){1,9}")


def normalise(country, value):
    """The postal code as it is written in `country` (ISO 3166 alpha-2), "" for no code, or None
    when it is not a postal code there."""
    text = " ".join((value or "").split()).upper()
    if not text:
        return ""
    country = (country or HOME_COUNTRY).upper()
    postal_format = FORMATS.get(country)
    if postal_format is None:
        return text if ANY_CODE.fullmatch(text) else None
    match = postal_format.pattern.fullmatch(text)
    if match is None:
        return None
    groups = match.groups()
    if country == "US" and groups[1]:
        return US_PLUS_FOUR.format(*groups)
    return postal_format.layout.format(*groups)


def example(country):
    """A postal code of `country` as it is written there, or None for a country not in the table."""
    postal_format = FORMATS.get((country or HOME_COUNTRY).upper())
    return postal_format.example if postal_format else None


def needs_postal_code(country):
    return (country or HOME_COUNTRY).upper() not in WITHOUT_POSTAL_CODES
