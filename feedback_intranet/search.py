"""Searching cases: by reference, email, phone, customer number, and words of the message or name.

Full text runs on SQLite's FTS5 (a contentless table of each case's words and units, kept
current by triggers) or PostgreSQL's full-text search (a GIN index of the words' prefixes), behind
`text_matches`. Any input is safe: words are extracted and quoted, never
passed through as query syntax.
"""

import math

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from .access import cases_visible_in, units_seen_by, visible_case_ids_newest_first
from .cases.queries import listed_cases
from .models import Case, Customer
from .rules.phones import e164

RESULTS = 50
MAX_QUERY = 200
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


def _sqlite_units_of(case, past=""):
    """SQLite: the units that may see the case `case` (a table or a trigger's NEW or OLD) as
    words of its index, "u<id>" in order: its holder, its receiving unit and its past units (with
    `past` added to their condition)."""
    return (f"(SELECT group_concat('u' || unit, ' ') FROM (SELECT {case}.current_unit_id AS unit "  # nosec B608
            f"UNION SELECT {case}.service_unit_id UNION SELECT unit_id FROM case_past_unit "
            f"WHERE case_past_unit.case_id = {case}.id {past} ORDER BY 1))")


def _sqlite_index(verb, case, past=""):
    """SQLite: the case `case`'s words and units written to (verb 'insert') or taken out of
    ('delete') the index. FTS5 takes a row out only by its words as they went in: its units are
    read from the state they went in with (`past` says how the past units then differed)."""
    columns, units = "message, contact_name, units", _sqlite_units_of(case, past)
    if verb == "insert":
        return (f"INSERT INTO case_search(rowid, {columns}) "  # nosec B608
                f"SELECT {case}.id, {case}.message, {case}.contact_name, {units}")
    return (f"INSERT INTO case_search(case_search, rowid, {columns}) "  # nosec B608
            f"SELECT 'delete', {case}.id, {case}.message, {case}.contact_name, {units}")


# Beside its words, SQLite's index keeps as words of a column of their own the units that may see
# each case, so a branch's search asks for its own units' matches only: its search for a name on
# 32 000 cases walked them newest first, checking each, to find its 50 (52 ms at a million cases).
# The table keeps no text of its own (contentless); triggers write each case in as it changes
# and take it out by its words as they went in. The past units have triggers of their own,
# which the migrations keep through the copies SQLite makes of the case table
# (migrations/env.py: legacy_alter_table).


def _sqlite_past_unit_changed(row, before):
    """SQLite: the case of the past unit `row` (a trigger's NEW or OLD) written again, taken out
    with its past units as they were (`before`, added to their condition) and put back."""
    case = f"FROM feedback_case WHERE feedback_case.id = {row}.case_id"
    return (f"{_sqlite_index('delete', 'feedback_case', before)} {case}; "
            f"{_sqlite_index('insert', 'feedback_case')} {case};")


