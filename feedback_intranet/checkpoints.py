"""SQLite's write-ahead log copied into the database off the request path.

SQLite copies its log into the database (a checkpoint, with an fsync) in whichever commit finds
the log over 1 000 pages. A case action writes some 40 pages (a case's row is in 23 indexes), so
every 25th action or so waited 13-25 ms longer for it: most of the actions' slowest twentieth at
a million cases (bench/results.md). A thread of each web worker takes a passive checkpoint every
SQLITE_CHECKPOINT_SECONDS instead. A passive checkpoint waits for no reader or writer, and the
log's pages are copied while requests go on, so commits find the log short. SQLite's own
checkpoint at 1 000 pages stays as the backstop: for a burst of writes between two rounds, or a
log a long read (an export) kept from being copied whole.
"""

import logging
import sqlite3
import threading

from .backups import database_file

log = logging.getLogger(__name__)


def checkpoint(connection):
    """Copy what the log holds into the database, waiting for nobody: (pages in the log, pages
    copied), or None when another checkpoint was running."""
    busy, pages, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return None if busy else (pages, copied)


class Checkpoints(threading.Thread):
    """Checkpoints of the database file at `path`, every `seconds`, until stopped."""

    def __init__(self, path, seconds):
        super().__init__(name="sqlite-checkpoints", daemon=True)
        self.path, self.seconds = path, seconds
        self.rounds, self.last = 0, None
        self.stopping = threading.Event()
        self.round_done = threading.Condition()

    def run(self):
        # Its own connection, outside the pool: a round never waits for a request's connection.
        connection = sqlite3.connect(self.path, check_same_thread=False)
        try:
            while not self.stopping.wait(self.seconds):
                try:
                    self.last = checkpoint(connection)
                except sqlite3.Error as error:  # a locked or busy database: the next round
                    log.warning("SQLite checkpoint failed: %s", error)
                    self.last = None
                with self.round_done:
                    self.rounds += 1
                    self.round_done.notify_all()
        finally:
            connection.close()

    def wait_for_round(self, timeout):
        """Wait for the next round to finish (for tests); whether it did."""
        with self.round_done:
            rounds = self.rounds
            return self.round_done.wait_for(lambda: self.rounds > rounds, timeout)

    def stop(self):
        self.stopping.set()
        self.join()


def start(engine, seconds):
    """The checkpoints of the engine's database, started; None unless it is a SQLite file."""
    if engine.dialect.name != "sqlite":
        return None
    connection = engine.raw_connection()
    try:
        path = database_file(connection.driver_connection)
    finally:
        connection.close()
    if not path:  # a database in memory has no log
        return None
    thread = Checkpoints(path, seconds)
    thread.start()
    return thread


def register(app, db):
    """With SQLITE_CHECKPOINT_SECONDS set, a worker starts the checkpoints with its first request
    (app.extensions["sqlite_checkpoints"]): after a server's fork, which a thread does not
    survive."""
    seconds = app.config.get("SQLITE_CHECKPOINT_SECONDS")
    if not seconds:
        return
    starting = threading.Lock()

    @app.before_request
    def start_checkpoints():
        if "sqlite_checkpoints" not in app.extensions:
            with starting:  # a threaded worker's first requests may come together
                if "sqlite_checkpoints" not in app.extensions:
                    app.extensions["sqlite_checkpoints"] = start(db.engine, seconds)
