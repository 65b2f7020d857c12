"""customer replies by email: the inbound mail record, reply deadlines and the "customer
replied" mark on cases, follow-up cases, threading headers of outgoing mail, and the
notification option for replies

Revision ID: 0035_inbound_mail
Revises: 0034_directory
Create Date: 2026-11-30 05:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0035_inbound_mail'
down_revision = '0034_directory'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'inbound_mail',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('mailbox', sa.String(length=200), nullable=False),
        sa.Column('uidvalidity', sa.BigInteger(), nullable=False),
        sa.Column('uid', sa.BigInteger(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('processed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('outcome', sa.Enum('threaded', 'new_feedback', 'automatic_reply', 'bounce',
                                     'quarantined', name='inboundoutcome', native_enum=False,
                                     length=32), nullable=False),
        sa.Column('reason', sa.String(length=300), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('sender', sa.String(length=254), nullable=False),
        sa.Column('sender_name', sa.String(length=120), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('excerpt', sa.String(length=500), nullable=False),
        sa.Column('attachments', sa.Integer(), nullable=False),
        sa.Column('confirmation_sent', sa.Boolean(), nullable=False),
        sa.Column('quarantine_uid', sa.BigInteger(), nullable=True),
        sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['feedback_case.id'],
                                name=op.f('fk_inbound_mail_case_id_feedback_case')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_mail')),
        sa.UniqueConstraint('mailbox', 'uidvalidity', 'uid', name='uq_inbound_mail_uid'),
    )
    op.create_index(op.f('ix_inbound_mail_sha256'), 'inbound_mail', ['sha256'])
    op.create_index(op.f('ix_inbound_mail_processed_at'), 'inbound_mail', ['processed_at'])
    op.create_index(op.f('ix_inbound_mail_case_id'), 'inbound_mail', ['case_id'])
    op.create_index('ix_inbound_mail_sender', 'inbound_mail', ['sender', 'processed_at'])
    # Plain ADD COLUMNs: SQLite need not rebuild the case table (and its search triggers).
    if op.get_bind().dialect.name == "sqlite":
        # Alembic would add the foreign key by a rebuild; SQLite takes it in the column.
        op.execute("ALTER TABLE feedback_case ADD COLUMN follows_case_id INTEGER CONSTRAINT "
                   "fk_feedback_case_follows_case_id_feedback_case REFERENCES feedback_case (id)")
    else:
        op.add_column('feedback_case', sa.Column('follows_case_id', sa.Integer(), nullable=True))
        op.create_foreign_key('fk_feedback_case_follows_case_id_feedback_case', 'feedback_case',
                              'feedback_case', ['follows_case_id'], ['id'])
    op.add_column('feedback_case', sa.Column('reply_due_date', sa.Date(), nullable=True))
    op.add_column('feedback_case', sa.Column('customer_replied_at', sa.DateTime(timezone=True),
                                             nullable=True))
    with op.batch_alter_table('outbox_message') as batch:
        batch.add_column(sa.Column('in_reply_to', sa.String(length=200), server_default='',
                                   nullable=False))
        batch.add_column(sa.Column('references', sa.Text(), server_default='', nullable=False))
        batch.add_column(sa.Column('auto_replied', sa.Boolean(), server_default=sa.false(),
                                   nullable=False))
    with op.batch_alter_table('staff_user') as batch:
        batch.add_column(sa.Column('notify_customer_replied', sa.Boolean(),
                                   server_default=sa.true(), nullable=False))


def downgrade():
    with op.batch_alter_table('staff_user') as batch:
        batch.drop_column('notify_customer_replied')
    with op.batch_alter_table('outbox_message') as batch:
        batch.drop_column('auto_replied')
        batch.drop_column('references')
        batch.drop_column('in_reply_to')
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint('fk_feedback_case_follows_case_id_feedback_case', 'feedback_case',
                           type_='foreignkey')
    with op.batch_alter_table('feedback_case') as batch:
        batch.drop_column('customer_replied_at')
        batch.drop_column('reply_due_date')
        batch.drop_column('follows_case_id')
    op.drop_index('ix_inbound_mail_sender', table_name='inbound_mail')
    op.drop_index(op.f('ix_inbound_mail_case_id'), table_name='inbound_mail')
    op.drop_index(op.f('ix_inbound_mail_processed_at'), table_name='inbound_mail')
    op.drop_index(op.f('ix_inbound_mail_sha256'), table_name='inbound_mail')
    op.drop_table('inbound_mail')
