"""The rows of my cases and of search results: each drawn once per worker for what it shows
(cases/list_rows.py), and drawn anew when any of that changes."""

import re
from datetime import timedelta

import pytest

from feedback_intranet.cases import list_rows
from feedback_intranet.extensions import db
from feedback_intranet.models import CaseStatus, UnitKind

from .conftest import record_drawn


@pytest.fixture
def org(make_unit, make_user):
    cs = make_unit(code="cs", name="Customer service", kind=UnitKind.CUSTOMER_SERVICE)
    return cs, make_user("cs.agent", units=[cs])


@pytest.fixture
def held(org, make_case):
    unit, agent = org
    return [make_case(unit, status=CaseStatus.ASSIGNED, assignee=agent,
                      contact_name=f"Asiakas {n}") for n in range(3)]


def rows(client, path):
    return re.findall(r"<tr>\s*<td class=\"due\">.*?</tr>", client.get(path).get_data(as_text=True),
                      re.S)


def test_a_row_is_drawn_once_and_again_when_what_it_shows_changes(client, login, org, held,
                                                                 topic, clock, monkeypatch):
    drawn = record_drawn(monkeypatch, list_rows)
    login("cs.agent")
    first = rows(client, "/my-cases")
    assert len(first) == 3 and len(drawn) == 3
    # The same rows in a search: the same cases, badges and language.
    assert len(rows(client, "/cases/search?q=Asiakas")) == 3 and len(drawn) == 3
    held[0].contact_name = "Uusi Nimi"
    topic.name = "Payment cards"
    db.session.commit()
    again = rows(client, "/my-cases")
    assert len(drawn) == 6  # the topic is on every row
    assert any("Uusi Nimi" in row for row in again)
    assert all("Payment cards" in row and "Cards<" not in row for row in again)
    # The next day moves every due-date badge.
    clock.advance(timedelta(days=1))
    assert rows(client, "/my-cases") != again and len(drawn) == 9


def test_a_row_follows_the_readers_language(client, login, org, held, monkeypatch):
    drawn = record_drawn(monkeypatch, list_rows)
    login("cs.agent")
    english = rows(client, "/my-cases")
    org[1].language = "sv"
    db.session.commit()
    swedish = rows(client, "/my-cases")
    assert len(drawn) == 6 and swedish != english
    assert all("E-post" in row for row in swedish)
