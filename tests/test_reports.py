"""Reports: exact figures on a small known data set around Christmas; leads see their units only."""

from datetime import datetime

import pytest

from feedback_intranet.banking_days import BankingCalendar
from feedback_intranet.reports.queries import age_thresholds

from .conftest import HELSINKI


def at(month, day, hour=10):
    return datetime(2026, month, day, hour, 0, tzinfo=HELSINKI)


@pytest.fixture
def christmas(units, make_user, make_case, clock):
    # Monday 28 December 2026: the banking days before are 23, 22, 21 and 18 December.
    clock.set(at(12, 28, 12))
    make_user("branch.lead", lead_of=[units["helsinki"]])
    make_user("branch.staff", units=[units["helsinki"]])
    make_user("admin", is_admin=True)
    for day in (28, 24, 23, 22, 21, 18, 17, 16):
        make_case(units["helsinki"], received_at=at(12, day, 9))
    make_case(units["turku"], received_at=at(12, 16))
    return units


def test_age_buckets_count_banking_days_over_the_holidays():
    first, second, third = age_thresholds(at(12, 28).date(), BankingCalendar())
    assert [t.date().isoformat() for t in (first, second, third)] == [
        "2026-12-23", "2026-12-21", "2026-12-17"]


def test_the_backlog_by_unit_and_age_with_the_overdue_first(client, login, christmas):
    login("admin")
    page = " ".join(client.get("/reports/").get_data(as_text=True).split())
    # Helsinki: 0–1: 28, 24, 23; 2–3: 22, 21; 4–5: 18, 17; over 5: 16. Overdue: 16, 17, 18.
    assert ("<th scope=\"row\">Helsinki Centre</th><td>3</td><td>8</td><td>3</td><td>2</td>"
            "<td>2</td><td>1</td>") in page
    assert "<th scope=\"row\">Turku</th><td>1</td><td>1</td><td>0</td><td>0</td><td>0</td><td>1</td>" in page
    assert page.index("Helsinki Centre</th>") < page.index("Turku</th>")


def test_the_backlog_downloads_as_csv(client, login, christmas):
    login("branch.lead")
    data = client.get("/reports/backlog.csv").data.decode("utf-8-sig").splitlines()
    assert data[0] == ("Unit;Overdue;Open;Age 0–1 banking days;Age 2–3 banking days;"
                       "Age 4–5 banking days;Age > 5 banking days")
    assert data[1:] == ["Helsinki Centre;3;8;3;2;2;1"]


def test_a_team_lead_sees_only_their_units_figures(client, login, christmas):
    login("branch.lead")
    page = client.get("/reports/").get_data(as_text=True)
    assert "Helsinki Centre" in page and "Turku" not in page
    assert client.get(f"/reports/?unit={christmas['turku'].id}").status_code == 404
    assert client.get(f"/reports/backlog.csv?unit={christmas['turku'].id}").status_code == 404
    client.post("/logout")
    login("branch.staff")
    assert client.get("/reports/").status_code == 403
