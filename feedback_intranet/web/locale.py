"""Languages: staff see their own choice, the public form the customer's.

Staff pages use the user's preferred language (English by default), and before the login the
browser's (Accept-Language), else English. The
public form takes the language from its switcher (?lang=), then the
browser's Accept-Language, then Finnish. Times are always Helsinki time.
"""

from flask import current_app, has_request_context, request, session
from flask_login import current_user
from jinja2 import pass_eval_context
from markupsafe import Markup

from .. import clock
from ..i18n import catalogue
from ..rules.dates import format_date

LANGUAGES = ("fi", "sv", "en")
# The public pages' language switch: each language named in itself.
PUBLIC_LANGUAGES = (("fi", "Suomi"), ("sv", "Svenska"), ("en", "English"))
PUBLIC_SESSION_KEY = "public_language"


def is_public_page():
    return request.path.startswith("/feedback")


def public_language():
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        session[PUBLIC_SESSION_KEY] = chosen
        return chosen
    if session.get(PUBLIC_SESSION_KEY) in LANGUAGES:
        return session[PUBLIC_SESSION_KEY]
    return request.accept_languages.best_match(LANGUAGES) or "fi"


def select_locale():
    # Workers and commands have no request: they use the default (English) for staff text.
    if not has_request_context():
        return None
    if is_public_page():
        return public_language()
    if current_user and current_user.is_authenticated:
        return str(current_user.language)
    # Before logging in (the login page and what it says about the directory): the browser's.
    return request.accept_languages.best_match(LANGUAGES) or "en"


def select_timezone():
    return current_app.config["TIMEZONE"]


def get_locale_code():
    """The page's language as a code ("fi", "sv", "en")."""
    from flask_babel import get_locale

    return str(get_locale() or "en")


def install_template_gettext(app):
    """Templates translate through `i18n.catalogue` (the same catalogs flask_babel reads), by Jinja's
    newstyle rules: in an HTML template the text is marked safe, then it is formatted with its
    variables ("%%" is a percent sign even without any). Jinja's own callables reach the catalogue
    through three nested template calls: 11 µs a text, and a case page translates sixty."""
    env = app.jinja_env
    env.newstyle_gettext = True  # {% trans %} passes its variables as keywords
    env.globals.update(gettext=_gettext, _=_gettext, ngettext=_ngettext, pgettext=_pgettext,
                       npgettext=_npgettext)


def _formatted(eval_ctx, text, variables):
    if eval_ctx.autoescape:
        text = Markup(text)  # nosec B704 - a catalogue text, as Jinja marks it; variables are escaped
    return text % variables if variables or "%" in text else text


@pass_eval_context
def _gettext(eval_ctx, string, /, **variables):
    return _formatted(eval_ctx, catalogue().ugettext(string), variables)


@pass_eval_context
def _ngettext(eval_ctx, singular, plural, num, /, **variables):
    variables.setdefault("num", num)
    return _formatted(eval_ctx, catalogue().ungettext(singular, plural, num), variables)


@pass_eval_context
def _pgettext(eval_ctx, context, string, /, **variables):
    variables.setdefault("context", context)
    return _formatted(eval_ctx, catalogue().upgettext(context, string), variables)


@pass_eval_context
def _npgettext(eval_ctx, context, singular, plural, num, /, **variables):
    variables.setdefault("context", context)
    variables.setdefault("num", num)
    return _formatted(eval_ctx, catalogue().unpgettext(context, singular, plural, num), variables)


def calendar_names():
    """Month and weekday names (Monday first) in the page's language, for the date picker:
    months as calendar headings write them (Joulukuu, December), weekdays short and whole;
    and today in the bank's time zone, which the browser's clock may not keep."""
    from babel.dates import get_day_names, get_month_names

    locale = get_locale_code()
    months = get_month_names("wide", "stand-alone", locale)
    short = get_day_names("abbreviated", "stand-alone", locale)
    whole = get_day_names("wide", "stand-alone", locale)
    return {
        "months": "|".join(months[number][:1].upper() + months[number][1:] for number in range(1, 13)),
        "weekdays": "|".join(short[number] for number in range(7)),
        "weekdays_long": "|".join(whole[number] for number in range(7)),
        "today": format_date(clock.today()),
    }
