"""Countries for postal addresses, named in the reader's language (from Babel's locale data).

A case keeps the country as its ISO 3166 alpha-2 code ("FI" for an address in Finland).
"""

import unicodedata
from functools import cache

from babel import Locale

from .rules.postal_codes import HOME_COUNTRY
from .rules.sort_keys import sort_key

# Babel names regions that no letter goes to: groupings, test codes and the non-ISO places.
NOT_COUNTRIES = frozenset({"AC", "CP", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB",
                           "ZZ"})


def _sort_key(name, language):
    """Finnish and Swedish file å, ä and ö after z (as names do); English reads them as a and o."""
    if language in ("fi", "sv"):
        return sort_key(name)
    return "".join(unicodedata.normalize("NFD", char)[0] for char in name.casefold())


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
