"""The rows of the lists of cases (my cases, search results), each drawn once per worker for
what it shows.

My cases are drawn again after every change in any of the holder's units, and a search draws
its results on every query: fifty rows took most of either page. A row shows nothing but its
ListedCase (plain values, the unit's and topic's names included) and its due-date badge, so the
two, with the reader's language, are its key (web/drawn.py).
"""

from flask import get_template_attribute, url_for

from .. import clock
from ..web.drawn import Drawn
from ..web.locale import get_locale_code

# Some 700 characters a row: the rows of the lists read lately, a few hundred.
_DRAWN = Drawn(chars=300_000)


def rows(cases, badges):
    """The rows of `cases` (ListedCase), in their order, with their `badges` by case id."""
    language = get_locale_code()
    row = get_template_attribute("macros/cases.html", "case_row")
    # One url_for for the list, not one per row: references are already URL-safe.
    case_path = url_for("cases.show", reference="_")[:-1]
    zone = clock.timezone()  # of the moments shown
    return [_DRAWN.get((case, badges[case.id], language, case_path, zone),
                       lambda case=case: row(case, badges[case.id], case_path))
            for case in cases]
