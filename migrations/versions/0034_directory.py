"""directory sign-in: directory users by their entry's stable id, group mappings, and what the
directory grants kept apart from what an admin set by hand

What exists now was set by hand: admin_by_hand follows is_admin and lead_by_hand is_team_lead.

Revision ID: 0034_directory
Revises: 0033_morning_digests
Create Date: 2026-11-30 03:15:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0034_directory'
down_revision = '0033_morning_digests'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'group_mapping',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('group_dn', sa.String(length=500), nullable=False),
        sa.Column('group_key', sa.String(length=500), nullable=False),
        sa.Column('role', sa.Enum('member', 'team_lead', 'admin', name='directoryrole',
                                  native_enum=False, length=32), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id'],
                                name=op.f('fk_group_mapping_unit_id_unit')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_group_mapping')),
        sa.UniqueConstraint('group_key', 'role', 'unit_id',
                            name=op.f('uq_group_mapping_group_key')),
    )
    with op.batch_alter_table('membership') as batch:
        batch.add_column(sa.Column('by_hand', sa.Boolean(), server_default=sa.true(),
                                   nullable=False))
        batch.add_column(sa.Column('lead_by_hand', sa.Boolean(), server_default=sa.false(),
                                   nullable=False))
        batch.add_column(sa.Column('from_directory', sa.Boolean(), server_default=sa.false(),
                                   nullable=False))
        batch.add_column(sa.Column('lead_from_directory', sa.Boolean(),
                                   server_default=sa.false(), nullable=False))
    with op.batch_alter_table('staff_user') as batch:
        batch.add_column(sa.Column('admin_by_hand', sa.Boolean(), server_default=sa.false(),
                                   nullable=False))
        batch.add_column(sa.Column('admin_from_directory', sa.Boolean(),
                                   server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column('deactivated_by_admin', sa.Boolean(),
                                   server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column('directory_id', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('directory_dn', sa.String(length=500), server_default='',
                                   nullable=False))
        batch.add_column(sa.Column('directory_checked_at', sa.DateTime(timezone=True),
                                   nullable=True))
        batch.create_unique_constraint(batch.f('uq_staff_user_directory_id'), ['directory_id'])
    op.execute("UPDATE membership SET lead_by_hand = is_team_lead")
    op.execute("UPDATE staff_user SET admin_by_hand = is_admin")
    # An inactive account was deactivated by an admin: so far nobody else could.
    op.execute("UPDATE staff_user SET deactivated_by_admin = NOT active")


def downgrade():
    with op.batch_alter_table('staff_user') as batch:
        batch.drop_constraint('uq_staff_user_directory_id', type_='unique')
        batch.drop_column('directory_checked_at')
        batch.drop_column('directory_dn')
        batch.drop_column('directory_id')
        batch.drop_column('deactivated_by_admin')
        batch.drop_column('admin_from_directory')
        batch.drop_column('admin_by_hand')
    with op.batch_alter_table('membership') as batch:
        batch.drop_column('lead_from_directory')
        batch.drop_column('from_directory')
        batch.drop_column('lead_by_hand')
        batch.drop_column('by_hand')
    op.drop_table('group_mapping')
