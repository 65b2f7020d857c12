"""Configuration, the seed-demo and create-user commands, and case references."""

import re
from datetime import datetime

import pytest
import sqlalchemy as sa

from config import DEV_SECRET_KEY, INSTANCE_DIR
from feedback_intranet import create_app
from feedback_intranet.badges import case_badge
from feedback_intranet.closing_days import banking_calendar
from feedback_intranet.demo import STAFF
from feedback_intranet.extensions import db, passwords
from feedback_intranet.models import AuditEvent, Case, CaseEvent, Customer, Membership, Unit, UnitKind, User
from feedback_intranet.references import next_reference

from .conftest import HELSINKI, PASSWORD


@pytest.mark.parametrize("secret", [None, "", DEV_SECRET_KEY])
def test_production_refuses_to_start_without_a_real_secret_key(secret):
    with pytest.raises(RuntimeError, match="SECRET_KEY is missing or is the development default"):
        create_app({"CONFIG": "production", "SECRET_KEY": secret})


def test_production_starts_with_a_secret_key_and_secure_cookies():
    app = create_app({"CONFIG": "production", "SECRET_KEY": "x" * 64})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


def test_defaults_sqlite_under_instance_and_helsinki_time(monkeypatch):
    import importlib

    import config

    for name in ("DATABASE_URL", "TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    try:
        defaults = importlib.reload(config)
        assert (
            f"sqlite:///{INSTANCE_DIR / 'feedback.sqlite'}") == defaults.Config.SQLALCHEMY_DATABASE_URI
        assert defaults.Config.TIMEZONE == "Europe/Helsinki"
    finally:
        monkeypatch.undo()
        importlib.reload(config)
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
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SECRET_KEY": DEV_SECRET_KEY})
    app = create_app({"SECRET_KEY": "x" * 64})
    assert app.config["CONFIG_NAME"] == "production" and not app.debug


def test_configuration_comes_from_the_environment(monkeypatch):
    import importlib

    import config

    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db.example/feedback")
    monkeypatch.setenv("MAIL_SERVER", "smtp.bank.example")
    monkeypatch.setenv("MAIL_PORT", "2525")
    monkeypatch.setenv("MAIL_USE_TLS", "true")
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    reloaded = importlib.reload(config)
    try:
        assert reloaded.Config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u@db.example/feedback"
        assert reloaded.Config.MAIL_SERVER == "smtp.bank.example"
        assert reloaded.Config.MAIL_PORT == 2525
        assert reloaded.Config.MAIL_USE_TLS is True
        assert reloaded.ProductionConfig.SECRET_KEY == "from-the-environment"
    finally:
        monkeypatch.undo()
        importlib.reload(config)


def test_references_are_numbered_per_year(data):
    assert next_reference(db.session, 2026) == "FB-2026-000001"
    assert next_reference(db.session, 2026) == "FB-2026-000002"
    assert next_reference(db.session, 2027) == "FB-2027-000001"
    assert next_reference(db.session, 2026) == "FB-2026-000003"
    db.session.rollback()


def count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


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
    assert event.detail == f"create-user: User {user.id} first.admin"


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