SQLITE_DDL = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS case_search USING fts5("
    "message, contact_name, units, content='', "
    "tokenize='unicode61 remove_diacritics 0', "
    f"prefix='{' '.join(str(length) for length in PREFIX_LENGTHS)}')",
    "CREATE TRIGGER IF NOT EXISTS case_search_insert AFTER INSERT ON feedback_case BEGIN "
    f"{_sqlite_index('insert', 'new')}; END",
    "CREATE TRIGGER IF NOT EXISTS case_search_delete AFTER DELETE ON feedback_case BEGIN "
    f"{_sqlite_index('delete', 'old')}; END",
    "CREATE TRIGGER IF NOT EXISTS case_search_update AFTER UPDATE OF message, contact_name, "
    "current_unit_id, service_unit_id ON feedback_case BEGIN "
    f"{_sqlite_index('delete', 'old')}; {_sqlite_index('insert', 'new')}; END",
    "CREATE TRIGGER IF NOT EXISTS case_search_past_insert AFTER INSERT ON case_past_unit BEGIN "
    f"{_sqlite_past_unit_changed('new', 'AND unit_id <> new.unit_id')} END",
    "CREATE TRIGGER IF NOT EXISTS case_search_past_delete AFTER DELETE ON case_past_unit BEGIN "
    f"{_sqlite_past_unit_changed('old', 'UNION SELECT old.unit_id')} END",
    # A past unit is added or taken away, never changed: a change could not be followed.
    "CREATE TRIGGER IF NOT EXISTS case_search_past_update BEFORE UPDATE ON case_past_unit BEGIN "
    "SELECT RAISE(ABORT, 'a past unit is added or removed, never changed'); END",
    "INSERT INTO case_search(case_search) VALUES ('delete-all')",
    f"{_sqlite_index('insert', 'feedback_case')} FROM feedback_case",
    # Built in one go, the index is many segments, which FTS5 merges a little at each later
    # write: a forward's commit then took 20-50 ms at a million cases one time in thirty (1-2 ms
    # otherwise). Merged into one here (4 s), such merges are rare.
    "INSERT INTO case_search(case_search) VALUES ('optimize')",
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS case_search_insert",
               "DROP TRIGGER IF EXISTS case_search_delete",
               "DROP TRIGGER IF EXISTS case_search_update",
               "DROP TRIGGER IF EXISTS case_search_past_insert",
               "DROP TRIGGER IF EXISTS case_search_past_delete",
               "DROP TRIGGER IF EXISTS case_search_past_update",
               "DROP TABLE IF EXISTS case_search"]
# PostgreSQL's parser reads "FB-2026-000123" as a word and two negative numbers ("-2026"), which no
# query word finds: its document is split at hyphens, as SQLite's tokenizer and the query's words
# are (_document is the same for the queries).
_PG_DOCUMENT = "translate(coalesce(message, '') || ' ' || coalesce(contact_name, ''), '-', ' ')"
# Beside the words, the index keeps the units that may see each case, so a search lists only
# the matches the user may see: a branch's "Virtanen" read 11 000 matches of every unit to keep
# 56 (25 ms), and a name on 20 000 cases none of which the user may see took 320 ms. The units are
# a column of PostgreSQL's own (not in the models), kept by triggers whatever writes a case: every
# unit that has held the case, received it from the form or held it before (the past units are
# the earlier holders, so nothing is ever taken out). That is never less than the units that may
# see it now; the search checks that exactly on the few rows the index gives.
UNITS_COLUMN = "case_search_units"
# The prefix index, after its name (the migrations build it under others too).
PREFIX_INDEX = "ix_feedback_case_word_prefixes"
PREFIX_INDEX_ON = (f"ON feedback_case USING gin (case_search_prefixes({_PG_DOCUMENT}), "
                   f"{UNITS_COLUMN})")
# PostgreSQL keeps, like FTS5's prefix index, every prefix of 3 to 10 letters of each word as a
# word of its own: a query word is then one exact entry of the index (6 ms for a full name at a
# million cases) instead of a range of words merged in full (30-45 ms: "aino" also reads "ainoa").
PREFIX_LONGEST = PREFIX_LENGTHS[-1]


def _units_of(row):
    """SQL: the units of the case `row` (a table or a trigger's NEW or OLD) where it has none yet
    (from before the column, or written with the triggers away): its holder and receiving unit,
    and its past units."""
    return (f"ARRAY[{row}.current_unit_id, {row}.service_unit_id] "  # nosec B608
            f"|| ARRAY(SELECT unit_id FROM case_past_unit AS past WHERE past.case_id = {row}.id)")


def _each_once(units):
    """SQL: the array `units` without repeats or NULLs."""
    return f"ARRAY(SELECT DISTINCT unit FROM unnest({units}) AS unit WHERE unit IS NOT NULL)"  # nosec B608


