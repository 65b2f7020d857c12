"""contact country: the country of the customer's postal address

An address abroad has its country's postal code format; every existing case was given with a
Finnish address.

Revision ID: 0029_contact_country
Revises: 0028_timeline_facts
Create Date: 2026-11-30 10:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0029_contact_country'
down_revision = '0028_timeline_facts'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN: SQLite need not rebuild the table (and its search triggers).
    op.add_column('feedback_case', sa.Column('contact_country', sa.String(length=2),
                                             nullable=False, server_default='FI'))


def downgrade():
    with op.batch_alter_table('feedback_case') as batch:
        batch.drop_column('contact_country')
