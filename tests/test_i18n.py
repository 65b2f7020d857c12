"""feedback_intranet.i18n gives what flask_babel's functions give, for every text of the catalogues
in every language, forced locales included; it only looks the catalogue up once per request."""

from pathlib import Path

import flask_babel
import jinja2
import pytest
from babel.messages.pofile import read_po
from flask_babel import force_locale
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedback_intranet import i18n

TRANSLATIONS = Path(__file__).resolve().parent.parent / "feedback_intranet" / "translations"


def messages():
    """Every msgid of the Finnish catalogue (the Swedish one has the same): (context, id)."""
    with open(TRANSLATIONS / "fi" / "LC_MESSAGES" / "messages.po", "rb") as po:
        return [(message.context, message.id) for message in read_po(po) if message.id]


MESSAGES = messages()


def same(ours, theirs, *args):
    """The same text, or the same refusal (a plural text with variables besides the count)."""
    try:
        expected = theirs(*args)
    except KeyError as missing:
        with pytest.raises(KeyError, match=str(missing)):
            ours(*args)
        return True
    return ours(*args) == expected


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_every_text_as_flask_babel_translates_it(app, language):
    assert len(MESSAGES) > 500
    with app.test_request_context("/"), force_locale(language):
        for context, msgid in MESSAGES:
            if isinstance(msgid, tuple):
                singular, plural = msgid
                for num in (0, 1, 2, 5, 21):
                    assert same(i18n.ngettext, flask_babel.ngettext, singular, plural, num)
            elif context:
                assert i18n.pgettext(context, msgid) == flask_babel.pgettext(context, msgid)
                assert str(i18n.lazy_pgettext(context, msgid)) == flask_babel.pgettext(
                    context, msgid)
            else:
                assert i18n.gettext(msgid) == flask_babel.gettext(msgid)
                assert str(i18n.lazy_gettext(msgid)) == flask_babel.gettext(msgid)


def test_variables_are_filled_in_after_translating(app):
    with app.test_request_context("/"), force_locale("fi"):
        assert i18n.gettext("Next case") == "Seuraava asia"
        filled = i18n.gettext("%(unit)s (suggested)", unit="Turku")
        assert filled == flask_babel.gettext("%(unit)s (suggested)", unit="Turku")
        assert filled.startswith("Turku") and filled != "Turku (suggested)"
        assert i18n.gettext("100%% sure") == flask_babel.gettext("100%% sure") == "100%% sure"


def test_a_forced_locale_is_looked_up_for_itself_and_given_back(app):
    with app.test_request_context("/"), force_locale("fi"):
        assert i18n.gettext("Next case") == "Seuraava asia"
        with force_locale("sv"):
            assert i18n.gettext("Next case") == flask_babel.gettext("Next case") != "Next case"
            assert i18n.gettext("Next case") != "Seuraava asia"
        assert i18n.gettext("Next case") == "Seuraava asia"


def test_without_an_app_nothing_is_translated():
    assert i18n.gettext("Next case") == "Next case"
    assert i18n.gettext("%(n)s cases", n=3) == "3 cases"
    assert i18n.ngettext("%(num)d case", "%(num)d cases", 1) == "1 case"
    assert str(i18n.lazy_gettext("Next case")) == "Next case"


def test_the_catalogue_is_looked_up_once_per_request_and_locale(app, monkeypatch):
    looked_up = []

    def get_translations():
        looked_up.append(1)
        return flask_babel.get_translations()

    monkeypatch.setattr(i18n, "get_translations", get_translations)
    with app.test_request_context("/"), force_locale("fi"):
        for _ in range(100):
            i18n.gettext("Next case")
        with force_locale("sv"):
            i18n.gettext("Next case")
        i18n.gettext("Next case")
    assert len(looked_up) == 3


def jinja_reference(autoescape):
    """Jinja's own newstyle callables over the same catalogue: what templates translated with
    before theirs were replaced by ours."""
    env = jinja2.Environment(extensions=["jinja2.ext.i18n"], autoescape=autoescape)
    env.install_gettext_callables(
        gettext=lambda string: i18n.catalogue().ugettext(string),
        ngettext=lambda singular, plural, n: i18n.catalogue().ungettext(singular, plural, n),
        pgettext=lambda context, string: i18n.catalogue().upgettext(context, string),
        npgettext=lambda context, singular, plural, n: i18n.catalogue().unpgettext(
            context, singular, plural, n),
        newstyle=True)
    return env


def rendered(env, source, autoescape, **values):
    """The template's text and its type, or the error's type it stopped with."""
    template = env.from_string(("{% autoescape true %}" if autoescape else "{% autoescape false %}")
                               + source + "{% endautoescape %}")
    try:
        return template.render(**values)
    except (KeyError, ValueError, TypeError) as error:
        return type(error)


TEMPLATE_CALLS = {
    "gettext": "{{ _(msgid) }}|{{ gettext(msgid) }}",
    "pgettext": "{{ pgettext(context, msgid) }}",
    "ngettext": "{% for n in (0, 1, 2, 21) %}{{ ngettext(singular, plural, n) }}|{% endfor %}",
    "npgettext": "{% for n in (1, 5) %}{{ npgettext(context, singular, plural, n) }}|{% endfor %}",
}


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
@pytest.mark.parametrize("autoescape", [True, False])
def test_templates_translate_every_text_as_jinja_did(app, language, autoescape):
    reference = jinja_reference(autoescape)
    with app.test_request_context("/"), force_locale(language):
        for context, msgid in MESSAGES:
            if isinstance(msgid, tuple):
                calls = ["ngettext", "npgettext"] if context else ["ngettext"]
                values = {"singular": msgid[0], "plural": msgid[1], "context": context}
            else:
                calls = ["pgettext"] if context else ["gettext"]
                values = {"msgid": msgid, "context": context}
            for call in calls:
                ours = rendered(app.jinja_env, TEMPLATE_CALLS[call], autoescape, **values)
                assert ours == rendered(reference, TEMPLATE_CALLS[call], autoescape, **values)


# The app is only read: one for every example.
@settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.sampled_from("ab<&>'\"%()sd 1"), max_size=12),
       value=st.sampled_from(["Turku", "<b>", 3]), autoescape=st.booleans())
def test_any_text_and_variable_are_escaped_and_formatted_as_jinja_did(app, text, value,
                                                                       autoescape):
    reference = jinja_reference(autoescape)
    sources = ["{{ _(text) }}", "{{ _(text, n=value) }}", "{{ pgettext('c', text) }}",
               "{% trans v=value %}x{{ v }}%%{% endtrans %}", "{{ ngettext(text, text, 2) }}"]
    with app.test_request_context("/"), force_locale("fi"):
        for source in sources:
            ours = rendered(app.jinja_env, source, autoescape, text=text, value=value)
            assert ours == rendered(reference, source, autoescape, text=text, value=value)