# Built from this module's constants only.
POSTGRES_DDL = [
    "CREATE OR REPLACE FUNCTION case_search_prefixes(document text) RETURNS tsvector "  # nosec B608
    "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ "
    "SELECT array_to_tsvector(array("
    "SELECT DISTINCT left(word, size) FROM unnest(tsvector_to_array(to_tsvector('simple', document))) "
    f"AS word, generate_series({PREFIX_LENGTHS[0]}, {PREFIX_LONGEST}) AS size "
    "WHERE length(word) >= size)) $$",
    f"ALTER TABLE feedback_case ADD COLUMN IF NOT EXISTS {UNITS_COLUMN} integer[]",
    # A case's row: the units it had, and its holder and receiving unit now.
    "CREATE OR REPLACE FUNCTION case_search_units_of_case() RETURNS trigger "  # nosec B608
    "LANGUAGE plpgsql AS $$ "
    f"BEGIN NEW.{UNITS_COLUMN} := " + _each_once(  # nosec B608
        "CASE WHEN TG_OP = 'INSERT' THEN '{}'::integer[] "
        f"ELSE coalesce(OLD.{UNITS_COLUMN}, {_units_of('OLD')}) END "
        "|| ARRAY[NEW.current_unit_id, NEW.service_unit_id]") + "; RETURN NEW; END $$",
    "DROP TRIGGER IF EXISTS case_search_units_of_case ON feedback_case",
    "CREATE TRIGGER case_search_units_of_case BEFORE INSERT OR UPDATE OF "
    "current_unit_id, service_unit_id ON feedback_case FOR EACH ROW "
    "EXECUTE FUNCTION case_search_units_of_case()",
    # A past unit added: the case's row is written only if it lacks the unit (a forward adds the
    # holder it leaves, which the row has already).
    "CREATE OR REPLACE FUNCTION case_search_units_of_past() RETURNS trigger "  # nosec B608
    "LANGUAGE plpgsql AS $$ "
    f"BEGIN UPDATE feedback_case SET {UNITS_COLUMN} = "  # nosec B608
    + _each_once(f"coalesce({UNITS_COLUMN}, {_units_of('feedback_case')}) || added.units")
    + " FROM (SELECT case_id, array_agg(DISTINCT unit_id) AS units "  # nosec B608
    "FROM added_past_units GROUP BY case_id) AS added WHERE feedback_case.id = added.case_id "
    f"AND NOT coalesce({UNITS_COLUMN} @> added.units, false); RETURN NULL; END $$",
    "DROP TRIGGER IF EXISTS case_search_units_of_past ON case_past_unit",
    "CREATE TRIGGER case_search_units_of_past AFTER INSERT ON case_past_unit "
    "REFERENCING NEW TABLE AS added_past_units FOR EACH STATEMENT "
    "EXECUTE FUNCTION case_search_units_of_past()",
]
# The cases without units, those with ids from :first to :last: a migration fills them a stretch
# at a time, so that no transaction holds many rows.
FILL_UNITS = (f"UPDATE feedback_case SET {UNITS_COLUMN} = "  # nosec B608
              f"{_each_once(_units_of('feedback_case'))} "  # nosec B608
              f"WHERE {UNITS_COLUMN} IS NULL AND id BETWEEN :first AND :last")
PREFIX_INDEX_DDL = f"CREATE INDEX IF NOT EXISTS {PREFIX_INDEX} {PREFIX_INDEX_ON}"
UNITS_DROP = ["DROP TRIGGER IF EXISTS case_search_units_of_past ON case_past_unit",
              "DROP TRIGGER IF EXISTS case_search_units_of_case ON feedback_case",
              "DROP FUNCTION IF EXISTS case_search_units_of_past()",
              "DROP FUNCTION IF EXISTS case_search_units_of_case()",
              f"ALTER TABLE IF EXISTS feedback_case DROP COLUMN IF EXISTS {UNITS_COLUMN}"]
POSTGRES_DROP = [f"DROP INDEX IF EXISTS {PREFIX_INDEX}", *UNITS_DROP,
                 "DROP FUNCTION IF EXISTS case_search_prefixes(text)"]
