"""close when delivered: an answer may close its case once it reaches the customer

"Send, close when delivered" marks the answer; delivering it (the email handed to the mail
server, the letter posted, the customer reached by phone) closes the case as answered.
Answers sent before keep false.

Revision ID: 0021_close_when_delivered
Revises: 0020_workspace
Create Date: 2026-12-01 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021_close_when_delivered'
down_revision = '0020_workspace'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('close_when_delivered', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.drop_column('close_when_delivered')
