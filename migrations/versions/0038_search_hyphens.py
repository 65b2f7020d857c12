"""search hyphens: PostgreSQL's index of word prefixes reads the text split at hyphens

PostgreSQL's parser read a quoted reference "FB-2026-000123" as "fb" and two negative numbers
("-2026", "-000123"), so searching the reference never found the messages that quote it, as it
does on SQLite. The index is built again on the text with its hyphens read as spaces: beside the
old one and CONCURRENTLY, so cases are written as usual meanwhile (about two minutes at a million
cases), then swapped in. Nothing changes on SQLite, whose tokenizer already splits there.

Revision ID: 0038_search_hyphens
Revises: 0037_search_prefixes
Create Date: 2026-11-30 19:20:00

"""
from alembic import op
import sqlalchemy as sa

# The full-text objects are defined once, beside the search that uses them.
from feedback_intranet import search


# revision identifiers, used by Alembic.
revision = '0038_search_hyphens'
down_revision = '0037_search_prefixes'
branch_labels = None
depends_on = None

_INDEX = "ix_feedback_case_word_prefixes"
# The index this migration builds (0039_search_units adds the units to it).
_SPLIT_ON = ("ON feedback_case USING gin (case_search_prefixes("
             "translate(coalesce(message, '') || ' ' || coalesce(contact_name, ''), '-', ' ')))")
# The index as 0037_search_prefixes made it, for the way back.
_UNSPLIT = (
    f"CREATE INDEX IF NOT EXISTS {_INDEX} ON feedback_case USING gin "
    "(case_search_prefixes(coalesce(message, '') || ' ' || coalesce(contact_name, '')))"
)


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        search.rebuild_prefix_index(bind, op.get_context().autocommit_block, on=_SPLIT_ON)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        bind.execute(sa.text(f"DROP INDEX IF EXISTS {_INDEX}"))
        bind.execute(sa.text(_UNSPLIT))
