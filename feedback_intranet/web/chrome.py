"""The staff pages' header and the date picker's texts, drawn once per worker for what they show.

Every staff page draws them, and drawing them (a dozen links and translations, the date
picker's month and weekday names) took a sixth of a cached inbox view. The header differs between
views only in the search box's words and the logout form's CSRF token: it is drawn with a
stand-in for each, replaced on every view (web/drawn.py keeps the rest).
"""

import secrets

from flask import get_template_attribute, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import escape

from .. import clock
from ..access import can_administer, can_see_reports
from .drawn import Drawn
from .locale import calendar_names, get_locale_code

# A header is some 2,000 characters: every staff member's and language's many times over.
_DRAWN = Drawn(chars=200_000)
# Random, so that no name or text drawn into the header can hold them.
_QUERY, _TOKEN = (f"\x00{secrets.token_hex(8)}\x00" for _n in range(2))


def staff_header():
    """The header of a signed-in staff member's page."""
    user = current_user
    key = ("header", get_locale_code(), request.script_root, user.full_name,
           can_see_reports(user), can_administer(user), request.blueprint == "admin",
           user.needs_attention)
    header = _DRAWN.get(key, lambda: get_template_attribute("macros/chrome.html", "staff_header")(
        *key[3:], _QUERY, _TOKEN))
    query = request.args.get("q", "") if request.endpoint == "cases.search" else ""
    return header.replace(_QUERY, escape(query)).replace(_TOKEN, escape(generate_csrf()))


def date_picker_texts():
    """The date picker's month and weekday names and today, in the page's language."""
    key = ("date picker", get_locale_code(), request.script_root, clock.today())
    return _DRAWN.get(key, lambda: get_template_attribute("macros/chrome.html", "date_picker_texts")(
        calendar_names()))
