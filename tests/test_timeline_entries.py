"""The case page's timeline entries: each drawn once per worker for what it shows
(cases/timeline_entries.py), and drawn anew when any of that changes."""

import re

import pytest
import sqlalchemy as sa

from feedback_intranet.cases import timeline_entries
from feedback_intranet.extensions import db
from feedback_intranet.models import CaseEvent, EventKind, UnitKind

from .conftest import record_drawn
from .test_case_pages import post_action


@pytest.fixture
def org(make_unit, make_user):
    units = {
        "cs": make_unit(code="cs", name="Customer service", kind=UnitKind.CUSTOMER_SERVICE),
        "turku": make_unit(code="turku", name="Turku"),
    }
    return units, {"cs.agent": make_user("cs.agent", units=[units["cs"]], full_name="Anna Agent"),
                   "turku.staff": make_user("turku.staff", units=[units["turku"]])}


@pytest.fixture
def case(org, make_case):
    return make_case(org[0]["cs"])


@pytest.fixture
def drawn(monkeypatch):
    """The ids of the events whose entries were drawn (not taken from the worker's cache)."""
    return record_drawn(monkeypatch, timeline_entries)


def entries(client, case):
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    return re.findall(r'<li class="event-(?!customer)[^"]*">.*?</li>', page, re.S)


def event_ids(case, kind=None):
    query = sa.select(CaseEvent.id).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
    if kind is not None:
        query = query.where(CaseEvent.kind == kind)
    return list(db.session.scalars(query))


def test_an_entry_is_drawn_once_and_a_new_event_adds_one(client, login, org, case, drawn):
    login("cs.agent")
    post_action(client, case, "take")
    post_action(client, case, "note", text="Soitin asiakkaalle.")
    first = entries(client, case)
    assert len(first) == 2 and "Soitin asiakkaalle." in first[1]
    assert drawn == event_ids(case)[1:]  # the receipt is drawn with the customer's message
    drawn.clear()
    assert entries(client, case) == first
    assert drawn == []
    post_action(client, case, "note", text="Toinen muistiinpano.")
    assert len(entries(client, case)) == 3
    assert drawn == event_ids(case)[-1:]


def test_names_text_and_language_are_drawn_anew(client, login, org, case, drawn):
    units, people = org
    login("cs.agent")
    post_action(client, case, "note", text="Alkuperäinen teksti.")
    post_action(client, case, "forward", unit=str(units["turku"].id), note="Teille.")
    assert any("Anna Agent forwarded the case from Customer service to Turku" in entry
               for entry in entries(client, case))
    units["turku"].name = "Åbo"
    people["cs.agent"].full_name = "Anna Aalto"
    db.session.commit()
    shown = entries(client, case)
    assert any("Anna Aalto forwarded the case from Customer service to Åbo" in e for e in shown)
    # Text changed after the fact (as erasing sensitive data does) shows as it is now.
    note = db.session.get(CaseEvent, event_ids(case, EventKind.NOTE)[0])
    note.text = "[poistettu]"
    db.session.commit()
    shown = entries(client, case)
    assert any("[poistettu]" in e for e in shown)
    assert not any("Alkuperäinen" in e for e in shown)
    people["cs.agent"].language = "fi"
    db.session.commit()
    assert any("siirsi" in e for e in entries(client, case))
