"""PostgreSQL keeps each worker's statements prepared from one request to the next.

psycopg prepares a statement once it has run five times on a connection, and forgets every
prepared statement whenever a transaction ends with ROLLBACK. A request that only reads ends its
transaction so (the session closes), so no statement ever reached five and PostgreSQL parsed and
planned every one of them on every request: 1.5 ms for the signed-in user's own statement, whose
run takes 0.4. A request that wrote nothing therefore ends its transaction with COMMIT, which is
the same for the data.
"""

import psycopg
import sqlalchemy as sa

from ..extensions import db

# psycopg keeps 100 by default. An inbox's first, next and last pages alone take some 100 (one per
# filter, sort, direction, paging and status), the other pages 30 more, so the least recently
# used went out, came back unprepared and were planned again. The server holds up to 0.2 MB
# for each (53 took a backend from 1.3 to 12.7 MB): at worst some 50 MB per connection.
PREPARED_MAX = 250
_WROTE_NOTHING = sa.text("SELECT txid_current_if_assigned() IS NULL")
_MAY_HAVE_WRITTEN = "feedback_intranet.may_have_written"


def register_prepared_statements(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return
    with app.app_context():
        engine = db.engine

    @sa.event.listens_for(engine, "connect")
    def keep_more(dbapi_connection, _record):
        dbapi_connection.prepared_max = PREPARED_MAX

    # Whether a transaction may have written, kept as its statements run: a transaction of
    # SELECTs alone is committed without asking the server (one round trip less per page).
    @sa.event.listens_for(engine, "begin")
    def begin(connection):
        connection.info[_MAY_HAVE_WRITTEN] = False

    # Only statements sent through SQLAlchemy are seen: code writing through the driver's own
    # cursor (the demo loader's COPY) commits its work itself.
    @sa.event.listens_for(engine, "before_cursor_execute")
    def note_writes(connection, _cursor, statement, _parameters, _context, _executemany):
        if not statement.startswith("SELECT "):
            connection.info[_MAY_HAVE_WRITTEN] = True

    # Registered after Flask-SQLAlchemy's, so it runs before the session is removed.
    @app.teardown_appcontext
    def end_reads_with_commit(error):
        session = db.session()
        if error is not None or not session.in_transaction():
            return
        try:
            connection = session.connection()
            if connection.in_nested_transaction():
                return  # a savepoint inside a transaction that is not the request's own
            # Only SELECTs, or no transaction id: the transaction wrote nothing (PostgreSQL
            # assigns one on the first write). Changes not yet flushed are not in it and are
            # dropped at close.
            if not connection.info.get(_MAY_HAVE_WRITTEN, True) \
                    or connection.execute(_WROTE_NOTHING).scalar():
                # The driver's own commit: the session's rollback at close then finds no
                # transaction to end, and psycopg keeps its prepared statements.
                connection.connection.dbapi_connection.commit()
        except (sa.exc.SQLAlchemyError, psycopg.Error):
            # A lost connection: the response stands; closing the session deals with it.
            return