# Objects the schema comparison must not take for drift: they are not in the models.
# (ix_feedback_case_fulltext: PostgreSQL's index of whole words before 0037_search_prefixes.)
NOT_IN_MODELS = {"case_search", PREFIX_INDEX, "ix_feedback_case_fulltext", UNITS_COLUMN}


def rebuild_prefix_index(bind, autocommit_block, on=PREFIX_INDEX_ON):
    """For a migration: the prefix index built again as `on` says, beside the old one and
    CONCURRENTLY (cases are written as usual meanwhile), then swapped in. `autocommit_block`:
    the migration context's, as CONCURRENTLY cannot run in a transaction."""
    building = f"{PREFIX_INDEX}_building"
    with autocommit_block():
        # A build that failed halfway leaves an invalid index under the building name: dropped
        # first, so the migration can run again.
        bind.execute(sa.text(f"DROP INDEX CONCURRENTLY IF EXISTS {building}"))
        bind.execute(sa.text(f"CREATE INDEX CONCURRENTLY {building} {on}"))
        bind.execute(sa.text(f"DROP INDEX CONCURRENTLY IF EXISTS {PREFIX_INDEX}"))
    bind.execute(sa.text(f"ALTER INDEX {building} RENAME TO {PREFIX_INDEX}"))


def set_aside_for_bulk_load(connection):
    """Before many cases go in at once: what keeping current row by row costs more than building
    once (`install` afterwards). PostgreSQL keeps its triggers, whose units each row takes as it
    goes in: filling them afterwards would write every row a second time."""
    if connection.dialect.name == "sqlite":
        uninstall(connection)
    else:
        connection.execute(sa.text(f"DROP INDEX IF EXISTS {PREFIX_INDEX}"))


def install(connection):
    if connection.dialect.name == "sqlite":
        # The migrations before 0040 install too, on a database that may have the index of
        # their day (words only, its triggers): built again whole, as the fill rewrites it anyway.
        columns = connection.execute(sa.text(
            "SELECT name FROM pragma_table_info('case_search')")).scalars().all()
        if columns and "units" not in columns:
            uninstall(connection)
        for statement in SQLITE_DDL:
            connection.execute(sa.text(statement))
        return
    for statement in POSTGRES_DDL:
        connection.execute(sa.text(statement))
    connection.execute(sa.text(FILL_UNITS), {"first": 0, "last": 2**63 - 1})
    connection.execute(sa.text(PREFIX_INDEX_DDL))


def uninstall(connection):
    for statement in SQLITE_DROP if connection.dialect.name == "sqlite" else POSTGRES_DROP:
        connection.execute(sa.text(statement))


def is_search_object(name):
    return bool(name) and (name in NOT_IN_MODELS or name.startswith("case_search"))


def _words(query):
    """The query's runs of letters and decimal digits: no operator of any query syntax, and each
    one word to both full-text engines (a superscript or a mark splits it)."""
    runs = "".join(c if c.isalpha() or c.isdecimal() else " " for c in query).split()
    return [word for word in runs if len(word) >= MIN_WORD][:12]


def too_short(query):
    """Whether `query` has no word long enough for the text search."""
    return bool(query.strip()) and not _words(query)


# PostgreSQL: the newest cases the user may see are read in order, each one's words checked (a
# few microseconds each); the index gives only whole lists of matches in no order, which is right
# for the rest.
RECENT_CASES = 3_000
# When those held some matches but too few, the next cases are read as far as the matches found
# say the rest lie, with room for chance, if that is at most this many in all: cheaper than the
# index's list of every match (a name on 1 % of a million cases: 33 in the newest 3 000, the rest
# in about 2 600 more, against 11 400 matches fetched from the table). Fewer matches, and the
# index's list is short.
MORE_RECENT_CASES = 9_000
# A number of this many digits is an identifier (a reference's serial, a customer's phone
# number): few cases hold it, so PostgreSQL's index lists them at once, and reading the newest
# cases one by one first would find none of them.
IDENTIFIER_DIGITS = 6
# Matches come unevenly (a customer writes in bursts): a further run that falls a few short is
# followed by one more, sized by all the cases read so far, before the index lists every match.
FURTHER_RUNS = 2


