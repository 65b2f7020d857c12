"""Staff login: credentials, inactive users, safe redirects, CSRF, logout."""

import pytest

from feedback_intranet import create_app
from feedback_intranet.auth.operations import safe_next_path
from feedback_intranet.extensions import db

from .conftest import PASSWORD


@pytest.fixture
def staff(make_unit, make_user):
    unit = make_unit(code="turku", name="Turku")
    return make_user("branch.staff", units=[unit])


def test_staff_log_in_and_land_in_their_inbox(client, login, staff):
    response = login("branch.staff")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    inbox = client.get("/", follow_redirects=True)
    assert b"Turku" in inbox.data
    assert b"Log out" in inbox.data


def test_pages_need_a_login(client, staff):
    response = client.get("/inbox/turku")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_wrong_password_and_unknown_user_get_the_same_answer(client, login, staff):
    wrong = login("branch.staff", "not the password")
    unknown = login("nobody.here", "not the password")
    assert wrong.status_code == unknown.status_code == 200
    assert b"Wrong username or password, or the account is locked" in wrong.data
    assert wrong.data.replace(b"branch.staff", b"X") == unknown.data.replace(b"nobody.here", b"X")
    assert client.get("/").status_code == 302


def test_the_username_typed_stays_in_the_form(login, staff):
    response = login("branch.staff", "not the password")
    assert b'value="branch.staff"' in response.data


def test_inactive_users_cannot_log_in(client, login, make_user):
    make_user("gone.away", active=False)
    response = login("gone.away")
    assert b"Wrong username or password, or the account is locked" in response.data
    assert client.get("/").status_code == 302


def test_a_user_deactivated_while_logged_in_is_logged_out(client, login, staff):
    login("branch.staff")
    staff.active = False
    db.session.commit()
    assert client.get("/inbox/turku").status_code == 302


def test_login_follows_next_on_this_site(login, staff):
    response = login("branch.staff", next_path="/inbox/turku?filter=overdue")
    assert response.headers["Location"] == "/inbox/turku?filter=overdue"


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)",
     "evil.example", "/\nSet-Cookie: x"],
)
def test_login_ignores_next_pointing_elsewhere(login, staff, target):
    response = login("branch.staff", next_path=target)
    assert response.headers["Location"] == "/"
    assert safe_next_path(target) is None


def test_logout_needs_a_post_and_ends_the_session(client, login, staff):
    login("branch.staff")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302


def test_login_renews_the_session(client, login, staff):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    login("branch.staff")
    with client.session_transaction() as session:
        assert "planted" not in session


def test_login_form_is_csrf_protected(database_url, _schema, staff):
    app = create_app({"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": database_url,
                      "WTF_CSRF_ENABLED": True})
    client = app.test_client()
    response = client.post("/login", data={"username": "branch.staff", "password": PASSWORD})
    assert response.status_code == 400
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post(
        "/login", data={"username": "branch.staff", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302


@pytest.mark.parametrize(("accept", "heading"), [
    ("fi-FI,fi;q=0.9,en;q=0.5", "Kirjaudu sisään"),
    ("sv-FI,sv;q=0.9", "Logga in"),
    ("de-DE", "Log in"),
])
def test_the_login_page_speaks_the_browsers_language_before_anyone_logs_in(client, accept,
                                                                          heading):
    page = client.get("/login", headers={"Accept-Language": accept}).get_data(as_text=True)
    assert f"<h1>{heading}</h1>" in page
