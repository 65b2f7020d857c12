"""Searching cases: by reference, email, phone, customer number, and words of the message or name.

Full text runs on SQLite's FTS5 (a contentless-sync table kept current by
triggers) or PostgreSQL's full-text search (an expression GIN index), behind
`text_matches`. Any input is safe: words are extracted and quoted, never
passed through as query syntax.
"""

import re

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from .access import cases_visible_to
from .models import Case, Customer
from .rules.phones import e164

RESULTS = 50
MAX_QUERY = 200
_WORD = re.compile(r"[^\W_]+")  # letters and digits: no operator of any query syntax
# A shorter word would match as a prefix of most words of every message ("k"): such words are left
# out of the text search, and a query of only those finds exact keys (a reference, a customer
# number, an email, a phone number) alone. The search page says so.
MIN_WORD = 3

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
    return [word for word in _WORD.findall(query) if len(word) >= MIN_WORD][:12]


def too_short(query):
    """Whether `query` has no word long enough for the text search."""
    return bool(query.strip()) and not _words(query)


def text_matches(dialect, query):
    """A select of the cases whose message or contact name contain all the words of `query`,
    newest first (ids rise with receipt), or None when `query` has no words.

    The index is read newest first and stops at the limit, so a common name costs no more
    than a rare one.
    """
    words = _words(query)
    if not words:
        return None
    # Every word matches as a prefix too: Finnish inflects, so "kortti" finds "korttini".
    if dialect == "sqlite":
        match = " ".join('"' + word.replace('"', "") + '"*' for word in words)
        index = sa.table("case_search", sa.column("rowid"))
        return (sa.select(Case).join(index, index.c.rowid == Case.id)
                .where(sa.text("case_search MATCH :match").bindparams(match=match))
                .order_by(index.c.rowid.desc()))
    document = sa.func.to_tsvector(
        "simple", sa.func.coalesce(Case.message, "") + " " + sa.func.coalesce(Case.contact_name, ""))
    # Words are letters and digits only, so they cannot carry tsquery operators.
    tsquery = sa.func.to_tsquery("simple", " & ".join(f"{word}:*" for word in words))
    return sa.select(Case).where(document.op("@@")(tsquery)).order_by(Case.id.desc())


def search_cases(session, user, query):
    """The newest cases the user may see that match `query`, at most RESULTS of them."""
    query = " ".join(query.split())[:MAX_QUERY]
    if not query:
        return []
    # Each exact key reads its own index; the union stays small, so sorting it is cheap. One OR
    # across the columns would walk every case newest first looking for a match.
    keys = [sa.select(Case.id).where(Case.reference == query.upper()),
            sa.select(Case.id).where(Case.contact_email == query.lower()),
            sa.select(Case.id).join(Customer, Customer.id == Case.customer_id)
            .where(Customer.customer_number == query.upper())]
    phone = e164(query)
    if phone:
        keys.append(sa.select(Case.id).where(Case.contact_phone == phone))
    selects = [sa.select(Case).where(Case.id.in_(sa.union(*keys)))
               .order_by(Case.received_at.desc(), Case.id.desc())]
    words = text_matches(session.get_bind().dialect.name, query)
    if words is not None:
        selects.append(words)
    found = {}
    for select in selects:
        found.update((case.id, case) for case in session.scalars(
            select.where(cases_visible_to(user)).limit(RESULTS)
            .options(joinedload(Case.current_unit), joinedload(Case.topic),
                     joinedload(Case.customer))))
    return sorted(found.values(), key=lambda case: (case.received_at, case.id), reverse=True)[:RESULTS]