def text_matches(session, query, units, visible_ids):
    """A select of the ids of the newest cases (ids rise with receipt) that members of `units`
    may see (access.units_seen_by; None: every case) whose message or contact name contain all
    the words of `query`, at most RESULTS, fit for a UNION; or None when `query` has no words.
    `visible_ids`: the same cases as selects of ids, newest first
    (access.visible_case_ids_newest_first).

    SQLite reads its index of words and units newest first and stops at the limit. PostgreSQL's index has no
    order: the newest RECENT_CASES cases the user may see are read in order and tested one by
    one (a cheap substring test first), which finds a common word at once; if they hold some
    matches but too few, the next cases are read as far as those say the rest lie (twice at
    most); failing that, the index of word prefixes and units lists every match the user may
    see, newest first. A query with a long number (a reference) goes to the index at once.
    """
    words = _words(query)
    if not words:
        return None
    # Every word matches as a prefix too: Finnish inflects, so "kortti" finds "korttini".
    if session.get_bind().dialect.name == "sqlite":
        phrases = " AND ".join('"' + word.replace('"', "") + '"*' for word in words)
        match = f"{{message contact_name}} : ({phrases})"
        if units is not None:
            if not units:
                return sa.select(Case.id).where(sa.false())
            # The user's units' matches only; who may see a case then decides on those.
            seen = " OR ".join(f'"u{int(unit)}"' for unit in sorted(units))
            match += f" AND units : ({seen})"
        index = sa.table("case_search", sa.column("rowid"))
        newest = (sa.select(Case.id).join(index, index.c.rowid == Case.id)
                  .where(sa.text("case_search MATCH :match").bindparams(match=match),
                         cases_visible_in(units))
                  .order_by(index.c.rowid.desc()).limit(RESULTS).subquery())
        return sa.select(newest.c.id)  # a LIMIT inside a UNION must be wrapped
    return sa.select(Case.id).where(Case.id.in_(_postgresql_matches(session, words, units,
                                                                    visible_ids)))


def _postgresql_matches(session, words, units, visible_ids):
    """text_matches on PostgreSQL, as a list of ids."""
    if any(word.isdecimal() and len(word) >= IDENTIFIER_DIGITS for word in words):
        return session.scalars(indexed_matches(words, units)).all()
    found = session.scalars(recent_matches(words, visible_ids)).all()
    read = RECENT_CASES
    for _run in range(FURTHER_RUNS):
        if not found or len(found) >= RESULTS:
            break
        missing = RESULTS - len(found)
        # Room for chance: two standard deviations of a count of that many, and two more.
        more = math.ceil((missing + 2 * math.sqrt(missing) + 2) * read / len(found))
        if read + more > RECENT_CASES + MORE_RECENT_CASES:
            break
        # Below the oldest match, not past the cases read: a case received meanwhile would
        # shift the count. The few cases read twice did not match.
        found += session.scalars(recent_matches(
            words, visible_ids, below=found[-1], count=more).limit(missing)).all()
        read += more
    if len(found) < RESULTS:
        found = session.scalars(indexed_matches(words, units)).all()
    return found


def _text(columns):
    return sa.func.coalesce(columns.message, "") + " " + sa.func.coalesce(columns.contact_name, "")


def _document(columns):
    return sa.func.translate(_text(columns), "-", " ")


def _has_words(columns, words):
    """PostgreSQL's reading of the case's words: each query word begins one of them."""
    # Words are letters and digits only, so they cannot carry tsquery operators.
    wanted = sa.func.to_tsquery("simple", " & ".join(f"{word}:*" for word in words))
    return sa.func.to_tsvector("simple", _document(columns)).op("@@")(wanted)


