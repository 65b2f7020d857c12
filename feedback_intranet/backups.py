"""Backups of an SQLite database, through SQLite's online backup API, and what tells a database
from a restored copy of it.

A file copy of a live database may catch a page half written, or leave out what still waits in
the write-ahead log; the backup API copies one consistent state while the app goes on writing.
PostgreSQL is backed up with its own tools: pg_dump (deploy/backup-postgresql, which
`backup_postgresql` runs) and WAL archiving (README: "Backups").
"""

import hashlib
import os
import secrets
import sqlite3
import subprocess  # nosec B404 - our own script, arguments as a list, no shell
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import URL

from .refusals import Refusal

DUMP_SCRIPT = Path(__file__).resolve().parent.parent / "deploy" / "backup-postgresql"

# A restore into a fresh database gets a new oid; on another server, another system identifier;
# a point-in-time recovery goes on in a new timeline (the first 8 digits of a WAL file's name).
_POSTGRESQL_IDENTITY = """
SELECT d.oid, d.datname, s.system_identifier, left(pg_walfile_name(pg_current_wal_lsn()), 8)
FROM pg_database AS d, pg_control_system() AS s WHERE d.datname = current_database()
"""


def backup_postgresql(engine, directory):
    """Dump the engine's PostgreSQL database with pg_dump's custom format into `directory`, named
    by the time (deploy/backup-postgresql). Returns the file written."""
    directory = Path(directory)
    if not directory.is_dir():
        raise Refusal(f"{directory} is not a directory: on PostgreSQL the dump is named by the "
                      "time in the directory given.")
    url = engine.url
    # The password goes to pg_dump in its environment, never on a command line others can read.
    environment = {**os.environ, "DATABASE_URL": URL.create(
        "postgresql", url.username, None, url.host, url.port, url.database, url.query,
    ).render_as_string(hide_password=False)}
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    done = subprocess.run([str(DUMP_SCRIPT), str(directory)], env=environment,  # nosec B603
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        said = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise Refusal(f"pg_dump failed, no backup written: {said}")
    return Path(done.stdout.strip())


def backup_sqlite(engine, destination, now=None):
    """Copy the engine's SQLite database to `destination`: a new file, or a directory to put
    one named by the time in. Returns the file written."""
    destination = Path(destination)
    if destination.is_dir():
        moment = (now or datetime.now(UTC)).astimezone(UTC)
        destination = destination / f"feedback-{moment:%Y-%m-%dT%H%M%SZ}.sqlite"
    with closing(engine.raw_connection()) as source:
        return copy_database(source.driver_connection, destination)


def copy_database(source, destination):
    """Copy the database of `source` (an sqlite3 connection) to the new file `destination`.

    The copy is made in one step, so within one read transaction (the one `source` has open, if
    any): writers go on meanwhile, as the database is in WAL mode, and the copy holds the state
    that transaction sees. It is written under a temporary name and renamed once whole and
    checked, so a file with a backup's name is always a whole backup.
    """
    destination = Path(destination)
    if not database_file(source):
        raise Refusal("The database is in memory: there is no file to back up.")
    if destination.exists():
        raise Refusal(f"{destination} exists: a backup never overwrites a file.")
    partial = destination.with_name(f".{destination.name}.partial")
    try:
        with closing(sqlite3.connect(partial)) as copy:
            source.backup(copy)
            _new_incarnation(copy)
            (check,) = copy.execute("PRAGMA quick_check").fetchone()
        if check != "ok":
            raise Refusal(f"The copy fails SQLite's check ({check}): no backup written.")
        with open(partial, "rb") as written:
            os.fsync(written.fileno())
        partial.replace(destination)
    finally:
        partial.unlink(missing_ok=True)
    folder = os.open(destination.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
    return destination


def database_identity(engine):
    """A digest of what tells this database from a copy of it (a restored backup has the same
    rows), read on a connection of its own: no statement of whichever page asks first."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        if engine.dialect.name == "postgresql":
            cursor.execute(_POSTGRESQL_IDENTITY)
            parts = tuple(cursor.fetchone())
        else:
            # The file, and the incarnation each backup draws: a file put back where the
            # original was may well get its inode number too.
            path = database_file(connection.driver_connection)
            found = os.stat(path) if path else None  # a database in memory is the process's own
            cursor.execute("PRAGMA user_version")
            parts = (path, found and found.st_dev, found and found.st_ino, cursor.fetchone()[0])
    finally:
        connection.close()
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:12]


def database_file(connection):
    """The main database's file, or "" for a database in memory."""
    return next(row[2] for row in connection.execute("PRAGMA database_list") if row[1] == "main")


def _new_incarnation(copy):
    """Mark the copy as a database of its own (see database_identity). SQLite leaves
    user_version to the application, and nothing else here uses it."""
    copy.execute(f"PRAGMA user_version = {secrets.randbelow(2**31 - 1) + 1}")
    copy.commit()
