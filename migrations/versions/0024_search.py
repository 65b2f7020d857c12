"""search: SQLite's full-text index keeps the prefixes of words; a unit's cases newest first

Every query word matches as a prefix. Without an index of prefixes FTS5 gathers the whole list of
cases of every word that begins so before it hands over the newest 50. The table is built again
with prefix indexes (about 15 s at a million cases). PostgreSQL's search reads the cases a user
may see newest first, through three new indexes (a few seconds at a million cases).

Revision ID: 0024_search
Revises: 0023_report_summaries
Create Date: 2026-11-29 19:40:00

"""
from alembic import op
import sqlalchemy as sa

# The full-text objects are defined once, beside the search that uses them.
from feedback_intranet import search


# revision identifiers, used by Alembic.
revision = '0024_search'
down_revision = '0023_report_summaries'
branch_labels = None
depends_on = None

# The table as 0006_search made it, for the way back, with the units every search table has
# kept since 0040_search_units_sqlite (0006 installs the search objects of today).
_WITHOUT_PREFIXES = (
    "CREATE VIRTUAL TABLE case_search USING fts5("
    "message, contact_name, units, content='', tokenize='unicode61 remove_diacritics 0')"
)


def upgrade():
    # Plain CREATE INDEX: a batch on SQLite could copy the table and lose the search triggers.
    op.create_index('ix_feedback_case_unit_newest', 'feedback_case', ['current_unit_id', 'id'])
    op.create_index('ix_feedback_case_service_newest', 'feedback_case', ['service_unit_id', 'id'])
    op.create_index('ix_case_past_unit_newest', 'case_past_unit', ['unit_id', 'case_id'])
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        search.uninstall(bind)
        search.install(bind)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        search.uninstall(bind)
        bind.execute(sa.text(_WITHOUT_PREFIXES))
        search.install(bind)  # the triggers and the rebuild; the table exists already
    op.drop_index('ix_case_past_unit_newest', 'case_past_unit')
    op.drop_index('ix_feedback_case_service_newest', 'feedback_case')
    op.drop_index('ix_feedback_case_unit_newest', 'feedback_case')
