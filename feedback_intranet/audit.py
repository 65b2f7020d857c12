"""Writing to the audit log, in the caller's transaction, and keeping it append-only.

`record` writes the event in the caller's transaction: it is committed with what it records, or
not at all.
An event keeps its kind and facts; rows from before the facts keep an English `detail`.
On PostgreSQL triggers refuse UPDATE, DELETE and TRUNCATE on the table, so not even a bug or
a stray statement in the app can rewrite history.
"""

import sqlalchemy as sa
from flask import has_request_context, request
from flask_login import current_user

from . import clock
from .extensions import db
from .models import AuditEvent, AuditKind

# The table's own INSERT, the same for every event (`record`).
_INSERT = AuditEvent.__table__.insert()
# The username of what an operator does on the server's command line (shown translated).
COMMAND_LINE = "(command line)"

POSTGRES_DDL = [
    "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP; END; "
    "$$ LANGUAGE plpgsql",
    "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event",
    "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
]
# TRUNCATE fires no row triggers: it has a statement trigger of its own (migration 0019).
POSTGRES_TRUNCATE_DDL = [
    "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event",
    "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()",
]
POSTGRES_TRUNCATE_DROP = ["DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event"]
POSTGRES_DROP = [*POSTGRES_TRUNCATE_DROP,
                 "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event",
                 "DROP FUNCTION IF EXISTS audit_event_append_only()"]


def install(connection):
    if connection.dialect.name == "postgresql":
        for statement in [*POSTGRES_DDL, *POSTGRES_TRUNCATE_DDL]:
            connection.execute(sa.text(statement))


def uninstall(connection):
    if connection.dialect.name == "postgresql":
        for statement in POSTGRES_DROP:
            connection.execute(sa.text(statement))


def record(kind, *, user=None, username=None, case=None, reference="", customer_id=None, **facts):
    """Write one event in the current transaction; the request gives the address and user.

    `reference` names a case that may not exist or may not be the user's to see. `facts` are
    JSON-able values without personal data (counts, ids, codes, a masked path), never a
    sentence: `admin.audit_texts` writes the event's sentence in the reader's language.
    """
    if user is None and has_request_context() and current_user and current_user.is_authenticated:
        user = current_user
    # An INSERT of its own rather than an object for the session's flush: every case page
    # writes one, and the unit of work took longer than the statement; an ORM INSERT with the
    # values written into it took longer again. On the session's connection: the session's own
    # execute has nothing to add to a table's INSERT but its cost.
    db.session.connection().execute(_INSERT, dict(
        at=clock.now(), kind=AuditKind(kind), user_id=user.id if user else None,
        username=(username if username is not None else user.username if user else "")[:64],
        address=(request.remote_addr or "")[:45] if has_request_context() else "",
        case_id=case.id if case else None,
        case_reference=(case.reference if case else reference)[:20],
        customer_id=customer_id if customer_id is not None else case.customer_id if case else None,
        facts=facts,
    ))
