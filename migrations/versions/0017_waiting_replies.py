"""waiting replies: letters of closed cases leave the print queue; notices keep their estimate

Closing a case now waits for (or cancels) what is addressed to the customer. Before, a
closed case's letter stayed in the print queue: such letters are cancelled, on the timeline.
An interim notice keeps its estimate and the one it replaced, so cancelling it restores that.

Revision ID: 0017_waiting_replies
Revises: 0016_call_and_letter_versions
Create Date: 2026-11-29 11:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_waiting_replies'
down_revision = '0016_call_and_letter_versions'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('estimate', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('previous_estimate', sa.Date(), nullable=True))
    op.create_index('ix_answer_pending', 'answer', ['case_id'], unique=False,
                    sqlite_where=sa.text("status = 'pending'"),
                    postgresql_where=sa.text("status = 'pending'"))
    stranded = sa.text(
        "SELECT a.id AS answer_id, a.case_id, c.closed_at FROM answer a"
        " JOIN letter l ON l.answer_id = a.id JOIN feedback_case c ON c.id = a.case_id"
        " WHERE a.status = 'pending' AND l.posted_at IS NULL AND c.status = 'closed'"
    )
    connection = op.get_bind()
    rows = connection.execute(stranded).all()
    for row in rows:
        connection.execute(sa.text(
            "INSERT INTO case_event (case_id, kind, text, at) VALUES (:case_id, 'reply_cancelled',"
            " 'Letter taken out of the print queue: the case was closed before it was posted.',"
            " :at)"), {"case_id": row.case_id, "at": row.closed_at})
        connection.execute(sa.text("UPDATE answer SET status = 'cancelled' WHERE id = :id"),
                           {"id": row.answer_id})
        connection.execute(sa.text("UPDATE letter SET version = version + 1 WHERE answer_id = :id"),
                           {"id": row.answer_id})


def downgrade():
    # The cancelled letters stay cancelled: their cases are closed.
    op.drop_index('ix_answer_pending', table_name='answer')
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.drop_column('previous_estimate')
        batch_op.drop_column('estimate')