def recent_matches(words, visible_ids, below=None, count=None):
    """PostgreSQL: the newest matches, at most RESULTS, among the newest `count` (RECENT_CASES)
    cases of `visible_ids` (those with ids below `below`, if given), read one by one."""
    recent = _newest(visible_ids, below, RECENT_CASES if count is None else count)
    cases = (sa.select(Case.id, Case.message, Case.contact_name,
                       sa.func.lower(_text(Case)).label("lowered"))
             .join(recent, recent.c.id == Case.id).subquery("recent_cases"))
    # A word is in a case's text wherever one of its words begins with it: that test (1 µs a
    # case; hyphens make no difference to it) goes before the exact one, which reads the
    # case's words (6 µs).
    return (sa.select(cases.c.id)
            .where(*(sa.func.strpos(cases.c.lowered, sa.func.lower(word)) > 0 for word in words),
                   _has_words(cases.c, words))
            .order_by(cases.c.id.desc()).limit(RESULTS))


def indexed_matches(words, units):
    """PostgreSQL: the newest matches that members of `units` may see (None: every case), at
    most RESULTS, listed by the index of word prefixes and of the units that have had each
    case."""
    # Each word's prefix of at most PREFIX_LONGEST letters is one entry of the index; a longer
    # word also needs the exact test.
    prefixes = sa.func.to_tsquery("simple", sa.func.concat_ws(
        " & ", *(sa.func.left(sa.func.lower(word), PREFIX_LONGEST) for word in words)))
    tests = [_has_words(Case, words)] if max(map(len, words)) > PREFIX_LONGEST else []
    # The index's units, where they narrow the matches; who may see a case then decides on
    # those it gives.
    if units is not None:
        had = sa.literal_column(f"{Case.__tablename__}.{UNITS_COLUMN}", ARRAY(sa.Integer))
        tests.append(had.op("&&")(sa.cast(sa.literal(sorted(units), ARRAY(sa.Integer)),
                                          ARRAY(sa.Integer))))
    # "id + 0": no order to take from the primary key, so the planner lists the matches from
    # the index instead of walking every older case.
    return (sa.select(Case.id)
            .where(sa.func.case_search_prefixes(_document(Case)).op("@@")(prefixes), *tests,
                   cases_visible_in(units))
            .order_by((Case.id + 0).desc()).limit(RESULTS))


def _newest(visible_ids, below, count):
    """The newest `count` distinct ids of `visible_ids` (below `below`, if given), merged in
    order as they are read (a window over the merge drops repeats without gathering them all)."""
    merged = sa.union_all(*visible_ids).subquery("merged")
    previous = sa.func.lag(merged.c.id).over(order_by=merged.c.id.desc())
    # PostgreSQL takes the bound into each unit's index scan, which then starts below it.
    marked = (sa.select(merged.c.id, previous.label("previous"))
              .where(*([merged.c.id < below] if below is not None else [])).subquery("marked"))
    return (sa.select(marked.c.id).where(marked.c.previous.is_distinct_from(marked.c.id))
            .order_by(marked.c.id.desc()).limit(count).subquery("recent"))


def search_cases(session, user, query):
    """The newest cases the user may see that match `query`, at most RESULTS of them
    (ListedCase rows)."""
    query = " ".join(query.split())[:MAX_QUERY]
    if not query:
        return []
    # Each exact key reads its own index; the union stays small, so sorting it is cheap. One OR
    # across the columns would walk every case newest first looking for a match.
    matches = [sa.select(Case.id).where(Case.reference == query.upper()),
               sa.select(Case.id).where(Case.contact_email == query.lower()),
               sa.select(Case.id).join(Customer, Customer.id == Case.customer_id)
               .where(Customer.customer_number == query.upper())]
    phone = e164(query)
    if phone:
        matches.append(sa.select(Case.id).where(Case.contact_phone == phone))
    units = units_seen_by(user)
    words = text_matches(session, query, units, visible_case_ids_newest_first(user))
    if words is not None:
        matches.append(words)
    # One read of the rows for both: the newest by receipt of the keys' and the words' matches.
    return listed_cases(Case.id.in_(sa.union(*matches)), cases_visible_in(units),
                        order_by=(Case.received_at.desc(), Case.id.desc()), limit=RESULTS)
