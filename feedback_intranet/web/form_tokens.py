"""One-time tokens on action forms: a double click or a resubmit acts once."""

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
    table = UsedFormToken.__table__
    connection = db.session.connection()
    # RETURNING, since psycopg gives no row count for an INSERT here.
    inserted = connection.execute(
        insert_of(connection.dialect.name)(table).values(token=token[:64], used_at=clock.now())
        .on_conflict_do_nothing().returning(table.c.token)).first()
    if inserted is None:
        flash("That was already done.", "info")
        return False
    return True
