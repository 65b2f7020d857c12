"""unit names: every unit has a Finnish and a Swedish name beside its English one

Empty until an admin writes them: the English name stands in.

Revision ID: 0027_unit_names
Revises: 0026_mine_sorts
Create Date: 2026-11-29 23:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0027_unit_names'
down_revision = '0026_mine_sorts'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('unit') as batch:
        batch.add_column(sa.Column('name_fi', sa.String(120), nullable=False, server_default=''))
        batch.add_column(sa.Column('name_sv', sa.String(120), nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('unit') as batch:
        batch.drop_column('name_sv')
        batch.drop_column('name_fi')
