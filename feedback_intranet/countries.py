"""Countries for postal addresses, named in the reader's language (from Babel's locale data).

A case keeps the country as its ISO 3166 alpha-2 code ("FI" for an address in Finland).
"""

import unicodedata
from functools import cache

from babel import Locale

from .rules.postal_codes import HOME_COUNTRY

# Babel names regions that no letter goes to: groupings, test codes and the non-ISO places.
NOT_COUNTRIES = frozenset({"AC", "CP", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB",
                           "ZZ"})
# Finnish and Swedish file å, ä and ö (æ and ø with ä and ö) after z.
NORDIC_LAST = {"å": "{", "ä": "|", "æ": "|", "ö": "}", "ø": "}"}


def _sort_key(name, language):
    key = []
    for char in name.casefold():
        if language in ("fi", "sv") and char in NORDIC_LAST:
            key.append(NORDIC_LAST[char])
        else:
            key.append(unicodedata.normalize("NFD", char)[0])
    return "".join(key)


@cache
def _names(language):
    territories = Locale.parse(language).territories
    return {code: name for code, name in territories.items()
            if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES}


@cache
def countries(language):
    """(code, name) of every country, in the alphabetical order of `language`."""
    names = _names(language)
    return tuple(sorted(names.items(), key=lambda item: _sort_key(item[1], language)))


def is_country(code):
    return code in _names("en")


def country_name(code, language):
    """The country's name in `language` ("Ruotsi", "Sverige", "Sweden"); the code if unknown."""
    code = (code or HOME_COUNTRY).upper()
    return _names(language).get(code, code)


def is_abroad(code):
    return bool(code) and code.upper() != HOME_COUNTRY


def country_line(code):
    """The last line of a letter's address abroad, as the Finnish post wants it: the country's
    name in capitals, in English; empty for an address in Finland."""
    return country_name(code, "en").upper() if is_abroad(code) else ""
