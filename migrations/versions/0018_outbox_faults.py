"""outbox faults: the email address a customer's mail server refused

Revision ID: 0018_outbox_faults
Revises: 0016_call_and_letter_versions
Create Date: 2026-11-27 10:00:00

"""
from alembic import op
import sqlalchemy as sa

from feedback_intranet import search


# revision identifiers, used by Alembic.
revision = '0018_outbox_faults'
down_revision = '0017_waiting_replies'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('feedback_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_refused', sa.String(length=254), server_default='',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('feedback_case', schema=None) as batch_op:
        batch_op.drop_column('email_refused')
    # SQLite rebuilt the table to drop the column, which dropped the search triggers.
    if op.get_bind().dialect.name == "sqlite":
        search.install(op.get_bind())
