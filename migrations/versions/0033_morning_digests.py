"""morning digests: reminders and escalations, at most one summary per recipient and day

A member may turn their own summary off; a unit without a team lead escalates to an address of its
own (in a language of its own) or to the administrators; each case escalated as overdue is kept
per unit for the reports.

Revision ID: 0033_morning_digests
Revises: 0032_closing_day_withdrawal
Create Date: 2026-11-30 02:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0033_morning_digests'
down_revision = '0032_closing_day_withdrawal'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'case_escalation',
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('escalated_on', sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['feedback_case.id'],
                                name=op.f('fk_case_escalation_case_id_feedback_case')),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id'],
                                name=op.f('fk_case_escalation_unit_id_unit')),
        sa.PrimaryKeyConstraint('case_id', 'unit_id', name=op.f('pk_case_escalation')),
    )
    op.create_index('ix_case_escalation_unit_day', 'case_escalation', ['unit_id', 'escalated_on'])
    op.create_table(
        'morning_digest',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('recipient', sa.String(length=300), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('outbox_message_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['outbox_message_id'], ['outbox_message.id'],
                                name=op.f('fk_morning_digest_outbox_message_id_outbox_message')),
        sa.ForeignKeyConstraint(['user_id'], ['staff_user.id'],
                                name=op.f('fk_morning_digest_user_id_staff_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_morning_digest')),
        sa.UniqueConstraint('day', 'recipient', name=op.f('uq_morning_digest_day')),
    )
    with op.batch_alter_table('staff_user') as batch:
        batch.add_column(sa.Column('morning_digest', sa.Boolean(), server_default=sa.true(),
                                   nullable=False))
    with op.batch_alter_table('unit') as batch:
        batch.add_column(sa.Column('escalation_email', sa.String(length=254), server_default='',
                                   nullable=False))
        batch.add_column(sa.Column('escalation_language',
                                   sa.Enum('fi', 'sv', 'en', name='language', native_enum=False,
                                           length=32),
                                   server_default='fi', nullable=False))


def downgrade():
    with op.batch_alter_table('unit') as batch:
        batch.drop_column('escalation_language')
        batch.drop_column('escalation_email')
    with op.batch_alter_table('staff_user') as batch:
        batch.drop_column('morning_digest')
    op.drop_table('morning_digest')
    op.drop_index('ix_case_escalation_unit_day', table_name='case_escalation')
    op.drop_table('case_escalation')
