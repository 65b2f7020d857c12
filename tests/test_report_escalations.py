"""The promise report counts the cases escalated as overdue, per unit and week, on hand-made
escalations (the morning run that writes them is tested with it; the demo's are in
test_demo_escalations.py)."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from feedback_intranet import retention
from feedback_intranet.extensions import db
from feedback_intranet.models import (
    Case,
    CaseEscalation,
    CaseEvent,
    CasePastUnit,
    CaseStatus,
    EventKind,
    Resolution,
)

from .conftest import statements_sent
from .test_reports import PERIOD, WEEK_51, WEEK_52, at, csv_table

HEADER = ["Unit", "Owed an answer", "Kept", "Not kept", "Not yet due", "Kept %", "Interim notices",
          "Answered by the estimate", "Escalated as overdue"]
WEEK_HEADER = ["Week", "Kept", "Not kept", "Not yet due", "Kept %", "Escalated as overdue"]


def escalate(case, unit, day):
    db.session.add(CaseEscalation(case_id=case.id, unit_id=unit.id, escalated_on=day))
    db.session.commit()


@pytest.fixture
def escalated(units, make_user, make_case, clock):
    """Escalations in weeks 51 and 52 of 2026 and on either side of them.

    A case received in Turku was escalated there on 15.12., then forwarded to Helsinki, where it
    was overdue again on 22.12.; Helsinki escalated another on 17.12., Turku one received in the
    period on 23.12., Vaasa one on 21.12. Helsinki received no case in the period."""
    clock.set(at(12, 28, 12))
    make_user("branch.lead", lead_of=[units["helsinki"]])
    make_user("admin", is_admin=True)
    helsinki, turku, vaasa = units["helsinki"], units["turku"], units["vaasa"]
    forwarded = make_case(turku, received_at=at(12, 9))
    escalate(forwarded, turku, date(2026, 12, 15))
    forwarded = db.session.merge(forwarded)
    forwarded.current_unit_id = helsinki.id
    db.session.add_all([
        CasePastUnit(case_id=forwarded.id, unit_id=turku.id),
        CaseEvent(case_id=forwarded.id, kind=EventKind.FORWARDED, from_unit_id=turku.id,
                  to_unit_id=helsinki.id, at=at(12, 16)),
    ])
    forwarded.set_estimate(date(2026, 12, 21))
    db.session.commit()
    escalate(forwarded, helsinki, date(2026, 12, 22))
    escalate(make_case(helsinki, received_at=at(12, 11)), helsinki, date(2026, 12, 17))
    escalate(make_case(turku, received_at=at(12, 17)), turku, date(2026, 12, 23))
    escalate(make_case(vaasa, received_at=at(12, 15)), vaasa, date(2026, 12, 21))
    # Before and after the period: not counted in it.
    escalate(make_case(helsinki, received_at=at(12, 4)), helsinki, date(2026, 12, 10))
    escalate(make_case(helsinki, received_at=at(12, 10), estimate=date(2026, 12, 23)), helsinki,
             date(2026, 12, 28))
    return units


def test_escalations_per_unit_beside_the_promise_a_forwarded_case_once_in_each_unit(
        client, login, escalated):
    """Turku and Vaasa's cases received in the period are overdue (not kept); Helsinki's row has
    its escalations though none of its cases were received in the period."""
    login("admin")
    assert csv_table(client, "promise", "promise-by-unit") == [
        HEADER,
        ["Helsinki Centre", "0", "0", "0", "0", "", "0", "0", "2"],
        ["Turku", "1", "0", "1", "0", "0", "0", "0", "2"],
        ["Vaasa", "1", "0", "1", "0", "0", "0", "0", "1"],
        ["All", "2", "0", "2", "0", "0", "0", "0", "5"],
    ]


def test_escalations_per_week_by_the_day_of_escalation(client, login, escalated):
    """Week 51: Turku on 15.12., Helsinki on 17.12.; week 52: Vaasa, Helsinki, Turku. The promise
    beside them stays by the week of receipt (both cases received in week 51)."""
    login("admin")
    assert csv_table(client, "promise", "promise-by-week") == [
        WEEK_HEADER,
        [WEEK_51, "0", "2", "0", "0", "2"],
        [WEEK_52, "0", "0", "0", "", "3"],
    ]


def test_choosing_a_unit_narrows_the_escalations_to_it(client, login, escalated):
    login("admin")
    turku = f"{PERIOD}&unit={escalated['turku'].id}"
    assert csv_table(client, "promise", "promise-by-unit", turku)[1:] == [
        ["Turku", "1", "0", "1", "0", "0", "0", "0", "2"],
        ["All", "1", "0", "1", "0", "0", "0", "0", "2"],
    ]
    assert csv_table(client, "promise", "promise-by-week", turku)[1:] == [
        [WEEK_51, "0", "1", "0", "0", "1"],
        [WEEK_52, "0", "0", "0", "", "1"],
    ]


def test_a_branch_lead_sees_only_their_units_escalations(client, login, escalated):
    login("branch.lead")
    assert csv_table(client, "promise", "promise-by-unit")[1:] == [
        ["Helsinki Centre", "0", "0", "0", "0", "", "0", "0", "2"],
        ["All", "0", "0", "0", "0", "", "0", "0", "2"],
    ]
    assert csv_table(client, "promise", "promise-by-week")[1:] == [
        [WEEK_51, "0", "0", "0", "", "1"],
        [WEEK_52, "0", "0", "0", "", "1"],
    ]
    page = client.get(f"/reports/promise{PERIOD}").get_data(as_text=True)
    assert "Turku</th>" not in page and "Vaasa</th>" not in page
    for unit in ("turku", "vaasa"):
        other = f"{PERIOD}&unit={escalated[unit].id}"
        assert client.get(f"/reports/promise{other}").status_code == 404
        assert client.get(f"/reports/promise/promise-by-unit.csv{other}").status_code == 404
        assert client.get(f"/reports/promise/promise-by-week.csv{other}").status_code == 404


def test_the_promise_page_shows_the_escalations_and_says_how_they_are_counted(
        client, login, escalated):
    login("admin")
    page = " ".join(client.get(f"/reports/promise{PERIOD}").get_data(as_text=True).split())
    assert page.count('<th scope="col">Escalated as overdue</th>') == 2
    assert ('<th scope="row">Helsinki Centre</th><td>0</td><td>0</td><td>0</td><td>0</td><td></td>'
            '<td>0</td><td>0</td><td>2</td>') in page
    assert "counted by that day, not by the day of receipt" in page
    assert "the escalations by the week they were escalated" in page
    # The topic table has no escalations: they are kept per unit and day.
    topics = page[page.index('id="promise-by-topic"'):page.index('id="promise-by-week"')]
    assert "Escalated" not in topics


def test_the_escalations_cost_one_statement_however_many_there_are(app, client, login, escalated,
                                                                   make_case):
    login("admin")

    def cost():
        """The page's statements, and of them those reading the escalations."""
        with statements_sent(app) as seen:
            response = client.get(f"/reports/promise{PERIOD}")
        assert response.status_code == 200
        return (int(response.headers["X-Query-Count"]),
                sum("case_escalation" in statement for statement in seen))

    few = cost()
    for day in (14, 15, 16, 17, 18, 21, 22, 23):
        for unit in ("cs", "turku", "vaasa"):
            escalate(make_case(escalated[unit], received_at=at(12, day - 5)), escalated[unit],
                     date(2026, 12, day))
    assert cost() == few
    assert few[0] <= 7 and few[1] == 1
    assert csv_table(client, "promise", "promise-by-unit")[-1][-1] == str(5 + 24)


def test_an_anonymised_case_keeps_its_escalation_in_the_report(client, login, escalated):
    """Retention blanks a closed case's personal data; the escalation holds none and stays."""
    login("admin")
    before = csv_table(client, "promise", "promise-by-unit")
    case = db.session.scalar(sa.select(Case).join(CaseEscalation).where(
        CaseEscalation.escalated_on == date(2026, 12, 21)))
    case.status, case.resolution = CaseStatus.CLOSED, Resolution.ANSWERED
    case.closed_at = at(12, 22)
    db.session.commit()
    outcome = retention.apply(at(12, 22) + timedelta(days=round(36 * 30.44) + 1), months=36)
    assert outcome.cases == 1
    db.session.expire_all()
    assert db.session.get(Case, case.id).anonymised_at is not None
    assert db.session.get(CaseEscalation, (case.id, escalated["vaasa"].id)) is not None
    after = csv_table(client, "promise", "promise-by-unit")
    assert after == before and after[3] == ["Vaasa", "1", "0", "1", "0", "0", "0", "0", "1"]
