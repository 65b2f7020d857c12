"""report summaries: the figures of each day's cases, per unit, topic, channel and forward

The report pages sum these, kept in the transaction of each change to a case, instead of
grouping a period's cases. Filled here from the cases, by the app's own definition.

Revision ID: 0023_report_summaries
Revises: 0022_inbox_counts
Create Date: 2026-11-29 19:45:00

"""
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa
from flask import current_app

from feedback_intranet.reports import summaries


# revision identifiers, used by Alembic.
revision = '0023_report_summaries'
down_revision = '0022_inbox_counts'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'report_day',
        sa.Column('dimension', sa.String(length=16), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('unit_id', sa.Integer(), sa.ForeignKey('unit.id'), nullable=False),
        sa.Column('value', sa.String(length=32), nullable=False),
        sa.Column('deadline', sa.Date(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False)
          for name in ('received', 'owed', 'kept', 'awaiting', 'noticed', 'by_estimate')),
        sa.PrimaryKeyConstraint('dimension', 'day', 'unit_id', 'value', 'deadline'),
    )
    op.create_table(
        'report_answer_day',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('unit_id', sa.Integer(), sa.ForeignKey('unit.id'), nullable=False),
        sa.Column('channel', sa.String(length=32), nullable=False),
        sa.Column('banking_days', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'unit_id', 'channel', 'banking_days'),
    )
    op.create_table(
        'report_forward_day',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('from_unit_id', sa.Integer(), sa.ForeignKey('unit.id'), nullable=False),
        sa.Column('to_unit_id', sa.Integer(), sa.ForeignKey('unit.id'), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'from_unit_id', 'to_unit_id'),
    )
    op.create_table(
        'report_reforward_day',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('units', sa.Text(), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'units'),
    )
    # Local days need the bank's time zone: counted in Python, as the listeners count them.
    summaries.rebuild(op.get_bind(), ZoneInfo(current_app.config["TIMEZONE"]))


def downgrade():
    for table in ('report_reforward_day', 'report_forward_day', 'report_answer_day', 'report_day'):
        op.drop_table(table)
