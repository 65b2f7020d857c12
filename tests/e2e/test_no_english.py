"""A Finnish or Swedish reader reads no English: not a screen's words (the English msgids of the
catalogue), not a timeline, outbox or audit sentence, not a unit's or topic's English name.

Each page of the demo is read as its user sees it in Chromium (the body's visible text) and
searched for every English phrase; a phrase the language writes as English does (its own
translation holds it) and a short list of proper nouns are allowed."""

import pytest
import sqlalchemy as sa

from feedback_intranet.extensions import db

from .. import english

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def english_phrases():
    return english.english_phrases()


@pytest.fixture(scope="module")
def english_names(live_app):
    """{language: names} of units and topics whose English name the language does not use."""
    from feedback_intranet.models import Topic, Unit

    with live_app.app_context():
        named = [*db.session.scalars(sa.select(Unit)), *db.session.scalars(sa.select(Topic))]
        # A name that is also the other language's ("Turku") is no English.
        names = {language: {item.name for item in named
                            if item.name not in (item.name_in("fi"), item.name_in("sv"))}
                 for language in ("fi", "sv")}
        db.session.remove()
    return names


def visible_text(page):
    """The body's visible text, but for what is marked as written in another language (a reply
    template's own title, a language's own name)."""
    return page.evaluate("""() => {
        const body = document.body.cloneNode(true);
        const own = document.documentElement.lang;
        body.querySelectorAll('[lang]').forEach(e => { if (e.lang !== own) e.remove(); });
        document.documentElement.appendChild(body);
        const text = body.innerText;
        body.remove();
        return text;
    }""")


def demo(live_app, query):
    with live_app.app_context():
        value = db.session.execute(query).scalar()
        db.session.remove()
    return value


def richest_case(live_app):
    """The demo case whose timeline has the most kinds of events."""
    from feedback_intranet.models import Case, CaseEvent

    kinds = sa.func.count(sa.distinct(CaseEvent.kind))
    return demo(live_app, sa.select(Case.reference).join(CaseEvent)
                .group_by(Case.id, Case.reference).order_by(kinds.desc(), Case.id).limit(1))


STAFF_PAGES = {
    "cs.lead": ["/inbox/cs", "/my-cases", "/workload/cs", "/letters/cs", "/callbacks/cs",
                "/reports/", "/reports/promise", "/reports/volumes", "/reports/forwarding",
                "/reports/answer-time", "/profile", "/register-feedback"],
    "admin": ["/admin/", "/admin/units", "/admin/users", "/admin/topics", "/admin/routing-rules",
              "/admin/closing-days", "/admin/service-hours", "/admin/reply-templates",
              "/admin/texts", "/admin/outbox", "/admin/audit", "/admin/data-request"],
}


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_no_english_on_the_staff_pages(page, live_app, login, speaks, english_phrases,
                                       english_names, language):
    found = {}
    case = richest_case(live_app)
    for user, paths in STAFF_PAGES.items():
        speaks(user, language)
        login(user)
        for path in paths + ([f"/cases/{case}?timeline=all"] if user == "cs.lead" else []):
            response = page.goto(path)
            assert response.ok, (path, response.status)
            text = visible_text(page)
            seen = english.english_in(text, english_phrases[language] | english_names[language])
            if seen:
                found[path] = seen
    assert found == {}


def test_the_search_for_english_finds_it_in_english(page, login, speaks, english_phrases):
    """The check itself: an English reader's inbox is full of what the Finnish one must not show."""
    speaks("cs.lead", "en")
    login("cs.lead")
    page.goto("/inbox/cs")
    assert len(english.english_in(visible_text(page), english_phrases["fi"])) > 10
