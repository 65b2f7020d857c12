"""Rows of running totals (the inbox counters, the report summaries): a commit adds its changes
to them in the same transaction, and a row left at zero is deleted (no row for what no case is)."""

import functools

import sqlalchemy as sa

from .extensions import insert_of

DELETED_AT_ONCE = 200


@functools.cache
def _upsert(dialect, table, key_columns, count_columns):
    """Add a row's counts to those of the row with its key, or insert it; returning the row.
    Built once and run for many rows (SQLAlchemy's "insertmanyvalues" batches them)."""
    statement = insert_of(dialect)(table)
    return statement.on_conflict_do_update(
        index_elements=[table.c[name] for name in key_columns],
        set_={name: table.c[name] + statement.excluded[name] for name in count_columns},
    ).returning(*(table.c[name] for name in (*key_columns, *count_columns)))


def add(connection, table, key_columns, count_columns, totals):
    """Add `totals` ({key: counts, in the order of `count_columns`}) to `table`'s rows, keyed by
    `key_columns` (names), then delete the rows that are zero in every count.

    Rows are written in key order, so no two commits wait for each other in a circle: one upsert
    for all of them, one delete (of DELETED_AT_ONCE keys at most).
    """
    keys = sorted(key for key, counts in totals.items() if any(counts))
    if not keys:
        return
    left = connection.execute(
        _upsert(connection.dialect.name, table, tuple(key_columns), tuple(count_columns)),
        [{**dict(zip(key_columns, key, strict=True)),
          **dict(zip(count_columns, totals[key], strict=True))} for key in keys]).all()
    emptied = [row[:len(key_columns)] for row in left if not any(row[len(key_columns):])]
    # Each key spelled out: SQLite reads `(a, b) IN (VALUES ...)` by scanning the whole table
    # (57 ms over the summaries at a million cases), an OR of keys through the index. So many
    # keys at a time that neither SQLite's expression depth (1 000) nor PostgreSQL's 65 535
    # parameters is reached (carrying forward empties thousands of rows at once).
    for start in range(0, len(emptied), DELETED_AT_ONCE):
        connection.execute(table.delete().where(
            sa.or_(*(sa.and_(*(table.c[name] == value
                               for name, value in zip(key_columns, key, strict=True)))
                     for key in emptied[start:start + DELETED_AT_ONCE])),
            *(table.c[name] == 0 for name in count_columns)))
