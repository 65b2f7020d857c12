"""The audit log: what is recorded, that it names cases by id and reference only, the admin
page, and that PostgreSQL refuses to change or delete a row."""

import os
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from feedback_intranet import create_app
from feedback_intranet.cases.actions import ACTIONS
from feedback_intranet.extensions import db
from feedback_intranet.models import (
    Answer,
    AuditEvent,
    Customer,
    Language,
    Letter,
    Purpose,
    ReplyChannel,
    Segment,
)


@pytest.fixture
def people(units, make_user):
    return {
        "staff": make_user("branch.staff", units=[units["helsinki"]]),
        "turku": make_user("turku.staff", units=[units["turku"]]),
        "admin": make_user("admin", is_admin=True),
    }


def events(**where):
    db.session.expire_all()
    query = sa.select(AuditEvent).order_by(AuditEvent.id)
    for name, value in where.items():
        query = query.where(getattr(AuditEvent, name) == value)
    return list(db.session.scalars(query))


def kinds():
    return [event.kind.value for event in events()]


def test_logins_failures_lockouts_and_logouts_are_recorded(app, client, login, people, data):
    app.config["LOCKOUT_FAILURES"] = 2
    login("branch.staff")
    client.post("/logout")
    login("nobody.at.all", "wrong")
    login("turku.staff", "wrong")
    login("turku.staff", "wrong")
    assert kinds() == ["login", "logout", "login_failed", "login_failed", "login_failed", "locked"]
    failed = events(kind="login_failed")
    assert failed[0].username == "nobody.at.all" and failed[0].user_id is None
    assert failed[1].user_id == people["turku"].id
    assert all(event.address == "127.0.0.1" for event in events())
    assert all(event.at.tzinfo is not None for event in events())


def test_a_case_view_names_the_case_and_customer_by_id_only(client, login, people, units,
                                                            make_case, data):
    customer = Customer(customer_number="C0000001", name="Aino Virtanen", street_address="Katu 1",
                        postal_code="00100", city="Helsinki", language=Language.FI,
                        segment=Segment.PRIVATE, home_office_id=units["helsinki"].id)
    db.session.add(customer)
    db.session.commit()
    case = make_case(units["helsinki"])
    db.session.get(type(case), case.id).customer_id = customer.id
    db.session.commit()
    login("branch.staff")
    assert client.get(f"/cases/{case.reference}").status_code == 200
    (viewed,) = events(kind="case_viewed")
    assert (viewed.user_id, viewed.case_id, viewed.case_reference, viewed.customer_id) == (
        people["staff"].id, case.id, case.reference, customer.id)
    # No names, no message: only ids, the reference and the path.
    row = " ".join(str(getattr(viewed, column.key)) for column in AuditEvent.__table__.columns)
    assert "Aino" not in row and "Korttini" not in row and "Virtanen" not in row


@pytest.mark.parametrize("who", ["turku.staff", None, "inactive"])
def test_refused_access_is_recorded(client, login, people, units, make_case, make_user, who, data):
    """Every case, inbox and action URL, as another unit's user, a visitor, an inactive user."""
    case = make_case(units["helsinki"])
    if who == "inactive":
        user = make_user("gone.away", units=[units["helsinki"]])
        login("gone.away")
        db.session.get(type(user), user.id).active = False
        db.session.commit()
    elif who:
        login(who)
    gets = [f"/cases/{case.reference}", f"/cases/{case.reference}/correct",
            "/inbox/helsinki-centre", "/inbox/helsinki-centre/export.csv",
            "/workload/helsinki-centre", "/callbacks/helsinki-centre", "/letters/helsinki-centre"]
    posts = [f"/cases/{case.reference}/{action}" for action in ACTIONS] + [
        "/inbox/helsinki-centre/assign"]
    for path in gets:
        assert client.get(path).status_code in (302, 403, 404), path
    for path in posts:
        assert client.post(path, data={"text": "x", "version": "1"}).status_code in (
            302, 403, 404), path
    refused = events(kind="refused")
    # A user's every refusal; a visitor's who is not logged in, the first of the minute.
    assert len(refused) == (len(gets) + len(posts) if who == "turku.staff" else 1)
    assert refused[0].case_reference == case.reference
    expected_user = people["turku"].id if who == "turku.staff" else None
    assert {event.user_id for event in refused} == {expected_user}
    assert not events(kind="case_viewed")
    db.session.expire_all()
    assert db.session.get(type(case), case.id).version == case.version


def test_exports_and_letter_downloads_are_recorded(client, login, people, units, make_case, data):
    case = make_case(units["helsinki"])
    answer = Answer(case_id=case.id, purpose=Purpose.ANSWER, channel=ReplyChannel.LETTER, text="Hei",
                    created_at=case.received_at, created_by_id=people["staff"].id)
    db.session.add(answer)
    db.session.flush()
    letter = Letter(case_id=case.id, answer_id=answer.id, unit_id=units["helsinki"].id, pdf=b"",
                    created_at=case.received_at)
    db.session.add(letter)
    db.session.commit()
    login("branch.staff")
    assert client.get("/inbox/helsinki-centre/export.csv").status_code == 200
    assert client.get(f"/letters/{letter.id}.pdf").data.startswith(b"%PDF")
    assert kinds()[-2:] == ["export", "letter_download"]
    assert events(kind="letter_download")[0].case_id == case.id
    assert [event.facts for event in events()[-2:]] == [
        {"export": "inbox", "unit": "helsinki-centre", "filter": "open"}, {"letter": letter.id}]


