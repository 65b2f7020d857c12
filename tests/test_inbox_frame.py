"""The frame of an inbox page's table, its head and its pager: drawn once per worker for what it
shows (inboxes/frame.py), and drawn anew when any of that changes."""

import re
from datetime import timedelta

import pytest

from feedback_intranet.extensions import db
from feedback_intranet.inboxes import frame
from feedback_intranet.models import CaseStatus

from .conftest import DEFAULT_NOW, record_drawn


@pytest.fixture
def drawn(monkeypatch):
    return record_drawn(monkeypatch, frame)


def received(make_case, unit, days):
    """Cases received a day apart, oldest first, so the due dates order them."""
    return [make_case(unit, status=CaseStatus.NEW, received_at=DEFAULT_NOW - timedelta(days=n))
            for n in range(days, 0, -1)]


def table(client, path):
    """The caption, the sorting links, the select column and the pager's links of the page."""
    page = client.get(path).get_data(as_text=True)
    head = page[page.index('<table class="cases inbox-rows">'):page.index("<tbody>")]
    pager = re.search(r'<nav class="pager".*?</nav>', page, re.S)[0]
    return {
        "caption": re.search(r"<caption[^>]*>([^<]*)</caption>", head)[1],
        "sorts": re.findall(r'<a href="([^"]+)"', head),
        "select": 'class="col-select"' in head,
        "pager": dict((rel or label, href.replace("&amp;", "&")) for href, rel, label in
                      re.findall(r'<a href="([^"]+)"(?: rel="(\w+)")?>([^<]+)</a>', pager)),
        "rows": page.count('<td class="col-ref">'),
    }


def test_drawn_once_for_a_list_the_rows_between_read_anew(app, client, login, service_team,
                                                          make_case, drawn):
    app.config["INBOX_PAGE_SIZE"] = 2
    unit, _agent, _lead = service_team
    received(make_case, unit, 4)
    login("cs.agent")
    first = table(client, "/inbox/cs")
    assert first["caption"] == "Open cases in Customer service, sorted by Due"
    assert first["sorts"][0] == "/inbox/cs?filter=open&amp;sort=due&amp;order=desc"
    assert not first["select"] and first["rows"] == 2
    assert set(first["pager"]) == {"First", "next", "Last"}
    assert drawn == ["head", "foot"]
    # A new case moves the unit's stamp, so the table is put together again, yet its frame is
    # the same: the newest case comes last by due date, behind the same cursor.
    make_case(unit, status=CaseStatus.NEW)
    assert table(client, "/inbox/cs") == first and drawn == ["head", "foot"]
    # The next page has a pager of its own; its head is the first page's.
    second = table(client, first["pager"]["next"])
    assert set(second["pager"]) == {"First", "prev", "next", "Last"}
    assert drawn == ["head", "foot", "foot"]
    by_customer = table(client, "/inbox/cs?sort=customer&order=desc")
    assert by_customer["caption"].endswith("sorted by Customer")
    assert "sort=customer" in by_customer["pager"]["next"]
    assert drawn == ["head", "foot", "foot", "head", "foot"]


def test_drawn_again_for_another_language_or_a_renamed_unit(client, login, service_team,
                                                            make_case, drawn):
    unit, agent, _lead = service_team
    received(make_case, unit, 1)
    login("cs.agent")
    table(client, "/inbox/cs")
    agent.language = "sv"
    db.session.commit()
    assert (table(client, "/inbox/cs")["caption"]
            == "Ärenden i Customer service (Öppna), sorterade efter Förfaller")
    unit.name_sv = "Kundtjänst"
    db.session.commit()
    shown = table(client, "/inbox/cs")
    assert shown["caption"] == "Ärenden i Kundtjänst (Öppna), sorterade efter Förfaller"
    assert shown["pager"]["Första"] == "/inbox/cs?filter=open"
    # The head again for each; the pager, the same in the same language, for the language only.
    assert drawn == ["head", "foot", "head", "foot", "head"]


def test_a_team_leads_table_has_the_select_column_an_agents_has_not(
        client, login, service_team, make_case, drawn):
    unit, _agent, _lead = service_team
    received(make_case, unit, 1)
    login("cs.agent")
    assert not table(client, "/inbox/cs")["select"]
    client.post("/logout")
    login("cs.lead")
    assert table(client, "/inbox/cs")["select"]
    assert drawn == ["head", "foot", "head"]  # the agent's head is not the lead's
