"""the inbox index covers the workload view: assignee_id added at its end

Revision ID: 0008_workload_index
Revises: 0007_report_figures
Create Date: 2026-11-25 19:20:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008_workload_index'
down_revision = '0007_report_figures'
branch_labels = None
depends_on = None

OLD = ['current_unit_id', 'status', 'effective_due_date', 'received_at', 'id', 'reply_wanted']


def upgrade():
    with op.batch_alter_table('feedback_case', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_case_inbox')
        batch_op.create_index('ix_feedback_case_inbox', [*OLD, 'assignee_id'], unique=False)


def downgrade():
    with op.batch_alter_table('feedback_case', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_case_inbox')
        batch_op.create_index('ix_feedback_case_inbox', OLD, unique=False)