def test_admin_changes_are_recorded_and_read_on_the_audit_page(client, login, people, data):
    login("admin")
    response = client.post("/admin/closing-days", data={"day": "2026-12-31", "reason": "New Year",
                                                          "confirmed": "yes"})
    assert response.status_code == 302
    (change,) = events(kind="admin_change")
    assert change.facts == {"change": "closing_day_added", "day": "2026-12-31"}
    assert change.detail == ""
    page = client.get("/admin/audit?kind=admin_change").get_data(as_text=True)
    assert "Added 31.12.2026 as a closing day." in page and "Login</td>" not in page
    page = client.get("/admin/audit?user=ADMIN&kind=login").get_data(as_text=True)
    assert "Login</td>" in page
    csv = client.get("/admin/audit.csv?kind=admin_change").data.decode("utf-8-sig").splitlines()
    assert csv[0].startswith("Time;Event;User;Address;Case")
    assert len(csv) == 2 and "Admin change;admin" in csv[1]
    assert csv[1].endswith(";Added 31.12.2026 as a closing day.")
    assert "export" in kinds()
    page = client.get("/admin/audit?start=nonsense").get_data(as_text=True)
    assert "Give the date as day.month.year, e.g. 24.12.2026." in page
    # Opened from the menu, and filtered by one field only, it lists every kind of event.
    for path in ("/admin/audit", "/admin/audit?user=admin"):
        page = client.get(path).get_data(as_text=True)
        assert "Not a valid choice" not in page, path
        assert "Login</td>" in page and "Admin change</td>" in page, path
    csv = client.get("/admin/audit.csv").data.decode("utf-8-sig").splitlines()
    assert any(";Login;admin;" in line for line in csv) and len(csv) > 2


def test_only_admins_read_the_audit_log(client, login, people, data):
    login("branch.staff")
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit.csv").status_code == 403
    assert events(kind="refused")[-1].facts == {"status": 403, "method": "GET",
                                                "path": "/admin/audit.csv"}


@pytest.mark.committed  # a connection of its own: TRUNCATE would wait for the test's transaction
def test_postgresql_refuses_to_change_delete_or_empty_the_audit_log(client, login, people, data):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the trigger is PostgreSQL's; SQLite has no roles to protect it from")
    login("branch.staff")
    with db.engine.connect() as connection:
        for statement in ("UPDATE audit_event SET detail = 'rewritten'",
                          "UPDATE audit_event SET facts = NULL", "DELETE FROM audit_event",
                          "TRUNCATE audit_event"):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"):
                connection.execute(sa.text(statement))
            connection.rollback()
    assert len(events()) == 1


def test_an_address_that_names_no_page_is_not_audited(client, people, data):
    assert client.get("/wp-admin/setup.php").status_code == 404
    assert events() == []


def test_an_unknown_event_filter_is_explained_not_a_500(client, login, people, data):
    login("admin")
    response = client.get("/admin/audit?kind=bogus")
    assert response.status_code == 200 and "Not a valid choice" in response.get_data(as_text=True)


REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def made_up_requests(client, count):
    """`count` requests from a visitor who is not logged in, to made-up values in real routes."""
    for n in range(count):
        if n % 4 == 0:
            response = client.post(f"/cases/made-up-{n}/note", data={"text": "hello"})
        else:
            response = client.get([f"/cases/FB-{n}", f"/inbox/made-up-{n}/export.csv",
                                   f"/admin/users/{n + 1}"][n % 4 - 1])
        assert response.status_code == 302


@pytest.mark.parametrize("store", ["memory://", REDIS_URL], ids=["memory", "redis"])
def test_a_visitor_not_logged_in_cannot_fill_the_log(database_url, clock, people, data, store):
    """The first refusal of a minute per address writes a row; the rest are counted, and the
    count comes in a new row with the next refusal after that minute. No row is changed."""
    app = create_app({"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": database_url, "CLOCK": clock,
                      "RATELIMIT_STORAGE_URI": store})
    client = app.test_client()
    # An address of its own, so that counts left in Redis by an earlier run do not count here.
    address = "2001:db8::" + ":".join(uuid.uuid4().hex[i:i + 4] for i in range(0, 16, 4))
    client.environ_base["REMOTE_ADDR"] = address
    # The visitor's own text in the address: an account number is masked in the log.
    assert client.get("/cases/FI4950009420028730").status_code == 302
    made_up_requests(client, 199)
    (first,) = events(kind="refused")
    assert first.facts["path"] == "/cases/[account number …8730 removed]"
    assert "2873" not in first.case_reference and first.user_id is None

    clock.advance(timedelta(minutes=1))
    made_up_requests(client, 3)
    clock.advance(timedelta(minutes=5))
    assert client.get("/workload/nowhere").status_code == 302
    rows = events(kind="refused")
    assert [row.facts for row in rows] == [
        first.facts,
        {"status": 401, "method": "POST", "path": "/cases/made-up-0/note", "unrecorded": 199},
        {"status": 401, "method": "GET", "path": "/workload/nowhere", "unrecorded": 2},
    ]
    assert {row.address for row in rows} == {address}


def test_a_failing_counter_store_still_records_a_visitors_refusal(database_url, clock, people,
                                                                   data):
    app = create_app({"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": database_url, "CLOCK": clock,
                      "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:9/0"})
    client = app.test_client()
    for _ in range(2):
        assert client.get("/inbox/helsinki-centre").status_code == 302
    assert [row.facts for row in events(kind="refused")] == [
        {"status": 401, "method": "GET", "path": "/inbox/helsinki-centre"}] * 2
