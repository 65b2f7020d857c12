"""The case page's timeline entries, each drawn once per worker for what it shows.

A long-running case's page shows its newest 30 events, and drawing them (their moments, kinds
and sentences in the reader's language) took a tenth of the page. An event's entry is the same
on every view until something it shows changes, so it is kept (web/drawn.py) under everything
the entry reads: the event's kind, moment, text and facts, its actor's and units' names, the
reader's language and the customer's (the language a customer's reply is marked in), and the
time zone its moments are shown in.
"""

import json

from flask import get_template_attribute

from .. import clock
from ..models import EventKind
from ..web.drawn import Drawn
from ..web.locale import get_locale_code

# A few hundred characters each: the events of the last hundred or so cases opened.
_DRAWN = Drawn(chars=250_000)


def entries(events, customer_language):
    """The entries of the shown `events` but the receipt, which the page draws with the
    customer's message."""
    language = get_locale_code()
    entry = get_template_attribute("cases/_timeline_entry.html", "timeline_entry")
    zone = clock.timezone()
    return [_DRAWN.get(_key(event, language, customer_language, zone),
                       lambda event=event: entry(event, customer_language))
            for event in events if event.kind != EventKind.RECEIVED]


def _key(event, language, customer_language, zone):
    return (event.id, language, customer_language, zone, event.kind, event.at, event.text,
            json.dumps(event.facts, sort_keys=True, default=str),
            event.actor.full_name if event.actor else None, _names(event.from_unit),
            _names(event.to_unit))


def _names(unit):
    return (unit.name, unit.name_fi, unit.name_sv) if unit is not None else None
