"""Searching cases: by reference, email, phone, customer number, and words of the message or name.

Full text runs on SQLite's FTS5 (a contentless-sync table kept current by
triggers) or PostgreSQL's full-text search (an expression GIN index), behind
`text_matches`. Any input is safe: words are extracted and quoted, never
passed through as query syntax.
"""

import re

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from .access import cases_visible_to, visible_case_ids_newest_first
from .models import Case, Customer
from .rules.phones import e164

RESULTS = 50
MAX_QUERY = 200
_WORD = re.compile(r"[^\W_]+")  # letters and digits: no operator of any query syntax
# A shorter word would match as a prefix of most words of every message ("k"): such words are left
# out of the text search, and a query of only those finds exact keys (a reference, a customer
# number, an email, a phone number) alone. The search page says so.
MIN_WORD = 3

# Every query word is a prefix ("kor" finds "korttini"). Without an index of its prefixes FTS5
# gathers the cases of every word that starts so (all of them, oldest to newest) before it can
# hand over the newest: 20-40 ms for a common word at a million cases. With one, a prefix of these
# lengths reads newest first and stops at the limit; a longer prefix matches few words, and
# those words are read whole.
PREFIX_LENGTHS = range(MIN_WORD, 11)
# Kept here so the migration and the test schema build exactly the same objects.
SQLITE_DDL = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS case_search USING fts5("
    "message, contact_name, content='feedback_case', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 0', "
    f"prefix='{' '.join(str(length) for length in PREFIX_LENGTHS)}')",
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


# PostgreSQL: the newest cases the user may see are read in order, each one's words checked (a
# few microseconds each); the index gives only whole lists of matches in no order, which is right
# for the rest.
RECENT_CASES = 3_000


def text_matches(dialect, query, visible, visible_ids):
    """A select of the ids of the newest cases (ids rise with receipt) among `visible` whose
    message or contact name contain all the words of `query`, at most RESULTS, or None when
    `query` has no words. `visible_ids`: the same cases as selects of ids, newest first
    (access.visible_case_ids_newest_first).

    SQLite reads its index newest first and stops at the limit. PostgreSQL's index has no
    order: the newest RECENT_CASES cases the user may see are read in order and tested one by
    one, which finds a common word at once; only if they hold too few matches does the index
    list the older matches.
    """
    words = _words(query)
    if not words:
        return None
    # Every word matches as a prefix too: Finnish inflects, so "kortti" finds "korttini".
    if dialect == "sqlite":
        match = " ".join('"' + word.replace('"', "") + '"*' for word in words)
        index = sa.table("case_search", sa.column("rowid"))
        return (sa.select(Case.id).join(index, index.c.rowid == Case.id)
                .where(sa.text("case_search MATCH :match").bindparams(match=match), visible)
                .order_by(index.c.rowid.desc()).limit(RESULTS))
    document = sa.func.to_tsvector(
        "simple", sa.func.coalesce(Case.message, "") + " " + sa.func.coalesce(Case.contact_name, ""))
    # Words are letters and digits only, so they cannot carry tsquery operators.
    matches = document.op("@@")(sa.func.to_tsquery("simple", " & ".join(f"{w}:*" for w in words)))
    recent = _newest(visible_ids, "recent")
    recent_matches = (sa.select(Case.id).join(recent, recent.c.id == Case.id).where(matches)
                      .order_by(recent.c.id.desc()).limit(RESULTS))
    oldest = _newest(visible_ids, "oldest_recent")
    # None when the recent part read nothing: then the older part is everything.
    before = sa.select(sa.func.min(oldest.c.id)).scalar_subquery()
    # "id + 0": no order to take from the primary key, so the planner lists the matches from
    # the full-text index instead of walking every older case.
    older_matches = (sa.select(Case.id)
                     .where(matches, visible, sa.or_(before.is_(None), Case.id < before))
                     .order_by((Case.id + 0).desc()).limit(RESULTS))
    # The older part runs only if the recent one found too few (an Append stops at the limit).
    both = sa.union_all(recent_matches, older_matches).subquery()
    return sa.select(both.c.id).limit(RESULTS)


def _newest(visible_ids, name):
    """The RECENT_CASES newest distinct ids of `visible_ids`, merged in order as they are read
    (a window over the merge drops repeats without gathering them all)."""
    merged = sa.union_all(*visible_ids).subquery(f"{name}_merged")
    previous = sa.func.lag(merged.c.id).over(order_by=merged.c.id.desc())
    marked = sa.select(merged.c.id, previous.label("previous")).subquery(f"{name}_marked")
    return (sa.select(marked.c.id).where(marked.c.previous.is_distinct_from(marked.c.id))
            .order_by(marked.c.id.desc()).limit(RECENT_CASES).subquery(name))


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
    words = text_matches(session.get_bind().dialect.name, query, cases_visible_to(user),
                         visible_case_ids_newest_first(user))
    if words is not None:
        selects.append(sa.select(Case).where(Case.id.in_(words)).order_by(Case.id.desc()))
    found = {}
    for select in selects:
        found.update((case.id, case) for case in session.scalars(
            select.where(cases_visible_to(user)).limit(RESULTS)
            .options(joinedload(Case.current_unit), joinedload(Case.topic),
                     joinedload(Case.customer))))
    return sorted(found.values(), key=lambda case: (case.received_at, case.id), reverse=True)[:RESULTS]
