"""audit filter indexes: one per filter of the audit page, in its newest-first order

The indexes on (user_id, at) and (case_id, at) served no query: the page filters by username
and case reference.

Revision ID: 0015_audit_filter_indexes
Revises: 0014_session_version
Create Date: 2026-11-26 01:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_audit_filter_indexes'
down_revision = '0014_session_version'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_audit_event_user', table_name='audit_event')
    op.drop_index('ix_audit_event_case', table_name='audit_event')
    # Nearly every request writes an audit row: on PostgreSQL the indexes are built without
    # blocking those writes, which needs a statement outside the migration's transaction.
    with op.get_context().autocommit_block():
        op.create_index('ix_audit_event_reference', 'audit_event', ['case_reference', 'at', 'id'],
                        postgresql_concurrently=True)
        op.create_index('ix_audit_event_kind', 'audit_event', ['kind', 'at', 'id'],
                        postgresql_concurrently=True)
        op.create_index('ix_audit_event_username', 'audit_event',
                        [sa.text('lower(username)'), 'at', 'id'], postgresql_concurrently=True)


def downgrade():
    op.drop_index('ix_audit_event_username', table_name='audit_event')
    op.drop_index('ix_audit_event_kind', table_name='audit_event')
    op.drop_index('ix_audit_event_reference', table_name='audit_event')
    op.create_index('ix_audit_event_case', 'audit_event', ['case_id', 'at'])
    op.create_index('ix_audit_event_user', 'audit_event', ['user_id', 'at'])
