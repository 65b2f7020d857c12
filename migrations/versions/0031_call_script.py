"""call script: what the caller reads out of a phone answer

A complaint's final answer by phone has the paragraph on FINE and the Consumer Disputes Board
read out as written; its written confirmation carries the same words. Existing answers have
none.

Revision ID: 0031_call_script
Revises: 0030_words
Create Date: 2026-12-01 10:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0031_call_script'
down_revision = '0030_words'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN: SQLite need not rebuild the table.
    op.add_column('answer', sa.Column('read_out', sa.Text(), nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('answer') as batch:
        batch.drop_column('read_out')
