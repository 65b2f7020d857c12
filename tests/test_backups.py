"""A backup that has been restored: taken while staff work, restored, it holds exactly the state
at the moment it copied; the intranet starts on it, says it is ready, and shares nothing of its
inbox cache with the original's.

PostgreSQL: pg_dump (deploy/backup-postgresql, as the nightly unit runs it) and pg_restore into
a fresh database. SQLite: `flask backup`'s online backup API, the copy put back where the
original was.
"""

import hashlib
import os
import shutil
import sqlite3
import subprocess
import threading
import uuid
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa
from redis import Redis

from feedback_intranet import access, clock, create_app
from feedback_intranet.backups import backup_sqlite, copy_database, database_identity
from feedback_intranet.cases import operations
from feedback_intranet.closing_days import banking_calendar
from feedback_intranet.demo import DEMO_PASSWORD, seed_demo
from feedback_intranet.extensions import cache, db
from feedback_intranet.models import Case, Heartbeat, Unit, User

from .conftest import FakeClock, database_url_from_env

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ON_POSTGRESQL = (database_url_from_env() or "").startswith("postgresql")
needs_postgresql = pytest.mark.skipif(not ON_POSTGRESQL,
                                      reason="pg_dump and pg_restore back up PostgreSQL")
needs_sqlite = pytest.mark.skipif(ON_POSTGRESQL, reason="the SQLite backup is SQLite's")


def intranet(url, clock_):
    """An app as a host runs it, its inbox cache in the shared Redis."""
    return create_app({"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": url, "CLOCK": clock_,
                       "INBOX_CACHE_URI": REDIS_URL})


def seeded(url, clock_):
    """The intranet on a new database: built by the migrations, with the demo's 300 cases."""
    app = intranet(url, clock_)
    with app.app_context():
        flask_migrate.upgrade()
        seed_demo(clock.now(), banking_calendar(clock.timezone()), cases=300)
        db.session.commit()
    return app


def state(rows):
    """Every table's row count and a digest of the cases, row by row in id order, as seen by
    `rows` (a function from SQL to the rows it returns, in the transaction to look at)."""
    tables = rows("SELECT tablename FROM pg_tables WHERE schemaname = 'public'" if ON_POSTGRESQL
                  else "SELECT name FROM sqlite_master WHERE type = 'table'")
    counts = {name: rows(f'SELECT count(*) FROM "{name}"')[0][0]  # noqa: S608 - catalogue names
              for (name,) in tables}
    digest = hashlib.sha256()
    for row in rows("SELECT * FROM feedback_case ORDER BY id"):
        digest.update(repr(tuple(row)).encode())
    return counts, digest.hexdigest()


def state_of(engine):
    with engine.connect() as connection:
        return state(lambda sql: connection.exec_driver_sql(sql).all())


class Staff:
    """Customer service's team lead at work in two threads (two browser tabs, say) until
    stopped: each change takes an open case or hands it back, with a note, and commits on its
    own. `wait_for(n)` returns once n changes in all are committed."""

    def __init__(self, app, threads=2):
        self.app, self.stop, self.changes, self.failure = app, threading.Event(), 0, None
        self.committed = threading.Condition()
        # The cases are chosen once, before any thread starts: chosen by each thread, a case the
        # first had already taken would drop out of the second's choice and shift another case
        # into it, and both threads would change that one.
        with app.app_context():
            lead = db.session.scalar(sa.select(User).where(User.username == "cs.lead"))
            cs = db.session.scalar(sa.select(Unit.id).where(Unit.code == "cs"))
            cases = db.session.scalars(
                sa.select(Case).where(Case.current_unit_id == cs).order_by(Case.id)).all()
            # A few cases only: the rest of the inbox's first page stays as it was at the
            # backup, for the cache test to find rows the original and the copy both show.
            case_ids = [case.id for case in cases
                        if "take" in access.available_actions(lead, case)][:4]
            db.session.remove()
        self.threads = [threading.Thread(target=self._work, args=(case_ids[i::threads],))
                        for i in range(threads)]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)
        if self.failure:
            raise self.failure

    def wait_for(self, changes):
        with self.committed:
            assert self.committed.wait_for(
                lambda: self.changes >= changes or self.failure, timeout=60)
        if self.failure:
            raise self.failure

    def _work(self, case_ids):
        with self.app.app_context():
            try:
                lead = db.session.scalar(sa.select(User).where(User.username == "cs.lead"))
                while not self.stop.is_set():
                    for case_id in case_ids:
                        self._change(lead, db.session.get(Case, case_id))
                        if self.stop.is_set():
                            break
            except Exception as error:  # noqa: BLE001 - the test thread raises it
                self.failure = error
                with self.committed:
                    self.committed.notify_all()
            finally:
                db.session.remove()

    def _change(self, lead, case):
        now = clock.now()
        if case.assignee_id == lead.id:
            operations.unassign(lead, case, now=now)
        else:
            operations.take(lead, case, now=now)
        operations.add_note(lead, case, "Soitin asiakkaalle, soitan huomenna uudelleen.", now=now)
        db.session.commit()
        with self.committed:
            self.changes += 1
            self.committed.notify_all()


