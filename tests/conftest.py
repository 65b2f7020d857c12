"""Fixtures: one app per session, each test in a rolled-back transaction, a settable clock,
factories.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is set.
"""

import contextlib
import email
import functools
import os
import socket
import threading
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import current_app, has_app_context
from hypothesis import settings

from feedback_intranet import audit, create_app, search
from feedback_intranet.extensions import cache as inbox_cache
from feedback_intranet.extensions import db, limiter, passwords
from feedback_intranet.models import (
    Case,
    CaseEvent,
    CaseStatus,
    Customer,
    EventKind,
    Language,
    Membership,
    ReplyChannel,
    Segment,
    Topic,
    Unit,
    UnitKind,
    User,
)
from feedback_intranet.references import next_reference
from feedback_intranet.rules.banking_days import BankingCalendar

# Deterministic property tests in CI: a fixed number of examples, no randomness.
settings.register_profile("ci", max_examples=150, deadline=None, derandomize=True)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))

HELSINKI = ZoneInfo("Europe/Helsinki")
PASSWORD = "correct horse battery"
# A Wednesday, mid-morning in Helsinki.
DEFAULT_NOW = datetime(2026, 11, 25, 10, 0, tzinfo=HELSINKI)


def database_url_from_env():
    url = os.environ.get("TEST_DATABASE_URL")
    if url and url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _resources_of_this_worker():
    """Under pytest-xdist (.ci/run's PostgreSQL pass) each worker process gets a PostgreSQL
    database and a Redis database of its own, set in the environment before any test module
    reads it, so worker subprocesses and fixtures alike find them."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    index = int(worker.removeprefix("gw"))
    base = database_url_from_env()
    if base and base.startswith("postgresql"):
        url = sa.engine.make_url(base)
        name = f"{url.database}_{worker}"
        admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            # Two CREATE DATABASEs copying template1 at once fail: one at a time.
            connection.execute(sa.text("SELECT pg_advisory_lock(4242)"))
            if connection.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                 {"name": name}) is None:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
            connection.execute(sa.text("SELECT pg_advisory_unlock(4242)"))
        admin.dispose()
        os.environ["TEST_DATABASE_URL"] = url.set(database=name).render_as_string(
            hide_password=False).replace("postgresql+psycopg://", "postgresql://", 1)
    redis_url, _slash, number = os.environ.get(
        "TEST_REDIS_URL", "redis://127.0.0.1:6379/15").rpartition("/")
    os.environ["TEST_REDIS_URL"] = f"{redis_url}/{int(number) - index}"


_resources_of_this_worker()


class FakeClock:
    def __init__(self, now=DEFAULT_NOW):
        self.moment = now

    def set(self, moment):
        self.moment = moment

    def advance(self, delta):
        self.moment += delta

    def __call__(self):
        return self.moment.astimezone(UTC)


def _reaches_the_test_database(item):
    """Whether the test uses the database under test: through the fixtures, or by reading
    TEST_DATABASE_URL itself (fresh databases for migrations, worker processes, the browser)."""
    if "database_url" in getattr(item, "fixturenames", ()):
        return True
    source = getattr(getattr(item, "module", None), "__file__", None)
    return source is not None and _reads_the_url(source)


@functools.cache
def _reads_the_url(path):
    text = Path(path).read_text()
    return "TEST_DATABASE_URL" in text or "database_url_from_env" in text


def pytest_collection_modifyitems(config, items):
    """With TEST_SKIP_DATABASE_FREE set (.ci/run's PostgreSQL pass), the tests that never reach
    the database under test are left out: they ran, the same, in the SQLite pass."""
    if not os.environ.get("TEST_SKIP_DATABASE_FREE"):
        return
    kept = [item for item in items if _reaches_the_test_database(item)]
    left_out = [item for item in items if not _reaches_the_test_database(item)]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    return database_url_from_env() or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


@pytest.fixture(scope="session")
def _schema(database_url):
    app = create_app({"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        with db.engine.begin() as connection:
            search.uninstall(connection)
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        db.create_all()
        with db.engine.begin() as connection:
            search.install(connection)
            audit.install(connection)
    yield
    with app.app_context():
        with db.engine.begin() as connection:
            search.uninstall(connection)
        db.drop_all()
        db.engine.dispose()


def _empty_tables():
    tables = list(reversed(db.metadata.sorted_tables))
    # The search table empties itself through its triggers as the cases go.
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # The audit log refuses TRUNCATE; as a superuser the tests may switch its trigger off.
            connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
            names = ", ".join(t.name for t in tables)
            connection.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())


@pytest.fixture
def clock():
    return FakeClock()


def _test_app(database_url, clock):
    return create_app({
        "CONFIG": "testing",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "CLOCK": clock,
    })


def committed(request):
    """Whether the test needs its writes committed, where other connections, threads or
    processes see them (marked `committed`): it then gets fresh apps and emptied tables."""
    return request.node.get_closest_marker("committed") is not None


class _Joined:
    """The running test's connection, if it runs in a transaction; sessions of every app on the
    test database, in the test's thread, use it."""

    connection = None
    url = None
    thread = None


def _get_bind(original):
    """Flask-SQLAlchemy's Session.get_bind, sending sessions to the test's connection
    (Flask-SQLAlchemy picks the app's engine and ignores a session's `bind`)."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if (bind is None and _Joined.connection is not None and has_app_context()
                and threading.get_ident() == _Joined.thread
                and current_app.config["SQLALCHEMY_DATABASE_URI"] == _Joined.url):
            return _Joined.connection
        return original(self, mapper=mapper, clause=clause, bind=bind, **kwargs)

    return get_bind


def _quiet_transaction_control(engine):
    """Savepoints (and on SQLite the BEGIN) go straight to the driver on the shared test engine:
    the tests' transaction around each test is no statement of the page's, so it stays out of the
    per-request statement count (COUNT_QUERIES) and of the tests' own statement listeners."""

    def run(connection, sql):
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            cursor.execute(sql)
        finally:
            cursor.close()

    dialect = engine.dialect
    dialect.do_savepoint = lambda connection, name: run(connection, f"SAVEPOINT {name}")
    dialect.do_release_savepoint = lambda connection, name: run(
        connection, f"RELEASE SAVEPOINT {name}")
    dialect.do_rollback_to_savepoint = lambda connection, name: run(
        connection, f"ROLLBACK TO SAVEPOINT {name}")
    if dialect.name != "sqlite":
        return

    # pysqlite begins transactions itself and breaks SAVEPOINT: SQLAlchemy's documented
    # workaround lets SQLAlchemy begin them instead.
    @sa.event.listens_for(engine, "connect")
    def connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def begin(connection):
        run(connection, "BEGIN")


class SharedApps:
    """One app serving the requests and one whose context arranges and checks rows, built once
    per session; each test runs inside one transaction on one connection, rolled back after it.
    Apps a test makes for a configuration of its own join that connection too, as long as they
    use the test database and the test's thread.

    The apps' own commits release savepoints (join_transaction_mode="create_savepoint"), so a
    rollback in a request undoes that request's work only.
    """

    def __init__(self, database_url):
        self.url = database_url
        self.app = _test_app(database_url, FakeClock())
        self.data_app = _test_app(database_url, FakeClock())
        with self.app.app_context():
            self.engine = db.engine
        _quiet_transaction_control(self.engine)
        self.configs = {app: dict(app.config) for app in (self.app, self.data_app)}
        # The limiter is one object whose storage the latest app set: the tests' own apps move it.
        self.limiter_state = (limiter._storage, limiter._limiter)

    def begin(self, clock):
        """Reset what outlives a transaction, then open the test's connection and transaction."""
        for app, config in self.configs.items():
            app.config.clear()
            app.config.update(config, CLOCK=clock)
            with app.app_context():
                inbox_cache.clear()
        passwords.init_app(self.app)
        limiter._storage, limiter._limiter = self.limiter_state
        limiter.reset()
        self.connection = self.engine.connect()
        self.transaction = self.connection.begin()
        _Joined.connection, _Joined.url = self.connection, self.url
        _Joined.thread = threading.get_ident()

    def end(self):
        _Joined.connection = _Joined.url = _Joined.thread = None
        if self.transaction.is_active:
            self.transaction.rollback()
        self.connection.close()


@pytest.fixture(scope="session")
def _shared(_schema, database_url):
    from flask_sqlalchemy.session import Session

    original = Session.get_bind
    Session.get_bind = _get_bind(original)
    factory = db.session.session_factory
    before = dict(factory.kw)
    factory.configure(join_transaction_mode="create_savepoint")
    shared = SharedApps(database_url)
    yield shared
    Session.get_bind = original
    # Exactly as it was (no mode named: SQLAlchemy's default), so a thread still running at the
    # end, such as the browser tests' outbox worker, gets a session it can make.
    factory.kw.clear()
    factory.kw.update(before)
    with shared.app.app_context():
        db.engine.dispose()
    with shared.data_app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(request, _schema, database_url, clock):
    """The app under test. No context stays pushed, so each request gets its own.

    Shared by the session and rolled back after each test, unless the test is marked
    `committed`: then a fresh app whose tables are emptied afterwards.
    """
    if committed(request):
        app = _test_app(database_url, clock)
        yield app
        with app.app_context():
            _empty_tables()
            db.engine.dispose()
        return
    shared = request.getfixturevalue("_shared")
    shared.begin(clock)
    try:
        yield shared.app
    finally:
        shared.end()


@pytest.fixture
def data(request, app, database_url, clock):
    """A second app on the same database whose context the test uses to arrange and check rows.

    Requests to `app` then never share the test's session, `g` or identity map.
    """
    if committed(request):
        data_app = _test_app(database_url, clock)
        with data_app.app_context():
            yield data_app
            db.session.remove()
            db.engine.dispose()
        return
    data_app = request.getfixturevalue("_shared").data_app
    with data_app.app_context():
        yield data_app
        db.session.remove()


@pytest.fixture
def client(app):
    client = app.test_client()
    # The public form follows the browser's language; tests read it in English unless they ask.
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def calendar():
    return BankingCalendar([], HELSINKI)


@pytest.fixture
def make_unit(data):
    numbers = count(1)

    def make(code=None, name=None, kind=UnitKind.BRANCH_OFFICE, active=True):
        n = next(numbers)
        unit = Unit(code=code or f"unit-{n}", name=name or f"Unit {n}", kind=kind,
                    street_address="Testikatu 1", postal_code="00100", city="Helsinki",
                    active=active)
        db.session.add(unit)
        db.session.commit()
        return unit

    return make


@pytest.fixture
def units(make_unit):
    """Customer service and three branch offices."""
    return {
        "cs": make_unit(code="cs", name="Customer service", kind=UnitKind.CUSTOMER_SERVICE),
        "helsinki": make_unit(code="helsinki-centre", name="Helsinki Centre"),
        "turku": make_unit(code="turku", name="Turku"),
        "vaasa": make_unit(code="vaasa", name="Vaasa"),
    }


@pytest.fixture
def make_user(data):
    # Hashing once keeps the many users of a test cheap.
    password_hash = passwords.hash(PASSWORD)

    def make(username, units=(), lead_of=(), is_admin=False, active=True, full_name=None):
        user = User(username=username, full_name=full_name or username.replace(".", " ").title(),
                    email=f"{username}@bank.example", password_hash=password_hash,
                    is_admin=is_admin, admin_by_hand=is_admin, active=active,
                    deactivated_by_admin=not active, language=Language.EN)
        for unit in units:
            user.memberships.append(Membership(unit_id=unit.id, is_team_lead=False))
        for unit in lead_of:
            user.memberships.append(Membership(unit_id=unit.id, is_team_lead=True,
                                               lead_by_hand=True))
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def service_team(make_unit, make_user):
    """Customer service with an agent and a team lead: (unit, agent, lead)."""
    cs = make_unit(code="cs", name="Customer service", kind=UnitKind.CUSTOMER_SERVICE)
    return cs, make_user("cs.agent", units=[cs]), make_user("cs.lead", lead_of=[cs])


@pytest.fixture
def topic(data):
    topic = Topic(code="cards", name="Cards")
    db.session.add(topic)
    db.session.commit()
    return topic


@pytest.fixture
def make_case(data, topic, calendar):
    def make(unit, received_at=None, status=CaseStatus.NEW, assignee=None, reply_wanted=True,
             estimate=None, contact_name="Aino Asiakas", message="Korttini ei toimi."):
        received_at = received_at or DEFAULT_NOW
        year = received_at.astimezone(HELSINKI).year
        due = calendar.due_date(received_at)
        case = Case(
            reference=next_reference(db.session, year), received_at=received_at,
            contact_name=contact_name, contact_email="aino@example.fi", segment=Segment.PRIVATE,
            topic=topic, message=message, reply_wanted=reply_wanted,
            reply_channel=ReplyChannel.EMAIL if reply_wanted else None, language=Language.FI,
            status=status, current_unit_id=unit.id, assignee=assignee, due_date=due,
            effective_due_date=due,
        )
        case.set_estimate(estimate)
        case.events.append(CaseEvent(kind=EventKind.RECEIVED, to_unit_id=unit.id, at=received_at))
        db.session.add(case)
        db.session.commit()
        return case

    return make


@pytest.fixture
def bank(make_unit, data):
    """Customer service, business customer service, branches, Cards, two topics, a register."""
    units = {
        "cs": make_unit(code="cs", name="Customer service", kind=UnitKind.CUSTOMER_SERVICE),
        "business-cs": make_unit(code="business-cs", name="Business customer service",
                                 kind=UnitKind.BUSINESS_CUSTOMER_SERVICE),
        "helsinki": make_unit(code="helsinki-centre", name="Helsinki Centre"),
        "turku": make_unit(code="turku", name="Turku"),
        "cards": make_unit(code="cards", name="Cards", kind=UnitKind.CENTRAL_UNIT),
    }
    topics = {
        "cards": Topic(code="cards", name="Cards", central_unit_id=units["cards"].id),
        "branch": Topic(code="branch-service", name="Branch service"),
    }
    customers = [
        Customer(customer_number="C0000001", name="Aino Virtanen", street_address="Bulevardi 1",
                 postal_code="00120", city="Helsinki", phone="+358401234567",
                 email="Aino.Virtanen@Example.fi", language=Language.FI, segment=Segment.PRIVATE,
                 home_office_id=units["helsinki"].id),
        Customer(customer_number="C0000002", name="Matti Meikäläinen", street_address="Aurakatu 2",
                 postal_code="20100", city="Turku", phone="+358501112222", email="matti@example.fi",
                 language=Language.FI, segment=Segment.PRIVATE, home_office_id=units["turku"].id),
        Customer(customer_number="C0000003", name="Matti Meikäläinen", street_address="Aurakatu 9",
                 postal_code="20100", city="Turku", phone="+358503334444", email="mm@example.fi",
                 language=Language.FI, segment=Segment.PRIVATE, home_office_id=units["turku"].id),
    ]
    db.session.add_all([*topics.values(), *customers])
    db.session.commit()
    return {"units": units, "topics": topics, "customers": customers}


@pytest.fixture
def login(client):
    def do_login(username, password=PASSWORD, next_path=None):
        data = {"username": username, "password": password}
        if next_path is not None:
            data["next"] = next_path
        return client.post("/login", data=data)

    return do_login


class SMTPRecorder:
    """An aiosmtpd handler: records what arrives, or fails as told."""

    def __init__(self):
        self.messages = []
        self.fail_next = 0
        self.reject = False
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.reject:
                return "550 5.1.1 Mailbox does not exist"
            if self.fail_next:
                self.fail_next -= 1
                return "451 4.3.0 Try again later"
            self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@contextlib.contextmanager
def colleague_writes_first(row):
    """A colleague's change to `row` (a case, call or letter) lands between a request's read and
    its flush, as when two people act at the same moment: the version check must then refuse."""
    from sqlalchemy.orm import Session

    pending = [row]

    def bump(session, _context, _instances):
        # At the flush that writes the row, after the request has read it.
        if pending and any(type(o) is type(row) and o.id == row.id for o in session.dirty):
            table = pending.pop().__table__
            session.connection().execute(
                table.update().where(table.c.id == row.id).values(version=table.c.version + 1))

    sa.event.listen(Session, "before_flush", bump)
    try:
        yield
    finally:
        sa.event.remove(Session, "before_flush", bump)


@pytest.fixture(scope="session")
def directory_server(tmp_path_factory):
    """OpenLDAP's slapd over LDAPS with the users and groups of tests/ldap_server.py."""
    from tests import ldap_server

    if not ldap_server.available():
        pytest.skip("OpenLDAP's slapd is not installed: apt-get install slapd ldap-utils")
    server = ldap_server.Directory(tmp_path_factory.mktemp("ldap"), ldap_server.test_entries())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def directory(app, data, directory_server):
    """The app signs in against the test directory, and the commands run in `data`'s context
    sync with it; a test that stops slapd gets it back."""
    app.config.update(directory_server.settings())
    data.config.update(directory_server.settings())
    yield directory_server
    if directory_server.process is None:
        directory_server.start()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_smtp_server(handler=None):
    """A real SMTP server (aiosmtpd) on a free loopback port; yields its handler (a recorder
    unless another is given)."""
    from aiosmtpd.controller import Controller

    handler = handler or SMTPRecorder()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def smtp_server():
    with running_smtp_server() as recorder:
        yield recorder


@pytest.fixture
def mail_app(request, smtp_server, app, database_url, clock):
    """An app whose mail goes to the test SMTP server; the worker runs in its context (on the
    test's connection unless the test is marked `committed`)."""
    mail_app = create_app({
        "CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": database_url, "CLOCK": clock,
        "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_server.port, "MAIL_SUPPRESS_SEND": False,
    })
    yield mail_app
    with mail_app.app_context():
        db.engine.dispose()


@pytest.fixture
def run_worker(mail_app):
    """Deliver the outbox once, as `flask outbox send` does, in a context of its own."""
    from feedback_intranet.outbox import deliver_due

    def run():
        with mail_app.app_context():
            outcome = deliver_due()
            db.session.remove()
            return outcome

    return run


def together(*runs):
    """Run the callables at the same moment, each in a thread of its own (a barrier releases them
    together); returns what each returned."""
    barrier, results = threading.Barrier(len(runs)), [None] * len(runs)

    def run(i):
        barrier.wait()
        results[i] = runs[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(runs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def said(event, language="en"):
    """What the timeline says of `event` to a reader of `language`."""
    from flask_babel import force_locale

    from feedback_intranet.cases.timeline import summary

    with force_locale(language):
        return summary(event)


@contextlib.contextmanager
def statements_sent(app):
    """Every statement `app` sends to its database meanwhile, as its text, in a list."""
    with app.app_context():
        engine = db.engine
    sent = []

    def record(_connection, _cursor, statement, *_args):
        sent.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
        # None at all: the requests ran on another engine, and "not read" would prove nothing.
        assert sent, "no statement seen on the app's engine"
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def record_drawn(monkeypatch, module):
    """The first part of every key `module` draws under (not taken from the worker's cache),
    in order, from a fresh cache (web/drawn.py)."""
    from feedback_intranet.web.drawn import Drawn

    drawn = []

    class Recording(Drawn):
        def get(self, key, draw):
            return super().get(key, lambda: drawn.append(key[0]) or draw())

    monkeypatch.setattr(module, "_DRAWN", Recording(chars=100_000))
    return drawn
