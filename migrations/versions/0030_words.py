"""audit facts: new audit rows keep a kind and facts, written in the reader's language

Rows written before keep their English detail and no facts; the audit log shows them as
stored. The log is append-only: this only adds the column (PostgreSQL adds a nullable column
without touching a row, so the append-only triggers never fire) and rewrites nothing.

Revision ID: 0030_words
Revises: 0029_contact_country
Create Date: 2026-12-01 10:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0030_words'
down_revision = '0029_contact_country'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN: SQLite need not rebuild the table, PostgreSQL need not rewrite it.
    op.add_column('audit_event', sa.Column('facts', sa.JSON(), nullable=True))


def downgrade():
    # Dropping a column is DDL, which the row and TRUNCATE triggers do not refuse. Not in batch
    # mode: SQLite's table rebuild would lose the expression index on the username.
    op.drop_column('audit_event', 'facts')
