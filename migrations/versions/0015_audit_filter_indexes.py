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


NEW_INDEXES = [
    ('ix_audit_event_reference', ['case_reference', 'at', 'id']),
    ('ix_audit_event_kind', ['kind', 'at', 'id']),
    ('ix_audit_event_username', [sa.text('lower(username)'), 'at', 'id']),
]


def upgrade():
    # Nearly every request writes an audit row: on PostgreSQL the indexes are built without
    # blocking those writes, which needs statements outside the migration's transaction. The
    # steps are safe to run again after a failed attempt: an index a failed build left behind
    # (PostgreSQL keeps it, marked invalid) is dropped and built anew.
    with op.get_context().autocommit_block():
        for name, columns in NEW_INDEXES:
            op.drop_index(name, table_name='audit_event', if_exists=True,
                          postgresql_concurrently=True)
            op.create_index(name, 'audit_event', columns, postgresql_concurrently=True)
    op.drop_index('ix_audit_event_user', table_name='audit_event', if_exists=True)
    op.drop_index('ix_audit_event_case', table_name='audit_event', if_exists=True)


def downgrade():
    with op.get_context().autocommit_block():
        op.create_index('ix_audit_event_case', 'audit_event', ['case_id', 'at'],
                        postgresql_concurrently=True, if_not_exists=True)
        op.create_index('ix_audit_event_user', 'audit_event', ['user_id', 'at'],
                        postgresql_concurrently=True, if_not_exists=True)
    for name, _columns in reversed(NEW_INDEXES):
        op.drop_index(name, table_name='audit_event')
