"""operations: each background job's heartbeat (its last finished round)

Revision ID: 0036_heartbeat
Revises: 0035_inbound_mail
Create Date: 2026-11-30 08:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0036_heartbeat'
down_revision = '0035_inbound_mail'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'heartbeat',
        sa.Column('job', sa.String(length=40), nullable=False),
        sa.Column('worker', sa.String(length=100), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('seconds', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('job', name=op.f('pk_heartbeat')),
    )


def downgrade():
    op.drop_table('heartbeat')
