"""flask_babel's gettext functions, the same texts by the same rules, with the catalogue looked up
once per request and locale.

flask_babel finds the locale and its catalogue again on every call, about 5 µs; a case page
translates a few hundred labels, titles and messages. Its other functions (get_locale,
force_locale, the formats) are used from flask_babel itself.
"""

from babel.support import NullTranslations
from flask import g, has_app_context
from flask_babel import get_translations
from flask_babel.speaklater import LazyString

_NONE = NullTranslations()


def catalogue():
    """The translations of the locale in effect, looked up once per request (or app context) and
    locale. A forced locale (an email in the customer's language) is another locale object, so
    it is looked up for itself; without an app context nothing is translated, as in
    flask_babel."""
    if not has_app_context():
        return _NONE
    store = g._get_current_object()
    memo = getattr(store, "_translations_memo", None)
    locale = getattr(getattr(store, "_flask_babel", None), "babel_locale", None)
    if memo is None or locale is None or memo[0] is not locale:
        translations = get_translations()
        locale = store._flask_babel.babel_locale
        store._translations_memo = memo = (locale, translations)
    return memo[1]


def gettext(string, **variables):
    translated = catalogue().ugettext(string)
    return translated % variables if variables else translated


def ngettext(singular, plural, num, **variables):
    variables.setdefault("num", num)
    return catalogue().ungettext(singular, plural, num) % variables


def pgettext(context, string, **variables):
    translated = catalogue().upgettext(context, string)
    return translated % variables if variables else translated


def lazy_gettext(string, **variables):
    return LazyString(gettext, string, **variables)


def lazy_pgettext(context, string, **variables):
    return LazyString(pgettext, context, string, **variables)
