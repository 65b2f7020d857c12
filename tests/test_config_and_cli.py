"""Configuration, the flask command as a new user meets it, the seed-demo and create-user commands,
and case references."""

import importlib.util
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import datetime
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
import sqlalchemy as sa

from config import DEV_SECRET_KEY, INSTANCE_DIR, MAKE_A_KEY, ConfigurationError
from feedback_intranet import create_app
from feedback_intranet.closing_days import banking_calendar
from feedback_intranet.demo import STAFF
from feedback_intranet.extensions import db, limiter, passwords
from feedback_intranet.models import AuditEvent, Case, CaseEvent, Customer, Membership, Unit, UnitKind, User
from feedback_intranet.references import next_reference
from feedback_intranet.rules.badges import case_badge

from .conftest import HELSINKI, PASSWORD, free_port
from .test_intake import form

ROOT = Path(__file__).resolve().parent.parent
FLASK = str(Path(sys.executable).parent / "flask")
GUNICORN = str(Path(sys.executable).parent / "gunicorn")


@pytest.mark.parametrize("secret", [
    None, "", DEV_SECRET_KEY, "testing", "k" * 31,
    "ä" * 15,  # 30 bytes
])
def test_production_refuses_a_secret_key_anyone_could_know_and_says_how_to_make_one(secret):
    with pytest.raises(ConfigurationError, match="SECRET_KEY must be 32 bytes or more") as refusal:
        create_app({"CONFIG": "production", "SECRET_KEY": secret})
    assert MAKE_A_KEY in str(refusal.value) and "\n" not in str(refusal.value)


@pytest.mark.parametrize("secret", [secrets.token_hex(32), "ä" * 16, "k" * 32, b"\x00" * 32],
                         ids=["made", "umlauts", "letters", "bytes"])
def test_production_starts_with_a_secret_key_of_32_bytes_and_secure_cookies(secret):
    app = create_app({"CONFIG": "production", "SECRET_KEY": secret})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


def test_the_command_that_makes_a_key_makes_one_production_takes():
    key = subprocess.run(MAKE_A_KEY, shell=True, capture_output=True, text=True, check=True)
    create_app({"CONFIG": "production", "SECRET_KEY": key.stdout.strip()})


# Development prints no personal data: not the search terms in its request log, nor the email it
# sends (the customer's address, the reference, the text).

def development(database_url, smtp_server):
    return new_terminal(FLASK_CONFIG="development", DATABASE_URL=database_url,
                        MAIL_SERVER="127.0.0.1", MAIL_PORT=str(smtp_server.port))


def wait_until(condition, seconds=60):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.1)


def listening(port):
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def assert_carries_nothing_of_the_email(output, smtp_server):
    (sent,) = smtp_server.messages
    reference = re.search(r"FB-\d{4}-\d{6}", sent["Subject"]).group()
    # "rcpt TO", "Subject:": what smtplib's debug transcript of a message looks like.
    for secret in ("aino.virtanen", "Virtanen", reference, "rcpt TO", "Subject:"):
        assert secret not in output


@pytest.mark.committed  # a flask process of its own reads and writes the database
def test_outbox_send_in_development_prints_no_email(client, bank, smtp_server, database_url):
    assert client.post("/feedback", data=form(bank)).status_code == 302
    result = flask(ROOT, "outbox", "send", env=development(database_url, smtp_server))
    assert result.returncode == 0, result.stderr
    assert_carries_nothing_of_the_email(result.stdout + result.stderr, smtp_server)


@pytest.mark.committed  # a flask process of its own reads and writes the database
def test_the_development_servers_log_carries_no_search_terms_and_no_email(
    bank, smtp_server, database_url, tmp_path
):
    port, log = free_port(), tmp_path / "server.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [FLASK, "--app", "wsgi", "run", "--port", str(port)], cwd=ROOT,
            env=development(database_url, smtp_server), stdin=subprocess.DEVNULL, stdout=output,
            stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: listening(port) or server.poll() is not None)
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        site = f"http://127.0.0.1:{port}"
        # Searching before logging in: redirected to the login page, the search in its `next`.
        # Read to the end as a browser does: a response whose client resets the connection is
        # never closed by the development server, and the app's request line is written at close.
        browser.open(f"{site}/cases/search?q=Virtanen+aino.virtanen%40example.fi").read()
        page = browser.open(f"{site}/feedback").read().decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        browser.open(f"{site}/feedback", urllib.parse.urlencode(form(bank, csrf_token=token)).encode())
        # The development server's own outbox worker sends the confirmation.
        wait_until(lambda: smtp_server.messages)
    finally:
        server.terminate()
        server.wait(timeout=30)
    logged = log.read_text()
    # The app's request lines, in place of the development server's own ("GET … HTTP/1.1" 200).
    assert "GET /cases/search?q=* 302 " in logged and "GET /login?next=* 200 " in logged
    assert "POST /feedback 302 " in logged and "HTTP/1.1" not in logged
    assert_carries_nothing_of_the_email(logged, smtp_server)


