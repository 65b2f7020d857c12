"""session version: logout and a new password end every session of the user

Revision ID: 0014_session_version
Revises: 0013_forward_index
Create Date: 2026-11-26 01:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_session_version'
down_revision = '0013_forward_index'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.drop_column('session_version')
