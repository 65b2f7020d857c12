"""mine sorts: one person's cases in each of the inbox's sorts, through an index of its own

"Mine" sorted by received, customer or topic read the unit's index of that sort and skipped
everyone else's cases (or sorted everything the person held); these start with the holder.

Revision ID: 0026_mine_sorts
Revises: 0025_case_page
Create Date: 2026-11-29 20:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0026_mine_sorts'
down_revision = '0025_case_page'
branch_labels = None
depends_on = None

# As the model has them (feedback_intranet.models.cases.SORT_INDEXES) on this day.
SORT_INDEXES = {
    'received': ('received_at', 'id'),
    'customer': ('customer_sort', 'effective_due_date', 'received_at', 'id'),
    **{f'topic_{language}': (f'topic_sort_{language}', 'effective_due_date', 'received_at', 'id')
       for language in ('fi', 'sv', 'en')},
}


def upgrade():
    for name, columns in SORT_INDEXES.items():
        op.create_index(f'ix_feedback_case_mine_by_{name}', 'feedback_case',
                        ['assignee_id', 'current_unit_id', 'status', *columns])
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite's planner knows an index only from ANALYZE (PostgreSQL keeps column statistics).
        for name in SORT_INDEXES:
            op.execute(f'ANALYZE ix_feedback_case_mine_by_{name}')


def downgrade():
    for name in SORT_INDEXES:
        op.drop_index(f'ix_feedback_case_mine_by_{name}', table_name='feedback_case')