def config_read_again():
    """config.py read afresh, as a new process reads it, leaving alone the module the app holds."""
    spec = importlib.util.spec_from_file_location("config_read_again", ROOT / "config.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_defaults_sqlite_under_instance_and_helsinki_time(monkeypatch):
    for name in ("DATABASE_URL", "TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    defaults = config_read_again()
    assert f"sqlite:///{INSTANCE_DIR / 'feedback.sqlite'}" == defaults.Config.SQLALCHEMY_DATABASE_URI
    assert defaults.Config.TIMEZONE == "Europe/Helsinki"
    app = create_app({"CONFIG": "development"})
    assert app.template_folder.endswith("templates") and app.static_folder.endswith("static")


def test_production_warns_when_login_limits_are_counted_per_worker(caplog):
    create_app({"CONFIG": "production", "SECRET_KEY": "x" * 64,
                "RATELIMIT_STORAGE_URI": "memory://"})
    assert "the login limits are per worker" in caplog.text
    caplog.clear()
    create_app({"CONFIG": "production", "SECRET_KEY": "x" * 64,
                "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15"})
    assert "per worker" not in caplog.text


def test_without_flask_config_the_app_is_production(monkeypatch):
    monkeypatch.delenv("FLASK_CONFIG", raising=False)
    with pytest.raises(ConfigurationError, match="FLASK_CONFIG is not set, so this is production"):
        create_app({"SECRET_KEY": DEV_SECRET_KEY})
    app = create_app({"SECRET_KEY": "x" * 64})
    assert app.config["CONFIG_NAME"] == "production" and not app.debug


def test_an_unknown_configuration_name_is_refused_in_one_line(monkeypatch):
    monkeypatch.setenv("FLASK_CONFIG", "prod")
    with pytest.raises(ConfigurationError, match="is 'prod': use development, testing or production"):
        create_app()


@pytest.mark.parametrize("name", ["development", "testing", "production"])
def test_no_configuration_prints_email(name):
    """Flask-Mail sets smtplib's debug level from MAIL_DEBUG, or else from app.debug: in development
    that printed every email, recipient and body, to the terminal."""
    app = create_app({"CONFIG": name, "SECRET_KEY": "x" * 64})
    assert app.extensions["mail"].debug == 0


# The flask command as a new user meets it: in a new terminal, which has none of the quick
# start's settings, on a fresh checkout.

def new_terminal(**settings):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("FLASK_") and k not in {"SECRET_KEY", "DATABASE_URL"}}
    return {**env, **settings}


def flask(checkout, *args, env=None, timeout=120):
    return subprocess.run([FLASK, "--app", "wsgi", *args], cwd=checkout, env=env or new_terminal(),
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=timeout)


@pytest.fixture
def fresh_checkout(tmp_path):
    """A copy of the code as a clone has it: no instance/ folder, so no database and no settings."""
    checkout = tmp_path / "checkout"
    shutil.copytree(ROOT, checkout, ignore=shutil.ignore_patterns(
        ".git", ".venv", "instance", "tests", "bench", "__pycache__", ".*_cache", ".hypothesis"))
    return checkout


def says_what_to_set_in_one_line(stderr):
    assert "Traceback" not in stderr
    (line,) = stderr.strip().splitlines()
    assert "FLASK_CONFIG is not set" in line and "FLASK_CONFIG=development" in line
    assert f"SECRET_KEY=$({MAKE_A_KEY})" in line


def test_flask_help_in_a_new_terminal_lists_every_command_and_says_what_to_set(fresh_checkout):
    result = flask(fresh_checkout, "--help")
    assert result.returncode == 0
    commands = result.stdout.split("Commands:")[1]
    for name in ("seed-demo", "create-user", "outbox", "retention", "db", "run", "shell", "routes"):
        assert re.search(rf"^  {name} ", commands, re.MULTILINE), name
    says_what_to_set_in_one_line(result.stderr)


@pytest.mark.parametrize("command", [["run"], ["seed-demo"], ["create-user"], ["db", "upgrade"]])
def test_in_a_new_terminal_without_settings_a_command_stops_with_one_line(fresh_checkout, command):
    result = flask(fresh_checkout, *command)
    assert result.returncode == 1 and result.stdout == ""
    says_what_to_set_in_one_line(result.stderr)
    # Nothing ran: create-user asked for nothing, and no database was made.
    assert not (fresh_checkout / "instance" / "feedback.sqlite").exists()


def test_the_quick_start_makes_every_new_terminal_a_development_one_but_never_a_server(fresh_checkout):
    # What the quick start writes.
    (fresh_checkout / "instance").mkdir()
    (fresh_checkout / "instance" / "FLASK_CONFIG").write_text("development\n")

    upgraded = flask(fresh_checkout, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    retention = flask(fresh_checkout, "retention", "apply", "--dry-run")
    assert retention.returncode == 0, retention.stderr
    assert retention.stdout == ("Would anonymise the cases closed more than 36 months ago: "
                                "0 cases.\n")
    # FLASK_CONFIG in the environment still wins.
    production = flask(fresh_checkout, "routes", env=new_terminal(FLASK_CONFIG="production"))
    assert production.returncode == 1 and "SECRET_KEY must be 32 bytes" in production.stderr

    # A WSGI server never reads the file: without FLASK_CONFIG it is production, and refuses.
    server = subprocess.run(
        [GUNICORN, "--bind", f"127.0.0.1:{free_port()}", "wsgi:app"], cwd=fresh_checkout,
        env=new_terminal(), capture_output=True, text=True, timeout=120)
    assert server.returncode != 0
    assert "FLASK_CONFIG is not set, so this is production" in server.stderr


def test_a_wsgi_servers_worker_freezes_what_the_app_built_at_start(tmp_path):
    """Out of the collector's full passes."""
    look = "import gc, wsgi; print(gc.get_freeze_count())"
    env = new_terminal(FLASK_CONFIG="testing",
                       DATABASE_URL=f"sqlite:///{tmp_path / 'feedback.sqlite'}")
    served = subprocess.run([sys.executable, "-c", look], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert served.returncode == 0, served.stderr
    assert int(served.stdout) > 10_000


def test_configuration_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db.example/feedback")
    monkeypatch.setenv("MAIL_SERVER", "smtp.bank.example")
    monkeypatch.setenv("MAIL_PORT", "2525")
    monkeypatch.setenv("MAIL_USE_TLS", "true")
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    configured = config_read_again()
    assert configured.Config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u@db.example/feedback"
    assert configured.Config.MAIL_SERVER == "smtp.bank.example"
    assert configured.Config.MAIL_PORT == 2525
    assert configured.Config.MAIL_USE_TLS is True
    assert configured.ProductionConfig.SECRET_KEY == "from-the-environment"


def test_references_are_numbered_per_year(data):
    assert next_reference(db.session, 2026) == "FB-2026-000001"
    assert next_reference(db.session, 2026) == "FB-2026-000002"
    assert next_reference(db.session, 2027) == "FB-2027-000001"
    assert next_reference(db.session, 2026) == "FB-2026-000003"
    db.session.rollback()


def count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.mark.committed  # seed-demo refreshes statistics on a connection of its own
def test_seed_demo_creates_the_demo_bank_and_is_idempotent(runner, data, clock):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "password: demo" in result.output
    for username, *_ in STAFF:
        assert username in result.output
    units, users, customers, cases = count(Unit), count(User), count(Customer), count(Case)
    assert cases >= 200 and customers >= 60

    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0, again.output
    assert (count(Unit), count(User), count(Customer), count(Case)) == (units, users, customers, cases)


@pytest.mark.committed  # seed-demo refreshes statistics on a connection of its own
def test_seed_demo_accounts_and_units(runner, data):
    runner.invoke(args=["seed-demo", "--password", PASSWORD])
    kinds = {u.kind for u in db.session.scalars(sa.select(Unit))}
    assert kinds == set(UnitKind)
    assert {"helsinki-centre", "turku", "vaasa", "cards", "loans", "netbank", "investments"} <= {
        u.code for u in db.session.scalars(sa.select(Unit))}
    lead = db.session.scalar(sa.select(User).where(User.username == "branch.lead"))
    assert any(m.is_team_lead and m.unit.code == "helsinki-centre" for m in lead.memberships)
    admin = db.session.scalar(sa.select(User).where(User.username == "admin"))
    assert admin.is_admin and passwords.verify(admin.password_hash, PASSWORD)
    languages = {c.language for c in db.session.scalars(sa.select(Customer))}
    assert {"fi", "sv"} <= languages
    home_offices = {c.home_office_id for c in db.session.scalars(sa.select(Customer))}
    assert len(home_offices) >= 3


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 11, 25, 10, 0, tzinfo=HELSINKI),  # a Wednesday
        datetime(2026, 11, 28, 10, 0, tzinfo=HELSINKI),  # a Saturday
        datetime(2026, 12, 28, 9, 0, tzinfo=HELSINKI),  # after Christmas
    ],
)
@pytest.mark.committed  # seed-demo refreshes statistics on a connection of its own
def test_the_demo_shows_every_badge_state(runner, data, clock, now):
    clock.set(now)
    runner.invoke(args=["seed-demo"])
    calendar = banking_calendar(HELSINKI)
    today = now.date()
    states = {case_badge(c, today, calendar).state for c in db.session.scalars(sa.select(Case))}
    expected = {"due", "due_today", "overdue", "estimate", "answered", "closed", "no_answer"}
    if not calendar.is_banking_day(today):
        # Due dates are banking days: nothing can be due on a Saturday.
        expected.discard("due_today")
    assert states == expected


