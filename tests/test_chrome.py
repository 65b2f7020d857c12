"""The staff pages' header and the date picker's texts: drawn once per worker for what they show
(web/chrome.py), with each view's search words and CSRF token written in fresh."""

import re
from datetime import timedelta

import pytest

from feedback_intranet.extensions import db
from feedback_intranet.models import CaseStatus, UnitKind
from feedback_intranet.web import chrome

from .conftest import PASSWORD, record_drawn


@pytest.fixture
def org(make_unit, make_user):
    cs = make_unit(code="cs", name="Customer service", kind=UnitKind.CUSTOMER_SERVICE)
    return cs, make_user("cs.agent", units=[cs], full_name="Aino Agentti")


@pytest.fixture
def drawn(monkeypatch):
    return record_drawn(monkeypatch, chrome)


def header(page):
    return re.search(r'<header class="topbar">.*?</header>', page, re.S)[0]


def logout_token(page):
    return re.search(r'action="/logout">\s*<input type="hidden" name="csrf_token" value="([^"]*)"',
                     page)[1]


def view(client, path):
    reply = client.get(path)
    assert reply.status_code == 200
    return reply.get_data(as_text=True)


def test_drawn_once_with_each_views_search_words(client, login, org, drawn):
    login("cs.agent")
    first = view(client, "/my-cases")
    assert drawn == ["header", "date picker"]
    assert "Aino Agentti" in header(first) and 'name="q" type="search" value=""' in first
    searched = view(client, '/cases/search?q=<b>"Aino"%26')
    assert drawn == ["header", "date picker"]
    # The words as typed, escaped, in the search box of the search page only.
    assert 'value="&lt;b&gt;&#34;Aino&#34;&amp;"' in header(searched)
    assert 'value=""' in header(view(client, "/my-cases"))
    assert "\x00" not in searched


def test_each_session_gets_its_own_token_in_the_shared_header(app, client, login, org, drawn,
                                                              monkeypatch):
    login("cs.agent")  # without a token: CSRF is checked from here on
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    other = app.test_client()
    login_page = other.get("/login").get_data(as_text=True)
    token = login_page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    other.post("/login", data={"csrf_token": token, "username": "cs.agent", "password": PASSWORD})
    mine, theirs = view(client, "/my-cases"), view(other, "/my-cases")
    assert drawn.count("header") == 1
    assert logout_token(mine) and logout_token(theirs) and logout_token(mine) != logout_token(theirs)
    # The token written in is one the logout accepts.
    reply = other.post("/logout", data={"csrf_token": logout_token(theirs)})
    assert reply.status_code == 302
    assert other.get("/my-cases").status_code == 302  # logged out: to the login page


def test_drawn_again_when_what_it_shows_changes(client, login, org, make_case, drawn):
    unit, agent = org
    login("cs.agent")
    view(client, "/my-cases")
    agent.full_name = "Aino Uusinimi"
    db.session.commit()
    assert "Aino Uusinimi" in header(view(client, "/my-cases")) and drawn.count("header") == 2
    agent.language = "fi"
    db.session.commit()
    finnish = view(client, "/my-cases")
    assert drawn.count("header") == 3 and "Omat asiat" in header(finnish)
    assert drawn.count("date picker") == 2 and 'data-months="Tammikuu|' in finnish
    agent.is_admin = True
    db.session.commit()
    assert "/admin/" in header(view(client, "/my-cases")) and drawn.count("header") == 4
    # In the administration its link says where the reader is.
    assert 'aria-current="page">Ylläpito' in header(view(client, "/admin/"))
    assert drawn.count("header") == 5


def test_a_team_leads_attention_count_is_drawn_as_it_moves(client, login, make_unit, make_user,
                                                          make_case, clock, drawn):
    cs = make_unit(code="cs", name="Customer service", kind=UnitKind.CUSTOMER_SERVICE)
    make_user("cs.lead", lead_of=[cs])

    def overdue():
        case = make_case(cs, status=CaseStatus.NEW, received_at=clock() - timedelta(days=30))
        case.due_date = case.effective_due_date = clock.moment.date() - timedelta(days=1)
        db.session.commit()

    overdue()
    login("cs.lead")
    counted = re.compile(r'class="attention" href="/inbox/cs\?filter=attention">Needs attention '
                         r'<span class="count">(\d+)</span>')
    assert counted.search(view(client, "/my-cases"))[1] == "1"
    overdue()
    assert counted.search(view(client, "/my-cases"))[1] == "2"
    assert drawn.count("header") == 2


def test_the_date_picker_follows_the_day(client, login, org, clock, drawn):
    login("cs.agent")
    today = re.search(r'data-today="([^"]+)"', view(client, "/my-cases"))[1]
    view(client, "/my-cases")
    assert drawn.count("date picker") == 1
    clock.advance(timedelta(days=1))
    tomorrow = re.search(r'data-today="([^"]+)"', view(client, "/my-cases"))[1]
    assert tomorrow != today and drawn.count("date picker") == 2


def test_a_page_before_logging_in_has_the_brand_only(client, org, drawn):
    page = view(client, "/login")
    assert 'class="brand"' in header(page) and "<nav" not in header(page)
    assert "datepicker-texts" not in page and drawn == []
