"""Keeps the cases' sort keys (customer name, topic per language) true at every flush.

A case written through the ORM gets its keys again when what they come from changed; a
renamed topic rewrites its cases' keys in the same transaction. Writes past the ORM (the demo
loader, retention, masking again) set the keys themselves.
"""

import sqlalchemy as sa

from ..extensions import listen_to_sessions
from ..models import Case, Customer, Topic
from ..models.cases import TOPIC_SORT_LANGUAGES, sort_keys, topic_sort_key

_CASE_SOURCES = ("contact_name", "customer_id", "customer", "topic_id", "topic")
_TOPIC_NAMES = ("name", "name_fi", "name_sv")


def _changed(obj, attributes):
    state = sa.inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in attributes)


def _before_flush(session, _context, _instances):
    for obj in session.new:
        if isinstance(obj, Case):
            _refresh(session, obj)
    for obj in session.dirty:
        if isinstance(obj, Case) and _changed(obj, _CASE_SOURCES):
            _refresh(session, obj)
        elif isinstance(obj, Topic) and obj.id is not None and _changed(obj, _TOPIC_NAMES):
            session.execute(sa.update(Case).where(Case.topic_id == obj.id).values(
                {f"topic_sort_{language}": topic_sort_key(obj, language)
                 for language in TOPIC_SORT_LANGUAGES}
            ).execution_options(synchronize_session=False))


def _refresh(session, case):
    with session.no_autoflush:
        customer = _related(session, case, "customer", Customer)
        shown = case.contact_name or (customer.name if customer else "")
        for column, key in sort_keys(shown, _related(session, case, "topic", Topic)).items():
            setattr(case, column, key)


def _related(session, case, name, model):
    """The customer or topic the case names now: the object just set, else the one its id names
    (a relationship loaded earlier may still show the one before an id was changed)."""
    if sa.inspect(case).attrs[name].history.has_changes():
        return getattr(case, name)
    related_id = getattr(case, f"{name}_id")
    return session.get(model, related_id) if related_id is not None else None


def register():
    """Listen to every ORM session; called by the app factory, never twice."""
    listen_to_sessions(("before_flush", _before_flush))
