"""The frame of an inbox page's table, its head and its pager, drawn once per worker for what
they show; the rows between come from the inbox cache (inboxes/rows.py).

On the first view after a change to the unit's cases the rows are mostly found drawn, yet the
frame (four sorting links, four pager links, a dozen translations) was drawn again: 9 % of that
view's instructions. The head's key holds the reader's language, the unit's code and name, the list
(filter, member, sort, direction) and whether the reader may select rows; the pager's, the
language, the unit and the list with the cursors of the pages before and after (web/drawn.py).
"""

from flask import get_template_attribute, request

from ..web.drawn import Drawn
from ..web.locale import get_locale_code
from . import queries

# Some 2,500 characters a head and 700 a pager: many lists of many units.
_DRAWN = Drawn(chars=400_000)


def case_table(unit, listing, page, rows, selectable):
    """The HTML of `page` of `unit`'s inbox, `rows` its rows' HTML, with the table's head and
    pager: a string, as the inbox cache keeps it."""
    language, root = get_locale_code(), request.script_root
    unit_name = unit.local_name
    head = _DRAWN.get(
        ("head", language, root, unit.code, unit_name, listing, selectable),
        lambda: _macro("table_head")(unit.code, unit_name, listing, queries.FILTERS,
                                     queries.SORTS, selectable))
    previous = page.prev_cursor.encode() if page.prev_cursor else None
    following = page.next_cursor.encode() if page.next_cursor else None
    foot = _DRAWN.get(
        ("foot", language, root, unit.code, listing, previous, following),
        lambda: _macro("table_foot")(unit.code, listing, previous, following))
    return "".join((head, *rows, foot))


def _macro(name):
    return get_template_attribute("inboxes/_case_table.html", name)
