"""closing day withdrawal: a closing day added by mistake is withdrawn, never deleted

The day stays unique among the days in force only, so a withdrawn day may be closed again.

Revision ID: 0032_closing_day_withdrawal
Revises: 0031_call_script
Create Date: 2026-12-01 10:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0032_closing_day_withdrawal'
down_revision = '0031_call_script'
branch_labels = None
depends_on = None

IN_FORCE = sa.text("withdrawn_at IS NULL")


def upgrade():
    with op.batch_alter_table('closing_day') as batch:
        batch.add_column(sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('withdrawn_by_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(batch.f('fk_closing_day_withdrawn_by_id_staff_user'),
                                 'staff_user', ['withdrawn_by_id'], ['id'])
        batch.drop_constraint('uq_closing_day_day', type_='unique')
        batch.create_index('uq_closing_day_day_in_force', ['day'], unique=True,
                           sqlite_where=IN_FORCE, postgresql_where=IN_FORCE)


def downgrade():
    # Withdrawn days go: the old table knew only days in force.
    op.execute("DELETE FROM closing_day WHERE withdrawn_at IS NOT NULL")
    with op.batch_alter_table('closing_day') as batch:
        batch.drop_index('uq_closing_day_day_in_force')
        batch.create_unique_constraint('uq_closing_day_day', ['day'])
        batch.drop_constraint('fk_closing_day_withdrawn_by_id_staff_user', type_='foreignkey')
        batch.drop_column('withdrawn_by_id')
        batch.drop_column('withdrawn_at')
