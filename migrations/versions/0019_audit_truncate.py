"""audit truncate: PostgreSQL refuses TRUNCATE of the audit log too

TRUNCATE fires no row triggers, so the UPDATE/DELETE trigger of 0010 let it through; a
statement trigger beside it refuses it.

Revision ID: 0019_audit_truncate
Revises: 0018_outbox_faults
Create Date: 2026-11-26 12:00:00

"""
from alembic import op
import sqlalchemy as sa

# The trigger is defined once, beside the code that writes the log.
from feedback_intranet import audit


# revision identifiers, used by Alembic.
revision = '0019_audit_truncate'
down_revision = '0018_outbox_faults'
branch_labels = None
depends_on = None


def upgrade():
    connection = op.get_bind()
    if connection.dialect.name == 'postgresql':
        for statement in audit.POSTGRES_TRUNCATE_DDL:
            connection.execute(sa.text(statement))


def downgrade():
    connection = op.get_bind()
    if connection.dialect.name == 'postgresql':
        for statement in audit.POSTGRES_TRUNCATE_DROP:
            connection.execute(sa.text(statement))
