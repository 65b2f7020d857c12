"""workspace: inbox sort keys, and moving on to the next case

The inbox sorts by due date, received, customer and topic. Names need keys of their own (the
shown name comes from the case or the register; topics are shown per language; Å, Ä, Ö sort
after Z): stored on the case, filled here, and one index per sort within a unit and status.
Staff may choose to open the next case of their list after a forward, an answer or a close.

Revision ID: 0020_workspace
Revises: 0019_audit_truncate
Create Date: 2026-11-29 17:00:00

"""
from alembic import op
import sqlalchemy as sa

# The keys are made by the rule the code uses, so the stored ones are the ones it would write.
from feedback_intranet.rules.sort_keys import NO_NAME, sort_key


# revision identifiers, used by Alembic.
revision = '0020_workspace'
down_revision = '0019_audit_truncate'
branch_labels = None
depends_on = None

BATCH = 5000
SortKey = sa.String(60).with_variant(sa.String(60, collation="C"), "postgresql")
TOPIC_SORT_LANGUAGES = ("fi", "sv", "en")
SORT_INDEXES = {
    "received": ("received_at", "id"),
    "customer": ("customer_sort", "effective_due_date", "received_at", "id"),
    **{f"topic_{language}": (f"topic_sort_{language}", "effective_due_date", "received_at", "id")
       for language in TOPIC_SORT_LANGUAGES},
}
KEY_COLUMNS = ("customer_sort", *(f"topic_sort_{language}" for language in TOPIC_SORT_LANGUAGES))

case = sa.table("feedback_case", sa.column("id"), sa.column("contact_name"),
                sa.column("customer_id"), sa.column("topic_id"),
                *(sa.column(name) for name in KEY_COLUMNS))
customer = sa.table("customer", sa.column("id"), sa.column("name"))
topic = sa.table("topic", sa.column("id"), sa.column("name"), sa.column("name_fi"),
                 sa.column("name_sv"))


def upgrade():
    with op.batch_alter_table('feedback_case') as batch_op:
        batch_op.add_column(sa.Column('customer_sort', SortKey, nullable=False,
                                      server_default=NO_NAME))
        for name in KEY_COLUMNS[1:]:
            batch_op.add_column(sa.Column(name, SortKey, nullable=False, server_default=''))
    connection = op.get_bind()
    # Topics are few: one UPDATE each.
    for topic_id, name, name_fi, name_sv in connection.execute(sa.select(topic)).all():
        names = {"fi": name_fi or name, "sv": name_sv or name, "en": name}
        connection.execute(sa.update(case).where(case.c.topic_id == topic_id).values(
            {f"topic_sort_{language}": sort_key(names[language])
             for language in TOPIC_SORT_LANGUAGES}))
    # Names: a batch of cases at a time, in id order.
    shown = sa.func.coalesce(sa.func.nullif(case.c.contact_name, ''), customer.c.name, '')
    update = (sa.update(case).where(case.c.id == sa.bindparam('case_id'))
              .values(customer_sort=sa.bindparam('key')))
    last = 0
    while True:
        rows = connection.execute(
            sa.select(case.c.id, shown).select_from(case.outerjoin(customer, customer.c.id == case.c.customer_id))
            .where(case.c.id > last).order_by(case.c.id).limit(BATCH)).all()
        if not rows:
            break
        keys = [{"case_id": case_id, "key": sort_key(name)} for case_id, name in rows]
        named = [row for row in keys if row["key"] != NO_NAME]
        if named:
            connection.execute(update, named)
        last = rows[-1][0]
    for name, columns in SORT_INDEXES.items():
        op.create_index(f'ix_feedback_case_by_{name}', 'feedback_case',
                        ['current_unit_id', 'status', *columns])
    # Statistics for the new columns and indexes, which the planner would otherwise guess at.
    op.execute('ANALYZE feedback_case')
    with op.batch_alter_table('staff_user') as batch_op:
        batch_op.add_column(sa.Column('open_next_case', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('staff_user') as batch_op:
        batch_op.drop_column('open_next_case')
    for name in SORT_INDEXES:
        op.drop_index(f'ix_feedback_case_by_{name}', table_name='feedback_case')
    with op.batch_alter_table('feedback_case') as batch_op:
        for name in KEY_COLUMNS:
            batch_op.drop_column(name)
