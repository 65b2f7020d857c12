"""search units on SQLite: the full-text index also keeps the units that may see each case

A branch's search for a name on 32 000 cases walked them newest first, checking each case's
units, to find its 50 (52 ms at a million cases); its index now gives its own units' matches
only. The index keeps no text of its own any more (contentless): triggers on the cases and on
their past units write each case in with its units as it changes, and take it out by its words
as they went in. The index is built again from every case; the intranet should not write cases
meanwhile (SQLite has one writer). Nothing changes on PostgreSQL, whose index has had the units
since 0039_search_units.

Revision ID: 0040_search_units_sqlite
Revises: 0039_search_units
Create Date: 2026-12-03 19:40:00

"""
import sqlalchemy as sa
from alembic import op

# The full-text objects are defined once, beside the search that uses them.
from feedback_intranet import search


# revision identifiers, used by Alembic.
revision = '0040_search_units_sqlite'
down_revision = '0039_search_units'
branch_labels = None
depends_on = None

# The index as 0024_search made it, read from the cases' own columns, for the way back.
_WORDS_ONLY = [
    "CREATE VIRTUAL TABLE case_search USING fts5("
    "message, contact_name, content='feedback_case', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 0', prefix='3 4 5 6 7 8 9 10')",
    "CREATE TRIGGER case_search_insert AFTER INSERT ON feedback_case BEGIN "
    "INSERT INTO case_search(rowid, message, contact_name) "
    "VALUES (new.id, new.message, new.contact_name); END",
    "CREATE TRIGGER case_search_delete AFTER DELETE ON feedback_case BEGIN "
    "INSERT INTO case_search(case_search, rowid, message, contact_name) "
    "VALUES ('delete', old.id, old.message, old.contact_name); END",
    "CREATE TRIGGER case_search_update AFTER UPDATE OF message, contact_name "
    "ON feedback_case BEGIN "
    "INSERT INTO case_search(case_search, rowid, message, contact_name) "
    "VALUES ('delete', old.id, old.message, old.contact_name); "
    "INSERT INTO case_search(rowid, message, contact_name) "
    "VALUES (new.id, new.message, new.contact_name); END",
    "INSERT INTO case_search(case_search) VALUES ('rebuild')",
]


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    search.uninstall(bind)
    search.install(bind)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    search.uninstall(bind)
    for statement in _WORDS_ONLY:
        bind.execute(sa.text(statement))
