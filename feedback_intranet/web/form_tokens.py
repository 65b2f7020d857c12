"""One-time tokens on action forms: a double click or a resubmit acts once."""

import functools

import sqlalchemy as sa
from flask import abort, flash

from .. import clock
from ..extensions import db, insert_of
from ..models import UsedFormToken


def consume_token(token):
    """Record a form's one-time token in the current transaction; False if it was used before.

    The token is stored with the change it guards, so a rolled-back change frees it again. One
    INSERT past the ORM's unit of work, which would cost as much as the statement to flush one
    row; a second request with the token waits for the first's commit, then inserts nothing.
    """
    if not token:
        abort(400)
    connection = db.session.connection()
    inserted = connection.execute(_record(connection.dialect.name),
                                  {"token": token[:64], "used_at": clock.now()}).first()
    if inserted is None:
        flash("That was already done.", "info")
        return False
    return True


@functools.cache
def _record(dialect_name):
    """The INSERT of consume_token, built once per database: every case action runs it, and
    building it took longer than running it."""
    table = UsedFormToken.__table__
    # RETURNING, since psycopg gives no row count for an INSERT here.
    return (insert_of(dialect_name)(table)
            .values(token=sa.bindparam("token", type_=table.c.token.type),
                    used_at=sa.bindparam("used_at", type_=table.c.used_at.type))
            .on_conflict_do_nothing().returning(table.c.token))
