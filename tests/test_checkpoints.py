"""On SQLite a web worker's thread copies the write-ahead log into the database, so no request's
commit waits for it (feedback_intranet/checkpoints.py)."""

import sqlite3

import pytest

from feedback_intranet import create_app
from feedback_intranet.checkpoints import checkpoint


def _writer(path):
    """A connection in write-ahead mode whose commits never copy the log themselves."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA wal_autocheckpoint=0")
    connection.execute("CREATE TABLE IF NOT EXISTS note (id INTEGER PRIMARY KEY, text TEXT)")
    return connection


def _write(connection, rows=1000):
    connection.execute("BEGIN")
    connection.executemany("INSERT INTO note (text) VALUES (?)",
                           [("Asiakas soitti ja kysyi kortin rajoista. " * 20,)] * rows)
    connection.execute("COMMIT")


def test_a_passive_checkpoint_copies_the_whole_log_when_nobody_reads(tmp_path):
    path = tmp_path / "log.sqlite"
    writer = _writer(path)
    _write(writer)
    pages, copied = checkpoint(sqlite3.connect(path))
    assert pages == copied > 200  # 1 000 rows of 900 bytes, in pages of 4 kB


def test_a_web_worker_copies_the_log_between_requests_so_it_stays_short(tmp_path):
    path = tmp_path / "worker.sqlite"
    app = create_app({"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                      "SQLITE_CHECKPOINT_SECONDS": 0.01})
    # None before the worker's first request (a fork loses threads)
    assert "sqlite_checkpoints" not in app.extensions
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    thread = app.extensions["sqlite_checkpoints"]
    assert client.get("/healthz").status_code == 200
    assert app.extensions["sqlite_checkpoints"] is thread  # one, however many requests
    try:
        writer = _writer(path)
        _write(writer)
        grown = (tmp_path / "worker.sqlite-wal").stat().st_size
        assert thread.wait_for_round(5) and thread.wait_for_round(5)
        pages, copied = thread.last
        assert pages == copied > 200
        # Copied whole, the log starts again from its beginning: the same writes three times more
        # leave it about as long (a page or two of the table's growing tree aside), where without
        # the thread it would be four times as long.
        for _ in range(3):
            _write(writer)
            assert thread.wait_for_round(5) and thread.wait_for_round(5)
        assert (tmp_path / "worker.sqlite-wal").stat().st_size < 1.2 * grown
    finally:
        thread.stop()
    assert not thread.is_alive()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:",
                                 "postgresql+psycopg://postgres@127.0.0.1:5432/test"])
def test_only_a_sqlite_file_has_a_log_to_copy(url):
    app = create_app({"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": url,
                      "SQLITE_CHECKPOINT_SECONDS": 0.01})
    assert app.test_client().get("/healthz").status_code == 200
    assert app.extensions["sqlite_checkpoints"] is None


def test_without_seconds_set_no_thread_starts(tmp_path):
    app = create_app({"CONFIG": "testing",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'off.sqlite'}",
                      "SQLITE_CHECKPOINT_SECONDS": 0})
    assert app.test_client().get("/healthz").status_code == 200
    assert "sqlite_checkpoints" not in app.extensions
