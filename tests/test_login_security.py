"""Sessions end when idle or old, login failures are throttled and lock the account, and
users change their own passwords (or must, when an admin says so)."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from feedback_intranet import create_app
from feedback_intranet.extensions import db, limiter
from feedback_intranet.models import AuditEvent, AuditKind, User

from .conftest import PASSWORD, free_port
from .test_intake import form

NEW_PASSWORD = "a much longer secret"
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture
def staff(make_user, units):
    return make_user("branch.staff", units=[units["helsinki"]])


@pytest.fixture
def lifetimes(app):
    app.config.update(SESSION_IDLE_MINUTES=30, SESSION_MAX_HOURS=10)


def test_the_session_cookie_is_http_only_and_same_site(client, login, staff):
    cookie = login("branch.staff").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    production = create_app({"CONFIG": "production", "SECRET_KEY": "x" * 64,
                             "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert production.config["SESSION_COOKIE_SECURE"] is True


def test_logging_in_starts_a_new_session(client, login, staff):
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    login("branch.staff")
    with client.session_transaction() as session:
        assert "planted" not in session and "login_at" in session


def test_an_idle_session_ends_and_returns_to_the_page_after_login(client, login, staff, clock,
                                                                  lifetimes):
    login("branch.staff")
    clock.advance(timedelta(minutes=29))
    assert client.get("/inbox/helsinki-centre").status_code == 200
    clock.advance(timedelta(minutes=29))
    assert client.get("/my-cases").status_code == 200
    clock.advance(timedelta(minutes=31))
    response = client.get("/inbox/helsinki-centre?filter=mine")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/inbox/helsinki-centre?filter%3Dmine"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "logged out after 30 minutes without activity" in page
    assert 'value="/inbox/helsinki-centre?filter=mine"' in page
    assert client.get("/my-cases").status_code == 302
    response = login("branch.staff", next_path="/inbox/helsinki-centre?filter=mine")
    assert response.headers["Location"] == "/inbox/helsinki-centre?filter=mine"


def test_a_session_ends_ten_hours_after_login_however_active(client, login, staff, clock,
                                                             lifetimes):
    login("branch.staff")
    for _ in range(30):
        clock.advance(timedelta(minutes=20))
        assert client.get("/my-cases").status_code == 200
    clock.advance(timedelta(minutes=1))
    response = client.get("/my-cases")
    assert response.headers["Location"] == "/login?next=/my-cases"
    assert "logged out 10 hours after logging in" in client.get("/login").get_data(as_text=True)


def test_ten_failures_in_a_row_lock_the_account_for_fifteen_minutes(client, login, staff, clock,
                                                                    data):
    message = b"Wrong username or password, or the account is locked"
    for _ in range(9):
        assert message in login("branch.staff", "wrong password").data
    assert login("branch.staff").status_code == 302  # success resets the count
    client.post("/logout")
    for _ in range(10):
        login("branch.staff", "wrong password")
    # Locked: the right password is refused with the very same words as an unknown user.
    locked = login("branch.staff")
    assert locked.status_code == 200 and message in locked.data
    assert message in login("nobody.at.all", "wrong password").data
    clock.advance(timedelta(minutes=14))
    assert login("branch.staff").status_code == 200
    clock.advance(timedelta(minutes=2))
    assert login("branch.staff").status_code == 302
    db.session.expire_all()
    user = db.session.get(User, staff.id)
    assert user.failed_logins == 0 and user.locked_until is None


def test_failed_logins_are_throttled_per_username_and_per_address(app, client, login, staff,
                                                                  make_user):
    app.config.update(LOGIN_LIMIT_PER_USERNAME="5 per minute", LOGIN_LIMIT_PER_ADDRESS="8 per minute")
    for _ in range(5):
        assert login("branch.staff", "wrong password").status_code == 200
    limited = login("branch.staff", "wrong password")
    assert limited.status_code == 429
    assert b"Too many failed logins in a short time" in limited.data
    assert login("BRANCH.STAFF ", "wrong password").status_code == 429  # the same username
    # Another username from the same address still gets its tries, up to the address limit.
    for _ in range(3):
        assert login("someone.else", "wrong password").status_code == 200
    assert login("someone.else", "wrong password").status_code == 429


def test_successful_logins_do_not_count_against_the_limits(app, client, login, staff):
    app.config.update(LOGIN_LIMIT_PER_USERNAME="2 per minute")
    for _ in range(4):
        assert login("branch.staff").status_code == 302
        client.post("/logout")


def test_users_change_their_own_password(client, login, staff, data):
    login("branch.staff")
    form = {"current": "not it", "new": NEW_PASSWORD, "repeat": NEW_PASSWORD}
    page = client.post("/profile/password", data=form).get_data(as_text=True)
    assert "The current password is wrong." in page
    form = {"current": PASSWORD, "new": "short", "repeat": "short"}
    assert "Use at least 12 characters." in client.post("/profile/password", data=form).get_data(
        as_text=True)
    form = {"current": PASSWORD, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD + "x"}
    assert "The two new passwords differ." in client.post("/profile/password", data=form).get_data(
        as_text=True)
    form = {"current": PASSWORD, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD}
    assert client.post("/profile/password", data=form).headers["Location"] == "/profile"
    client.post("/logout")
    assert login("branch.staff").status_code == 200
    assert login("branch.staff", NEW_PASSWORD).status_code == 302


def test_the_password_may_not_be_the_username(client, login, make_user, data):
    make_user("long.username.here")
    login("long.username.here")
    form = {"current": PASSWORD, "new": "long.username.here", "repeat": "long.username.here"}
    page = client.post("/profile/password", data=form).get_data(as_text=True)
    assert "The password may not be the username." in page


def test_an_admin_can_force_a_new_password_at_the_next_login(client, login, staff, make_user, data):
    make_user("admin", is_admin=True)
    login("admin")
    form = {"username": "branch.staff", "full_name": "Branch Staff", "email": "b@bank.fi",
            "password": "", "language": "fi", "active": "y", "must_change_password": "y",
            f"role-{staff.memberships[0].unit_id}": "member"}
    assert client.post(f"/admin/users/{staff.id}", data=form).status_code == 302
    client.post("/logout")
    assert login("branch.staff").headers["Location"] == "/profile/password"
    assert client.get("/inbox/helsinki-centre").headers["Location"] == "/profile/password"
    form = {"current": PASSWORD, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD}
    client.post("/profile/password", data=form)
    assert client.get("/inbox/helsinki-centre").status_code == 200


def test_usernames_are_not_case_sensitive(client, login, staff):
    assert login(" Branch.Staff ").status_code == 302


# Ending sessions everywhere: a copied cookie is worth nothing after logout or a new password.


def cookie_of(client):
    return client.get_cookie("session").value


def test_logout_ends_every_copy_of_the_session(app, client, login, staff):
    login("branch.staff")
    copy = app.test_client()
    copy.set_cookie("session", cookie_of(client))
    assert copy.get("/inbox/helsinki-centre").status_code == 200
    client.post("/logout")
    assert copy.get("/inbox/helsinki-centre").headers["Location"].startswith("/login")
    assert login("branch.staff").status_code == 302  # and a new login works at once
    assert client.get("/inbox/helsinki-centre").status_code == 200


def test_a_new_password_ends_the_other_sessions_and_keeps_this_one(app, client, login, staff,
                                                                   data):
    other = app.test_client()
    other.post("/login", data={"username": "branch.staff", "password": PASSWORD})
    assert other.get("/inbox/helsinki-centre").status_code == 200
    login("branch.staff")
    form = {"current": PASSWORD, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD}
    assert client.post("/profile/password", data=form).headers["Location"] == "/profile"
    assert client.get("/inbox/helsinki-centre").status_code == 200
    assert other.get("/inbox/helsinki-centre").headers["Location"].startswith("/login")
    changed = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.kind == AuditKind.PASSWORD_CHANGED)).all()
    assert [(e.user_id, e.username) for e in changed] == [(staff.id, "branch.staff")]


def test_a_password_set_by_an_admin_ends_the_users_sessions(client, app, login, staff,
                                                            make_user, data):
    make_user("admin", is_admin=True)
    theirs = app.test_client()
    theirs.post("/login", data={"username": "branch.staff", "password": PASSWORD})
    login("admin")
    form = {"username": "branch.staff", "full_name": "Branch Staff", "email": "b@bank.fi",
            "password": NEW_PASSWORD, "language": "fi", "active": "y",
            f"role-{staff.memberships[0].unit_id}": "member"}
    assert client.post(f"/admin/users/{staff.id}", data=form).status_code == 302
    assert theirs.get("/inbox/helsinki-centre").headers["Location"].startswith("/login")
    set_by = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.kind == AuditKind.PASSWORD_CHANGED)).all()
    assert [(e.username, e.facts) for e in set_by] == [("branch.staff", {"set_by": "admin"})]
    admin = db.session.scalar(sa.select(User).where(User.username == "admin"))
    form.update(username="admin", full_name="Admin", email="a@bank.fi", is_admin="y")
    form.pop(f"role-{staff.memberships[0].unit_id}")
    assert client.post(f"/admin/users/{admin.id}", data=form).status_code == 302
    assert client.get("/admin/users").status_code == 200  # the admin's own session goes on


@pytest.mark.parametrize("forged", [
    "{id}",  # as a cookie from before session versions
    "{id}:", "{id}:1", "{id}:-1", "{id}:+0", "{id}:0:0", "x:0", "-1:0", ":0", "{id}:" + "9" * 5000,
    "{id}:٠",  # a digit, but not an ASCII one
])
def test_a_session_cookie_without_the_current_version_is_not_accepted(client, login, staff,
                                                                      forged):
    login("branch.staff")
    assert client.get("/inbox/helsinki-centre").status_code == 200
    with client.session_transaction() as session:
        session["_user_id"] = forged.format(id=staff.id)
    assert client.get("/inbox/helsinki-centre").headers["Location"].startswith("/login")


def test_deactivating_a_user_ends_their_sessions_for_good(client, app, login, staff, make_user,
                                                         data):
    from feedback_intranet.admin.operations import save_user

    theirs = app.test_client()
    theirs.post("/login", data={"username": "branch.staff", "password": PASSWORD})
    admin = make_user("admin", is_admin=True)
    fields = {"username": "branch.staff", "full_name": "Branch Staff", "email": "b@bank.fi",
              "password": "", "language": "fi", "is_admin": False, "now": NOW,
              "roles": {staff.memberships[0].unit_id: "member"}}
    save_user(admin, staff, active=False, **fields)
    db.session.commit()
    save_user(admin, staff, active=True, **fields)  # back the same day
    db.session.commit()
    assert theirs.get("/inbox/helsinki-centre").headers["Location"].startswith("/login")


def test_logins_refused_by_the_throttle_are_audited_once_a_minute(app, client, login, staff):
    app.config.update(LOGIN_LIMIT_PER_ADDRESS="2 per minute")
    for attempt in range(6):  # a new username every time earns no new row
        login(f"guess.{attempt}", "wrong password")
    assert login("branch.staff", "wrong password").status_code == 429
    events = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.kind == AuditKind.LOGIN_FAILED).order_by(AuditEvent.id)).all()
    assert [(e.username, e.facts) for e in events] == [
        ("guess.0", {}), ("guess.1", {}), ("guess.2", {"reason": "throttled"})]


def test_wrong_passwords_sent_at_once_all_count(app, staff):
    """Two sessions: one has read the account before the other's failure was committed."""
    from feedback_intranet.auth.operations import authenticate

    limits = {"lockout_failures": 10, "lockout_minutes": 15}
    mine = db.session.get(User, staff.id)
    assert mine.failed_logins == 0
    with app.app_context():  # a second, independent session of the app under test
        authenticate("branch.staff", "wrong password", now=NOW, **limits)
        db.session.commit()
    authenticate("branch.staff", "wrong password", now=NOW, **limits)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(User, staff.id).failed_logins == 2


