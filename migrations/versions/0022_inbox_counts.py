"""inbox counts: counters per unit, status, holder, wish for an answer and due date

The inbox's filter counts come from these, kept in the transaction of each change to a case,
instead of counting a unit's cases on every first view after a change. Filled here from the cases.

Revision ID: 0022_inbox_counts
Revises: 0021_close_when_delivered
Create Date: 2026-11-29 18:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022_inbox_counts'
down_revision = '0021_close_when_delivered'
branch_labels = None
depends_on = None

COUNTED = ('new', 'assigned', 'answered')


def upgrade():
    op.create_table(
        'inbox_count',
        sa.Column('unit_id', sa.Integer(), sa.ForeignKey('unit.id'), nullable=False),
        sa.Column('status', sa.Enum('new', 'assigned', 'answered', 'closed', name='casestatus',
                                    native_enum=False, length=32), nullable=False),
        sa.Column('holder_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('reply_wanted', sa.Boolean(), nullable=False),
        sa.Column('due', sa.Date(), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('unit_id', 'status', 'holder_id', 'reply_wanted', 'due'),
    )
    op.execute(
        "INSERT INTO inbox_count (unit_id, status, holder_id, reply_wanted, due, count) "
        "SELECT current_unit_id, status, COALESCE(assignee_id, 0), reply_wanted, "
        "effective_due_date, count(*) FROM feedback_case "
        f"WHERE status IN {COUNTED!r} "
        "GROUP BY current_unit_id, status, COALESCE(assignee_id, 0), reply_wanted, effective_due_date")


def downgrade():
    op.drop_table('inbox_count')
