"""Languages: staff see their own choice, the public form the customer's.

Staff pages use the user's preferred language (English by default). The
public form takes the language from its switcher (?lang=), then the
browser's Accept-Language, then Finnish. Times are always Helsinki time.
"""

from flask import current_app, has_request_context, request, session
from flask_login import current_user

LANGUAGES = ("fi", "sv", "en")
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
    return "en"


def select_timezone():
    return current_app.config["TIMEZONE"]


def get_locale_code():
    """The page's language as a code ("fi", "sv", "en")."""
    from flask_babel import get_locale

    return str(get_locale() or "en")
