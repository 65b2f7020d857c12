"""feedback_intranet.i18n gives what flask_babel's functions give, for every text of the catalogues
in every language, forced locales included; it only looks the catalogue up once per request."""

from pathlib import Path

import flask_babel
import pytest
from babel.messages.pofile import read_po
from flask_babel import force_locale

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
