"""Searching cases: by reference, email, phone, customer number, and words of the message or name.

Full text runs on SQLite's FTS5 (a contentless-sync table kept current by
triggers) or PostgreSQL's full-text search (an expression GIN index), behind
`text_condition`. Any input is safe: words are extracted and quoted, never
passed through as query syntax.
"""

import re

import phonenumbers
import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from .access import member_unit_ids
from .models import Case, CasePastUnit, Customer

RESULTS = 50
MAX_QUERY = 200
_WORD = re.compile(r"\w+", re.UNICODE)

# Kept here so the migration and the test schema build exactly the same objects.
SQLITE_DDL = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS case_search USING fts5("
    "message, contact_name, content='feedback_case', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER IF NOT EXISTS case_search_insert AFTER INSERT ON feedback_case BEGIN "
    "INSERT INTO case_search(rowid, message, contact_name) "
    "VALUES (new.id, new.message, new.contact_name); END",
    "CREATE TRIGGER IF NOT EXISTS case_search_delete AFTER DELETE ON feedback_case BEGIN "
    "INSERT INTO case_search(case_search, rowid, message, contact_name) "
    "VALUES ('delete', old.id, old.message, old.contact_name); END",
    "CREATE TRIGGER IF NOT EXISTS case_search_update AFTER UPDATE OF message, contact_name "
    "ON feedback_case BEGIN "
    "INSERT INTO case_search(case_search, rowid, message, contact_name) "
    "VALUES ('delete', old.id, old.message, old.contact_name); "
    "INSERT INTO case_search(rowid, message, contact_name) "
    "VALUES (new.id, new.message, new.contact_name); END",
    "INSERT INTO case_search(case_search) VALUES ('rebuild')",
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS case_search_insert",
               "DROP TRIGGER IF EXISTS case_search_delete",
               "DROP TRIGGER IF EXISTS case_search_update", "DROP TABLE IF EXISTS case_search"]
_PG_DOCUMENT = "to_tsvector('simple', coalesce(message, '') || ' ' || coalesce(contact_name, ''))"
POSTGRES_DDL = [f"CREATE INDEX IF NOT EXISTS ix_feedback_case_fulltext ON feedback_case "
                f"USING gin ({_PG_DOCUMENT})"]
POSTGRES_DROP = ["DROP INDEX IF EXISTS ix_feedback_case_fulltext"]
# Objects the schema comparison must not take for drift: they are not in the models.
NOT_IN_MODELS = {"case_search", "ix_feedback_case_fulltext"}


def install(connection):
    for statement in SQLITE_DDL if connection.dialect.name == "sqlite" else POSTGRES_DDL:
        connection.execute(sa.text(statement))


def uninstall(connection):
    for statement in SQLITE_DROP if connection.dialect.name == "sqlite" else POSTGRES_DROP:
        connection.execute(sa.text(statement))


def is_search_object(name):
    return bool(name) and (name in NOT_IN_MODELS or name.startswith("case_search"))


def _words(query):
    return _WORD.findall(query)[:12]


def text_condition(dialect, query):
    """Cases whose message or contact name contain all the words of `query`."""
    words = _words(query)
    if not words:
        return None
    if dialect == "sqlite":
        match = " ".join('"' + word.replace('"', "") + '"' for word in words)
        return Case.id.in_(sa.select(sa.column("rowid")).select_from(sa.table("case_search"))
                           .where(sa.text("case_search MATCH :match").bindparams(match=match)))
    document = sa.func.to_tsvector(
        "simple", sa.func.coalesce(Case.message, "") + " " + sa.func.coalesce(Case.contact_name, ""))
    return document.op("@@")(sa.func.plainto_tsquery("simple", " ".join(words)))


def _phone(query):
    try:
        number = phonenumbers.parse(query, "FI")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def visible_to(user):
    """Cases the user may read: their units' own, ones they handed on, form cases they received."""
    if user.is_admin:
        return sa.true()
    units = member_unit_ids(user) or {-1}
    return sa.or_(
        Case.current_unit_id.in_(units),
        Case.service_unit_id.in_(units),
        Case.id.in_(sa.select(CasePastUnit.case_id).where(CasePastUnit.unit_id.in_(units))),
    )


def search_cases(session, user, query):
    """The newest cases the user may see that match `query`, at most RESULTS of them."""
    query = " ".join(query.split())[:MAX_QUERY]
    if not query:
        return []
    conditions = [Case.reference == query.upper(), Case.contact_email == query.lower(),
                  Case.customer_id.in_(sa.select(Customer.id).where(
                      Customer.customer_number == query.upper()))]
    phone = _phone(query)
    if phone:
        conditions.append(Case.contact_phone == phone)
    text = text_condition(session.get_bind().dialect.name, query)
    if text is not None:
        conditions.append(text)
    return list(session.scalars(
        sa.select(Case).where(sa.or_(*conditions), visible_to(user))
        .options(joinedload(Case.current_unit), joinedload(Case.topic),
                 joinedload(Case.customer))
        .order_by(Case.received_at.desc(), Case.id.desc()).limit(RESULTS)
    ))
