"""search units: PostgreSQL's index of word prefixes also keeps the units that have had each case

A search lists only the matches the user may see, straight from the index: a branch's search for
a name held by 11 000 cases of every unit read them all to keep 56 (25 ms at a million cases),
and one whose 20 000 matches the user may not see took 320 ms; both now take 4-6 ms. The units
are a column of PostgreSQL's own on feedback_case (case_search_units, not in the models), kept by
triggers. The column and the triggers come first, in a short transaction; then the cases' units
are filled in a stretch of ids at a time, each its own transaction, while the intranet works as
usual (a case written meanwhile takes its units through the triggers); the table is vacuumed and
analysed (the filling wrote every row, and a planner that does not know the new column made a
branch's search take 300 ms); last the index is built again beside the old one and CONCURRENTLY,
as 0038 did. At a million cases it took 4 min 55 s here. Nothing changes on SQLite.

Revision ID: 0039_search_units
Revises: 0038_search_hyphens
Create Date: 2026-12-03 17:30:00

"""
from alembic import op
import sqlalchemy as sa

# The full-text objects are defined once, beside the search that uses them.
from feedback_intranet import search


# revision identifiers, used by Alembic.
revision = '0039_search_units'
down_revision = '0038_search_hyphens'
branch_labels = None
depends_on = None

# The index as 0038_search_hyphens made it, for the way back.
_WORDS_ONLY = (
    f"CREATE INDEX IF NOT EXISTS {search.PREFIX_INDEX} ON feedback_case USING gin "
    "(case_search_prefixes(translate(coalesce(message, '') || ' ' || coalesce(contact_name, ''), "
    "'-', ' ')))"
)
# Cases filled in one transaction.
_STRETCH = 20_000


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return
    for statement in search.POSTGRES_DDL:
        bind.execute(sa.text(statement))
    # VACUUM and CONCURRENTLY cannot run in a transaction, and the filling is better without one.
    with op.get_context().autocommit_block():
        lowest, highest = bind.execute(sa.text("SELECT min(id), max(id) FROM feedback_case")).one()
        for first in range(lowest or 0, (highest or 0) + 1, _STRETCH):
            bind.execute(sa.text(search.FILL_UNITS), {"first": first, "last": first + _STRETCH - 1})
        bind.execute(sa.text("VACUUM ANALYZE feedback_case"))
    search.rebuild_prefix_index(bind, op.get_context().autocommit_block)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return
    bind.execute(sa.text(f"DROP INDEX IF EXISTS {search.PREFIX_INDEX}"))
    for statement in search.UNITS_DROP:
        bind.execute(sa.text(statement))
    bind.execute(sa.text(_WORDS_ONLY))
