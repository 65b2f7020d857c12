"""Finnish and Swedish are complete: every string of every template and module is translated."""

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "feedback_intranet" / "translations"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None,
            "N_": None, "pgettext": ((1, "c"), 2), "lazy_pgettext": ((1, "c"), 2),
            "npgettext": ((1, "c"), 2, 3)}
METHODS = [("feedback_intranet/**.py", "python"), ("templates/**.html", "jinja2"),
           ("templates/**.txt", "jinja2")]
# The same in every language: names, codes, and words Finnish and Swedish borrow as they are.
SAME_IN_ALL = {"Suomi", "Svenska", "English", "FINE", "PDF", "%(name)s", "—", "OK", "Email"}
# Words one language writes as English does.
SAME_IN = {"fi": set(), "sv": {"Administration"}}


def source_messages():
    """Every (context, msgid) of the source: the same words in two contexts are two messages."""
    ids = set()
    for _filename, _lineno, message, _comments, context in extract_from_dir(
        str(ROOT), METHODS, keywords=KEYWORDS
    ):
        ids.add((context, message[0] if isinstance(message, tuple) else message))
    return ids


@pytest.fixture(scope="module")
def in_source():
    return source_messages()


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_every_string_is_translated(language, in_source):
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalog = read_po(handle, locale=language)
    translated = {(message.context,
                   message.id if isinstance(message.id, str) else message.id[0]): message
                  for message in catalog if message.id}
    missing = sorted(in_source - set(translated))
    assert missing == [], f"not in the {language} catalogue (run pybabel update): {missing[:20]}"
    problems = []
    for key, message in translated.items():
        if key not in in_source:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            problems.append(f"fuzzy: {key}")
        elif not all(strings):
            problems.append(f"empty: {key}")
        elif strings[0] == key[1] and key[1] not in SAME_IN_ALL | SAME_IN[language]:
            problems.append(f"same as English: {key}")
    assert problems == [], "\n".join(problems[:30])


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_the_compiled_catalogue_matches_the_source(language):
    folder = TRANSLATIONS / language / "LC_MESSAGES"
    def plain(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    with open(folder / "messages.po", "rb") as handle:
        po = {(m.context, plain(m.id)): plain(m.string) for m in read_po(handle, locale=language)
              if m.id and not m.fuzzy}
    with open(folder / "messages.mo", "rb") as handle:
        # Babel's read_mo leaves a message's context as bytes.
        mo = {(m.context.decode() if isinstance(m.context, bytes) else m.context, plain(m.id)):
              plain(m.string) for m in read_mo(handle) if m.id}
    assert mo == po, "run: pybabel compile -d feedback_intranet/translations"


@pytest.mark.parametrize(
    ("language", "expected"),
    [("fi", "Anna palautetta"), ("sv", "Ge respons"), ("en", "Give feedback")],
)
def test_the_public_form_speaks_the_chosen_language(client, bank, language, expected):
    page = client.get(f"/feedback?lang={language}").get_data(as_text=True)
    assert f'<html lang="{language}">' in page
    assert expected in page
    # The choice is remembered for the confirmation page.
    assert f'<html lang="{language}">' in client.get("/feedback").get_data(as_text=True)


def test_without_a_choice_the_browser_language_then_finnish(app, bank):
    client = app.test_client()
    assert '<html lang="sv">' in client.get(
        "/feedback", headers={"Accept-Language": "sv-FI,sv;q=0.9"}).get_data(as_text=True)
    assert '<html lang="fi">' in app.test_client().get(
        "/feedback", headers={"Accept-Language": "de"}).get_data(as_text=True)


@pytest.mark.parametrize(("language", "word"), [("fi", "Saapuneet"), ("sv", "Inkorgar")])
def test_staff_see_their_own_language(client, login, make_user, units, language, word):
    from feedback_intranet.extensions import db

    user = make_user("cs.agent", units=[units["cs"]])
    user.language = language
    db.session.commit()
    login("cs.agent")
    page = client.get("/inbox/cs").get_data(as_text=True)
    assert f'<html lang="{language}">' in page and word in page


def test_topics_are_offered_in_the_customers_language(client, bank):
    topic = bank["topics"]["cards"]
    topic.name_fi, topic.name_sv = "Kortit", "Kort"
    from feedback_intranet.extensions import db

    db.session.commit()
    assert ">Kortit</option>" in client.get("/feedback?lang=fi").get_data(as_text=True)
    assert ">Kort</option>" in client.get("/feedback?lang=sv").get_data(as_text=True)
    assert ">Cards</option>" in client.get("/feedback?lang=en").get_data(as_text=True)


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_the_key_staff_pages_render_in_each_language(app, client, login, make_user, units,
                                                     make_case, language):
    from flask_babel import force_locale, gettext

    from feedback_intranet.extensions import db

    lead = make_user("cs.lead", lead_of=[units["cs"]])
    lead.language = language
    db.session.commit()
    case = make_case(units["cs"])
    with app.test_request_context(), force_locale(language):
        expected = {word: gettext(word) for word in ("My cases", "Timeline", "Workload",
                                                     "No calls to make.", "Log out")}
    assert all(expected[word] != word for word in expected)
    login("cs.lead")
    for path in ("/inbox/cs", f"/cases/{case.reference}", "/callbacks/cs", "/letters/cs",
                 "/workload/cs", "/my-cases", "/profile", "/reports/",
                 f"/cases/search?q={case.reference}"):
        response = client.get(path)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, path
        assert f'<html lang="{language}">' in page, path
        assert expected["My cases"] in page and expected["Log out"] in page, path
    assert expected["Timeline"] in client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert expected["No calls to make."] in client.get("/callbacks/cs").get_data(as_text=True)


def test_templates_follow_a_locale_forced_for_one_text(app):
    """Templates look their catalog up once per request and locale (web.locale): a text forced
    into another language (an email in the customer's) is in that language, and the page around
    it stays in its own."""
    from flask import render_template_string
    from flask_babel import force_locale

    text = "{{ _('Yes') }}"
    with app.test_request_context("/feedback?lang=fi"):
        before = render_template_string(text)
        with force_locale("sv"):
            forced = render_template_string(text)
        after = render_template_string(text)
    assert (before, forced, after) == ("Kyllä", "Ja", "Kyllä")
