"""The inbox list a user came from, kept in their session, for "Next case" on the case page."""

from flask import session, url_for

# {"unit": code, **the list's address arguments (filter, member, sort, order)}
LIST_KEY = "inbox_list"


def remember_list(unit_code, args):
    """Keep the inbox list in the session (written only when it changes)."""
    value = {"unit": unit_code, **args}
    if session.get(LIST_KEY) != value:
        session[LIST_KEY] = value


def next_case_path(reference):
    """Where "Next case" goes from the case `reference`, or None when no list is remembered."""
    return url_for("inboxes.next_case", reference=reference) if session.get(LIST_KEY) else None
