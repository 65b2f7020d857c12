"""Languages: staff see their own choice, the public form the customer's.

Staff pages use the user's preferred language (English by default), and before the login the
browser's (Accept-Language), else English. The
public form takes the language from its switcher (?lang=), then the
browser's Accept-Language, then Finnish. Times are always Helsinki time.
"""

from flask import current_app, has_request_context, request, session
from flask_login import current_user

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
    """Templates translate through `i18n.catalogue` (the same catalogs flask_babel reads)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda string: catalogue().ugettext(string),
        ngettext=lambda singular, plural, n: catalogue().ungettext(singular, plural, n),
        pgettext=lambda context, string: catalogue().upgettext(context, string),
        npgettext=lambda context, singular, plural, n: catalogue().unpgettext(
            context, singular, plural, n),
        newstyle=True,
    )


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
