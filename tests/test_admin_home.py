"""The admin's landing page: every unit's backlog, the outbox and the last retention run, with
the administration's pages grouped under one menu entry."""

import re
from datetime import datetime

import pytest

from feedback_intranet import audit
from feedback_intranet.extensions import db
from feedback_intranet.models import AuditKind, CaseStatus, OutboxMessage, OutboxStatus

from .conftest import HELSINKI


@pytest.fixture
def admin(login, make_user, units):
    user = make_user("admin", is_admin=True)
    login("admin")
    return user


def row_of(page, unit_name):
    """The numbers in the unit's row: open, overdue, unassigned."""
    row = re.search(rf"<tr><td><a [^>]*>{unit_name}</a></td>(.*?)</tr>", page, re.S).group(1)
    return [int(n) for n in re.findall(r">(\d+)<", row)]


def test_an_admin_of_no_unit_lands_on_the_units_backlog(client, admin, units):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/")


def test_each_units_open_overdue_and_unassigned_cases(client, admin, units, make_case, make_user):
    holder = make_user("turku.staff", units=[units["turku"]])
    late = datetime(2026, 11, 16, 9, 0, tzinfo=HELSINKI)  # due 19.11., overdue on 25.11.
    make_case(units["turku"], received_at=late)
    make_case(units["turku"], received_at=late, status=CaseStatus.ASSIGNED, assignee=holder)
    make_case(units["turku"])
    make_case(units["turku"], received_at=late, reply_wanted=False)  # never overdue nor "open"
    make_case(units["turku"], status=CaseStatus.CLOSED)
    make_case(units["vaasa"], status=CaseStatus.ANSWERED)  # answered is no longer open
    make_case(units["vaasa"])
    page = client.get("/admin/").get_data(as_text=True)
    # As the unit's inbox counts them: "open" holds the cases that await an answer.
    assert row_of(page, "Turku") == [3, 2, 3]
    assert row_of(page, "Vaasa") == [1, 0, 1]
    assert row_of(page, "Helsinki Centre") == [0, 0, 0]
    # The unit with overdue cases comes first, and its count opens the overdue filter.
    assert page.index(">Turku<") < page.index(">Helsinki Centre<")
    assert "/inbox/turku?filter=overdue" in page


def test_the_outbox_and_the_last_retention_run(client, admin, data, clock):
    page = client.get("/admin/").get_data(as_text=True)
    assert "Retention has never run." in page
    for n, status in enumerate((OutboxStatus.QUEUED, OutboxStatus.QUEUED, OutboxStatus.FAILED,
                                OutboxStatus.SENT)):
        db.session.add(OutboxMessage(kind="answer", recipient="a@example.fi",
                                     sender="feedback@bank.example", subject="s", body_text="b",
                                     message_id=f"<{n}@bank.example>", status=status,
                                     next_attempt_at=clock(), created_at=clock()))
    audit.record(AuditKind.RETENTION, dry_run=False, months=24, cases=3, rows={"answers": 2})
    db.session.commit()
    page = client.get("/admin/").get_data(as_text=True)
    assert re.search(r"<dt>Queued</dt><dd>2</dd>", page)
    assert re.search(r"<dt>Failed</dt><dd>1</dd>", page)
    assert "3 cases closed more than 24 months ago were anonymised (2 answers)." in page
    assert re.search(r"Last run \d{1,2}\.\d{1,2}\.\d{4} \d\d:\d\d", page)


def test_the_header_has_one_administration_entry(client, admin, units):
    page = client.get("/admin/").get_data(as_text=True)
    header = page[page.index('<header'):page.index('</header>')]
    assert header.count("/admin/") == 1
    assert 'aria-current="page">Administration<' in header
    for path in ("/admin/users", "/admin/units", "/admin/routing-rules", "/admin/closing-days",
                 "/admin/service-hours", "/admin/audit", "/admin/outbox", "/admin/data-request"):
        assert f'href="{path}"' in page, path


def test_staff_who_are_not_admins_neither_see_nor_open_it(client, login, make_user, units):
    make_user("turku.lead", lead_of=[units["turku"]])
    login("turku.lead")
    assert client.get("/admin/").status_code == 403
    assert "/admin/" not in client.get("/inbox/turku").get_data(as_text=True)


def test_the_page_reads_a_constant_number_of_statements(client, admin, make_unit, make_case):
    few = int(client.get("/admin/").headers["X-Query-Count"])
    for _ in range(5):
        make_case(make_unit())
    assert int(client.get("/admin/").headers["X-Query-Count"]) == few
