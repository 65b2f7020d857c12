"""case page: the customer's cases by each key, newest last; an answer's call by the answer

The case page lists a customer's newest few other cases; with the receipt time in each key's
index it reads those few, not every case of a customer who has thousands. It reads each answer
with its call still to make, which without an index of its own meant reading every call.

Revision ID: 0025_case_page
Revises: 0024_search
Create Date: 2026-11-29 20:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0025_case_page'
down_revision = '0024_search'
branch_labels = None
depends_on = None

KEYS = ('customer_id', 'contact_email', 'contact_phone')


def upgrade():
    for key in KEYS:
        op.drop_index(f'ix_feedback_case_{key}', table_name='feedback_case')
        op.create_index(f'ix_feedback_case_{key}', 'feedback_case', [key, 'received_at', 'id'])
    op.create_index('ix_callback_task_answer', 'callback_task', ['answer_id', 'status'])
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite's planner knows an index only from ANALYZE (PostgreSQL keeps column statistics).
        for key in KEYS:
            op.execute(f'ANALYZE ix_feedback_case_{key}')
        op.execute('ANALYZE ix_callback_task_answer')


def downgrade():
    op.drop_index('ix_callback_task_answer', table_name='callback_task')
    for key in KEYS:
        op.drop_index(f'ix_feedback_case_{key}', table_name='feedback_case')
        op.create_index(f'ix_feedback_case_{key}', 'feedback_case', [key])