@pytest.mark.committed  # seed-demo refreshes statistics on a connection of its own
def test_demo_cases_are_consistent(runner, data):
    runner.invoke(args=["seed-demo"])
    cases = list(db.session.scalars(sa.select(Case)))
    members = {(m.user_id, m.unit_id) for m in db.session.scalars(sa.select(Membership))}
    for case in cases:
        assert re.fullmatch(r"FB-\d{4}-\d{6}", case.reference)
        assert case.effective_due_date == (case.estimated_decision_date or case.due_date)
        assert (case.assignee_id is None) == (case.status == "new")
        if case.assignee_id:
            assert (case.assignee_id, case.current_unit_id) in members
        assert case.events[0].kind == "received"
        assert case.received_at <= datetime.now(HELSINKI)
    assert count(CaseEvent) > len(cases)


@pytest.mark.committed  # seed-demo refreshes statistics on a connection of its own
def test_seed_demo_tops_up_to_more_cases(runner, data):
    runner.invoke(args=["seed-demo"])
    result = runner.invoke(args=["seed-demo", "--cases", "600"])
    assert result.exit_code == 0, result.output
    assert count(Case) == 600
    references = db.session.scalars(sa.select(Case.reference)).all()
    assert len(set(references)) == 600
    # New intake continues the numbering after the seeded cases.
    year = datetime.now(HELSINKI).year
    number = int(next_reference(db.session, year).rsplit("-", 1)[1])
    seeded = [int(r.rsplit("-", 1)[1]) for r in references if r.startswith(f"FB-{year}-")]
    assert number == max(seeded) + 1
    db.session.rollback()


