"""The inbox's bar, its filters with their counts and the unit's links: drawn once per worker for
what it shows (inboxes/bar.py), and drawn anew when any of that changes."""

import re

import pytest

from feedback_intranet.extensions import db
from feedback_intranet.inboxes import bar
from feedback_intranet.models import CaseStatus

from .conftest import record_drawn


@pytest.fixture
def drawn(monkeypatch):
    return record_drawn(monkeypatch, bar)


def shown(client, path):
    """{filter's label: count}, the current filter, and the unit's links, as the bar shows them."""
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'<div class="inbox-bar">.*?</div>', page, re.S)[0]
    counts = dict(re.findall(r'>([^<>]+) <span class="count">(\d+)</span></a>', found))
    current = re.findall(r'aria-current="page" class="current">([^<]+) <span', found)
    links = re.findall(r'<p class="unit-links">(.*?)</p>', found, re.S)[0]
    return {k: int(v) for k, v in counts.items()}, current, links


def test_drawn_once_for_a_list_and_again_for_another(client, login, service_team, make_case, drawn):
    unit, _agent, _lead = service_team
    make_case(unit, status=CaseStatus.NEW)
    login("cs.agent")
    counts, current, links = shown(client, "/inbox/cs")
    assert counts["Open"] == 1 and counts["Unassigned"] == 1 and current == ["Open"]
    assert "Needs attention" not in counts and "Workload" not in links
    assert 'href="/inbox/cs/export.csv?filter=open"' in links
    shown(client, "/inbox/cs")
    assert drawn == ["bar"]
    _counts, current, links = shown(client, "/inbox/cs?filter=unassigned&sort=customer")
    assert current == ["Unassigned"] and 'export.csv?filter=unassigned' in links
    assert drawn == ["bar", "bar"]


def test_drawn_again_when_a_count_or_the_language_changes(client, login, service_team, make_case, drawn):
    unit, agent, _lead = service_team
    make_case(unit, status=CaseStatus.NEW)
    login("cs.agent")
    assert shown(client, "/inbox/cs")[0]["Open"] == 1
    make_case(unit, status=CaseStatus.NEW)
    assert shown(client, "/inbox/cs")[0]["Open"] == 2 and len(drawn) == 2
    agent.language = "sv"
    db.session.commit()
    counts, _current, links = shown(client, "/inbox/cs")
    assert len(drawn) == 3 and counts["Öppna"] == 2 and counts["Ej tilldelade"] == 2
    assert "Ladda ner som CSV" in links


def test_a_team_lead_sees_the_leads_filters_and_the_workload(client, login, service_team, drawn):
    login("cs.agent")
    shown(client, "/inbox/cs")
    client.post("/logout")
    login("cs.lead")
    counts, _current, links = shown(client, "/inbox/cs")
    assert "Needs attention" in counts and 'href="/workload/cs"' in links
    assert drawn == ["bar", "bar"]  # the agent's bar is not the lead's