def test_a_right_password_checked_while_another_attempt_locks_the_account_gets_no_session(
        app, staff, data, monkeypatch):
    """The tenth failure is recorded after this attempt read the account and before its right
    password was accepted: it is refused, and the lockout stays."""
    from feedback_intranet.auth.operations import authenticate
    from feedback_intranet.extensions import passwords

    limits = {"lockout_failures": 10, "lockout_minutes": 15}
    db.session.execute(sa.update(User).where(User.id == staff.id).values(failed_logins=9))
    db.session.commit()
    verify = passwords.verify

    def verify_while_another_attempt_fails(password_hash, password):
        monkeypatch.setattr(passwords, "verify", verify)
        with app.app_context():  # another request, in a session of its own
            assert authenticate("branch.staff", "wrong password", now=NOW, **limits) is None
            db.session.commit()
        return verify(password_hash, password)

    monkeypatch.setattr(passwords, "verify", verify_while_another_attempt_fails)
    with app.app_context():
        assert authenticate("branch.staff", PASSWORD, now=NOW, **limits) is None
        db.session.commit()
    db.session.expire_all()
    assert db.session.get(User, staff.id).locked_until == NOW + timedelta(minutes=15)
    events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.kind, e.facts) for e in events] == [
        (AuditKind.LOGIN_FAILED, {}), (AuditKind.LOCKED, {"failures": 10, "minutes": 15}),
        (AuditKind.LOGIN_FAILED, {"reason": "locked"})]


def test_with_the_shared_limit_store_down_logins_go_on_still_limited(app, database_url, clock,
                                                                      make_user, bank):
    """Redis down: each worker counts failed logins in its own memory meanwhile, as memory://
    does, and the public form's limit likewise; nothing answers 500."""
    make_user("redis.down", units=[bank["units"]["helsinki"]])
    saved = dict(vars(limiter))
    down = create_app({"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": database_url,
                       "CLOCK": clock, "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{free_port()}/0",
                       "LOGIN_LIMIT_PER_USERNAME": "3 per minute",
                       "FEEDBACK_RATE_LIMIT": "1 per minute"})
    client = down.test_client()
    try:
        wrong = [client.post("/login", data={"username": "redis.down", "password": "wrong"})
                 .status_code for _ in range(4)]
        right = client.post("/login", data={"username": "redis.down", "password": PASSWORD})
        feedback = [client.post("/feedback", data=form(bank, submission_token=f"token-{n}"))
                    .status_code for n in range(2)]
    finally:
        # The limiter is one object for every app: this app's store is taken back.
        vars(limiter).update(saved)

    assert wrong == [200, 200, 200, 429]
    assert right.status_code == 429  # the name's three tries of the minute are spent
    assert feedback == [302, 429]
