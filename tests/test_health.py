"""The load balancer's questions: is the process alive (/healthz), is it ready to serve (/readyz)."""

import os
import threading

import pytest
import sqlalchemy as sa

from feedback_intranet import create_app
from feedback_intranet.extensions import db, limiter
from feedback_intranet.models import AuditEvent
from feedback_intranet.monitoring import readiness

from .conftest import free_port

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _stamp(revisions):
    """The database's migration revisions, as `flask db upgrade` leaves them."""
    with db.engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        if revisions is None:
            return
        connection.execute(sa.text(
            "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
        for revision in revisions:
            connection.execute(sa.text("INSERT INTO alembic_version VALUES (:r)"), {"r": revision})


@pytest.fixture
def migrated(data):
    """The test database at the migrations' head (the suite builds its schema without them)."""
    _stamp(readiness.schema_head())
    yield
    _stamp(None)


def _audit_rows():
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))


def test_healthz_answers_without_the_database_or_a_login(client, data, make_user, login, units):
    make_user("anna", units=[units["helsinki"]])
    login("anna")

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "alive"}
    # Not even the signed-in user's session is read.
    assert response.headers["X-Query-Count"] == "0"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


@pytest.mark.committed
def test_a_migrated_database_is_ready(client, migrated):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ready",
                                   "checks": {"database": "ok", "schema": "ok"}}
    assert "Set-Cookie" not in response.headers
    assert _audit_rows() == 0


@pytest.mark.committed
def test_a_database_without_migrations_is_not_ready(client, data):
    _stamp(None)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.get_json() == {"status": "not ready", "checks": {
        "database": "ok", "schema": "no migrations applied: run flask db upgrade"}}


@pytest.mark.committed
def test_a_database_behind_the_code_is_not_ready(client, data):
    _stamp({"0035_inbound_mail"})
    try:
        response = client.get("/readyz")
    finally:
        _stamp(None)

    assert response.status_code == 503
    (head,) = readiness.schema_head()
    assert response.get_json()["checks"] == {
        "database": "ok",
        "schema": f"at 0035_inbound_mail, the code needs {head}: run flask db upgrade"}


@pytest.mark.parametrize("url", [
    "postgresql+psycopg://postgres@127.0.0.1:{port}/test",
    "sqlite:////nonexistent-folder/feedback.sqlite",
])
def test_a_database_that_cannot_be_reached_is_named_without_its_address(url):
    app = create_app({"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": url.format(port=free_port())})

    response = app.test_client().get("/readyz")

    assert response.status_code == 503
    assert response.get_json()["checks"] == {
        "database": "cannot be reached (OperationalError)",
        "schema": "not known: the database did not answer"}
    assert "127.0.0.1" not in response.get_data(as_text=True)
    assert "nonexistent" not in response.get_data(as_text=True)


@pytest.mark.committed
def test_a_database_that_does_not_answer_within_a_second_is_not_ready(app, client, migrated):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a reader blocked by a lock needs PostgreSQL (SQLite's WAL never blocks one)")
    locked, release = threading.Event(), threading.Event()
    engine = db.engine

    def hold_the_lock():
        with engine.begin() as connection:
            connection.execute(sa.text("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE"))
            locked.set()
            release.wait(10)

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert locked.wait(10)
        first, second = client.get("/readyz"), client.get("/readyz")
    finally:
        release.set()
        holder.join()

    for response in (first, second):
        assert response.status_code == 503
        assert response.get_json()["checks"]["database"] in (
            "did not answer within 1 s", "cannot be reached (OperationalError)")
    # Once the lock is gone the same process is ready again: the hanging check did not stick.
    for _ in range(20):
        again = client.get("/readyz")
        if again.status_code == 200:
            break
    assert again.get_json()["status"] == "ready"


@pytest.mark.committed
def test_redis_is_checked_when_the_app_uses_it(database_url, clock, migrated):
    dead_uri = f"redis://127.0.0.1:{free_port()}/0"
    answering = create_app({"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": database_url,
                            "CLOCK": clock, "INBOX_CACHE_URI": REDIS_URL})
    silent = create_app({"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": database_url,
                         "CLOCK": clock, "INBOX_CACHE_URI": dead_uri})
    try:
        up, down = answering.test_client().get("/readyz"), silent.test_client().get("/readyz")
    finally:
        for app in (answering, silent):
            with app.app_context():
                db.engine.dispose()

    assert up.status_code == 200
    assert up.get_json()["checks"] == {"database": "ok", "schema": "ok", "redis": "ok"}
    assert down.status_code == 503
    assert down.get_json()["checks"] == {"database": "ok", "schema": "ok",
                                         "redis": "cannot be reached (ConnectionError)"}


def test_the_checks_count_against_no_rate_limit(app, database_url, clock):
    """(`app`: the test's transaction, which this app joins, takes back the 429's audit row.)"""
    # The limiter is one object for every app: what this app's default limit sets on it is put
    # back afterwards.
    saved = dict(vars(limiter)), dict(vars(limiter.limit_manager))
    limited = create_app({"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": database_url,
                          "CLOCK": clock, "RATELIMIT_DEFAULT": "2 per minute"})
    client = limited.test_client()
    try:
        answers = [client.get(path).status_code
                   for _ in range(5) for path in ("/healthz", "/readyz")]
        # The default limit holds elsewhere: the check is the exemption, not a missing limiter.
        elsewhere = [client.get("/login").status_code for _ in range(3)]
    finally:
        vars(limiter).update(saved[0])
        vars(limiter.limit_manager).update(saved[1])

    assert 429 not in answers
    assert elsewhere[-1] == 429
