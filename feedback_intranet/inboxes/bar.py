"""The inbox's bar, its filters with their counts and the unit's links, drawn once per worker for
what it shows.

A dozen links and translations on every view of an inbox, the same until a count or the list
changes: drawn again each time, it was a tenth of a cached inbox view. The key holds everything
the bar shows: the reader's language, the unit, the list the reader is on (filter, member, sort,
direction), the filters offered with their counts, and whether the reader leads the unit
(web/drawn.py).
"""

from flask import get_template_attribute, request

from ..web.drawn import Drawn
from ..web.locale import get_locale_code

# Some 1,800 characters a bar: every unit's filters, sorts and directions many times over.
_DRAWN = Drawn(chars=200_000)


def inbox_bar(unit_code, listing, filters, filter_name, counts, leads):
    """The bar of `unit_code`'s inbox for the list `listing`, `filters` offered with `counts`."""
    shown = tuple((name, counts[name]) for name in filters)
    key = ("bar", get_locale_code(), request.script_root, unit_code, listing, filter_name, shown,
           leads)
    return _DRAWN.get(key, lambda: get_template_attribute("inboxes/_bar.html", "inbox_bar")(
        unit_code, listing, filters, filter_name, dict(shown), leads))