class InboxCache:
    """The shared Redis the apps cache inboxes in."""

    def __init__(self):
        self.redis = Redis.from_url(REDIS_URL)
        self.db = self.redis.connection_pool.connection_kwargs.get("db", 0)

    @staticmethod
    def prefix(app):
        """The app's key prefix: inbox:<release>:<database>:"""
        with app.app_context():
            return cache.cache.key_prefix()

    def keys(self, app):
        """The app's entries, without their prefix."""
        prefix = self.prefix(app)
        return {key.decode()[len(prefix):] for key in self.redis.scan_iter(f"{prefix}*")}

    def commands_of(self, app):
        """Every command the app sends to Redis while the inbox is opened (Redis' MONITOR)."""
        marker = f"end-of-{uuid.uuid4().hex}"
        seen = []
        with self.redis.monitor() as monitor:
            open_inbox(app)
            self.redis.echo(marker)
            while marker not in (command := monitor.next_command())["command"]:
                if command["db"] == self.db:
                    seen.append(command["command"])
        return seen

    def forget(self, *apps):
        for app in apps:
            self.redis.delete(*(f"{self.prefix(app)}{key}" for key in self.keys(app)))


def open_inbox(app):
    """Customer service's team lead opens the unit's inbox."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert client.post("/login", data={"username": "cs.lead", "password": DEMO_PASSWORD}
                       ).status_code == 302
    assert client.get("/inbox/cs").status_code == 200


def assert_starts_on_its_own(restored, original, shared):
    """The restored intranet's schema is brought to the code's (`flask db upgrade`, as the
    README's restore says), it is ready, and it reads nothing the original cached (the
    original's staff opened their inbox before)."""
    result = restored.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    ready = restored.test_client().get("/readyz")
    assert ready.status_code == 200, ready.get_json()

    commands = shared.commands_of(restored)
    assert any(command.startswith("MGET ") for command in commands)
    assert [c for c in commands if shared.prefix(original) in c] == []
    # The same figures and rows under the same names but for the prefix: without the database's
    # identity in it, the restored intranet would have read what the original cached.
    assert shared.keys(restored) & shared.keys(original)
    shared.forget(original, restored)


@pytest.fixture
def postgresql_databases():
    """Two new databases beside the test database: the original and the one restored into."""
    base = sa.engine.make_url(database_url_from_env())
    names = [f"{base.database}_{role}_{uuid.uuid4().hex[:8]}" for role in ("original", "restored")]
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{names[0]}"')
    yield [base.set(database=name).render_as_string(hide_password=False) for name in names]
    with admin.connect() as connection:
        for name in names:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def libpq(url):
    """The URL as pg_dump and pg_restore take it (no SQLAlchemy driver)."""
    return sa.engine.make_url(url).set(drivername="postgresql").render_as_string(
        hide_password=False)


@needs_postgresql
def test_a_postgresql_dump_taken_while_staff_work_restores_to_the_state_at_its_snapshot(
        postgresql_databases, tmp_path):
    original_url, restored_url = postgresql_databases
    original = seeded(original_url, FakeClock())
    with original.app_context():
        engine = db.engine
    with Staff(original) as staff:
        staff.wait_for(5)
        # The dump reads in the snapshot this transaction exported, and the figures are read in
        # the same transaction: both see exactly the same committed changes.
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as snapshot:
            snapshot_id = snapshot.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
            at_snapshot = state(lambda sql: snapshot.exec_driver_sql(sql).all())
            # Changes committed after the snapshot, before the dump starts and while it runs.
            staff.wait_for(staff.changes + 5)
            dump = subprocess.run(
                [ROOT / "deploy" / "backup-postgresql", tmp_path, f"--snapshot={snapshot_id}"],
                env={**os.environ, "DATABASE_URL": original_url}, capture_output=True, text=True,
                timeout=120)
            assert dump.returncode == 0, dump.stderr
            snapshot.rollback()
    (written,) = tmp_path.iterdir()
    assert dump.stdout.strip() == str(written) and written.name.startswith("feedback-")

    admin = sa.create_engine(original_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{sa.engine.make_url(restored_url).database}"')
    admin.dispose()
    restore = subprocess.run(["pg_restore", "--exit-on-error", "--no-owner",
                              f"--dbname={libpq(restored_url)}", written],
                             capture_output=True, text=True, timeout=120)
    assert restore.returncode == 0, restore.stderr

    restored = intranet(restored_url, FakeClock())
    with restored.app_context():
        assert state_of(db.engine) == at_snapshot
    # The staff's later changes are in the original only.
    assert state_of(engine) != at_snapshot

    open_inbox(original)
    assert_starts_on_its_own(restored, original, InboxCache())
    for app in (original, restored):
        with app.app_context():
            db.engine.dispose()


@needs_sqlite
def test_an_sqlite_backup_taken_while_staff_work_restores_to_the_state_it_copied(tmp_path):
    live = tmp_path / "feedback.sqlite"
    original = seeded(f"sqlite:///{live}", FakeClock())
    with Staff(original) as staff:
        staff.wait_for(5)
        # The backup copies in one step, within the read transaction its source connection has
        # open: the figures read first in that same transaction are the state it copies.
        # Transactions as written here (BEGIN, COMMIT), not as the module would start them.
        source = sqlite3.connect(live, isolation_level=None)
        source.execute("BEGIN")
        at_copy = state(lambda sql: source.execute(sql).fetchall())
        # Changes committed after that state was read, before the copy starts and while it runs.
        staff.wait_for(staff.changes + 5)
        backup = copy_database(source, tmp_path / "backup.sqlite")
        source.execute("COMMIT")
        source.close()
    # The original's staff open their inbox: the shared cache holds its entries.
    open_inbox(original)
    with original.app_context():
        assert state_of(db.engine) != at_copy
        db.engine.dispose()

    # The restore: the original (with its write-ahead log) moved aside, the backup put back
    # where it was.
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{live}{suffix}").exists():
            Path(f"{live}{suffix}").replace(tmp_path / f"broken.sqlite{suffix}")
    shutil.copyfile(backup, live)
    restored = intranet(f"sqlite:///{live}", FakeClock())
    with restored.app_context():
        assert state_of(db.engine) == at_copy
    assert_starts_on_its_own(restored, original, InboxCache())
    with restored.app_context():
        db.engine.dispose()


@needs_sqlite
def test_flask_backup_names_the_copy_by_the_time_and_never_overwrites_one(runner, data, tmp_path):
    result = runner.invoke(args=["backup", str(tmp_path)])
    assert result.exit_code == 0, result.output
    written = tmp_path / "feedback-2026-11-25T080000Z.sqlite"
    assert result.output.startswith(f"Backed up the database to {written} (")
    assert sorted(tmp_path.iterdir()) == [written]
    again = runner.invoke(args=["backup", str(written)])
    assert again.exit_code == 1 and "never overwrites" in again.output
    assert db.session.get(Heartbeat, "backup").seconds >= 0


@needs_postgresql
def test_flask_backup_on_postgresql_runs_pg_dump_and_records_the_backup(
        _schema, database_url, tmp_path):
    """The nightly unit's command: a dump pg_restore reads, named by the time, the password on
    no command line and in no output, and the backup's heartbeat for the alert. (No `data`: the
    command must run in this app's own context, on its own URL.)"""
    url = sa.engine.make_url(database_url).set(password="s3cret")  # trust auth ignores it
    app = create_app({"CONFIG": "testing",
                      "SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False)})
    runner = app.test_cli_runner()

    result = runner.invoke(args=["backup", str(tmp_path)])
    refused = runner.invoke(args=["backup", str(tmp_path / "feedback.dump")])

    assert result.exit_code == 0, result.output
    (written,) = tmp_path.glob("feedback-*.dump")
    assert result.output.startswith(f"Backed up the database to {written} (")
    listed = subprocess.run(["pg_restore", "--list", written], capture_output=True, text=True)
    assert listed.returncode == 0 and "TABLE public feedback_case" in listed.stdout
    assert "s3cret" not in result.output
    assert refused.exit_code == 1 and "is not a directory" in refused.output
    with app.app_context():
        assert db.session.get(Heartbeat, "backup").finished_at is not None
        db.session.execute(sa.delete(Heartbeat))
        db.session.commit()
        db.engine.dispose()


@needs_sqlite
def test_a_backup_copied_back_over_the_original_file_is_another_database_to_the_cache(tmp_path):
    """`cp` over the original keeps its path and inode: the incarnation each backup draws still
    tells the two apart, so nothing the original cached is read."""
    live = tmp_path / "feedback.sqlite"
    engine = sa.create_engine(f"sqlite:///{live}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE note (text)")
    original = database_identity(engine)
    backup = backup_sqlite(engine, tmp_path)
    engine.dispose()
    inode = live.stat().st_ino
    shutil.copyfile(backup, live)
    assert live.stat().st_ino == inode
    assert database_identity(engine) != original
    engine.dispose()