def test_seed_demo_refuses_in_production(database_url, _schema):
    app = create_app({"CONFIG": "production", "SECRET_KEY": "x" * 64,
                      "SQLALCHEMY_DATABASE_URI": database_url})
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "Refusing to create demo accounts" in result.output
    with app.app_context():
        assert count(User) == 0


def test_create_user_makes_the_first_admin(runner, data, make_unit):
    make_unit(code="cs", name="Customer service", kind=UnitKind.CUSTOMER_SERVICE)
    result = runner.invoke(
        args=["create-user", "--username", "first.admin", "--full-name", "First Admin",
              "--email", "first.admin@bank.example", "--admin", "--lead", "cs"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.username == "first.admin"))
    assert user.is_admin and passwords.verify(user.password_hash, PASSWORD)
    assert [(m.unit.code, m.is_team_lead) for m in user.memberships] == [("cs", True)]
    (event,) = db.session.scalars(sa.select(AuditEvent))
    assert (event.kind, event.username) == ("admin_change", "(command line)")
    assert event.facts == {"change": "user_created", "record": "user", "id": user.id}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--username", "weak.one"], "Use at least 12 characters."),
        (["--username", "x", "--unit", "nowhere"], "No such unit: nowhere"),
    ],
)
def test_create_user_refusals(runner, data, args, message):
    password = "short" if "weak.one" in args else PASSWORD
    result = runner.invoke(
        args=["create-user", "--full-name", "X", "--email", "x@bank.example", *args],
        input=f"{password}\n{password}\n",
    )
    assert result.exit_code != 0
    assert message in result.output
    assert count(User) == 0



def test_requests_are_looked_at_for_limits_on_every_page_only_where_such_a_limit_is_set(app):
    """The public form's and the login's own limits are the intake's and the login's tests'."""
    assert limiter._check_request_limit not in app.before_request_funcs[None]
    saved = dict(vars(limiter)), dict(vars(limiter.limit_manager))  # one limiter for every app
    try:
        limited = create_app({"CONFIG": "testing", "RATELIMIT_APPLICATION": "100 per minute"})
        assert limiter._check_request_limit in limited.before_request_funcs[None]
    finally:
        vars(limiter).update(saved[0])
        vars(limiter.limit_manager).update(saved[1])
