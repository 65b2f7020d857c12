"""call and letter versions: the second of two simultaneous recordings is refused

Revision ID: 0016_call_and_letter_versions
Revises: 0015_audit_filter_indexes
Create Date: 2026-11-26 02:25:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_call_and_letter_versions'
down_revision = '0015_audit_filter_indexes'
branch_labels = None
depends_on = None


def upgrade():
    for table in ('callback_task', 'letter'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))


def downgrade():
    for table in ('letter', 'callback_task'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('version')
