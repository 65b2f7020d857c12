"""Whoever answers, calls or writes to the customer of a case nobody holds becomes its holder:
the case leaves the unassigned pile with the person who acted, and the timeline says so."""

from datetime import date

import pytest
import sqlalchemy as sa

from feedback_intranet.extensions import db
from feedback_intranet.models import CallbackTask, CaseStatus, UnitKind

from .conftest import said
from .test_case_pages import post_action
from .test_replies import answer, record


@pytest.fixture
def org(make_unit, make_user):
    units = {"cs": make_unit(code="cs", name="Customer service", kind=UnitKind.CUSTOMER_SERVICE)}
    people = {
        "cs.agent": make_user("cs.agent", units=[units["cs"]], full_name="Aino Agent"),
        "cs.other": make_user("cs.other", units=[units["cs"]], full_name="Olli Other"),
        "cs.lead": make_user("cs.lead", lead_of=[units["cs"]], full_name="Leena Lead"),
    }
    return units, people


@pytest.fixture
def unheld(org, make_case):
    case = make_case(org[0]["cs"])
    case.contact_phone = "+358401234567"
    db.session.commit()
    return case


def holder_and_taken_events(case):
    db.session.expire_all()
    case = db.session.merge(case)
    taken = [said(e) for e in case.events if e.kind.value == "assigned"]
    return case.assignee.username if case.assignee else None, case.status, taken


def test_answering_an_unassigned_case_makes_it_yours(client, login, org, unheld):
    login("cs.agent")
    answer(client, unheld, body="Kortti on nyt avattu.")
    assert holder_and_taken_events(unheld) == ("cs.agent", CaseStatus.ASSIGNED,
                                               ["Aino Agent took the case."])
    page = client.get("/inbox/cs?filter=mine").get_data(as_text=True)
    assert unheld.reference in page
    assert unheld.reference not in client.get("/inbox/cs?filter=unassigned").get_data(as_text=True)


def test_an_interim_notice_on_an_unassigned_case_makes_it_yours(client, login, org, unheld):
    login("cs.other")
    response = post_action(client, unheld, "interim_notice", estimate="2026-12-04",
                           text="Vastaamme viimeistään 4.12.2026.")
    assert response.status_code == 302
    holder, _, taken = holder_and_taken_events(unheld)
    assert (holder, taken) == ("cs.other", ["Olli Other took the case."])
    assert db.session.merge(unheld).estimated_decision_date == date(2026, 12, 4)


def test_recording_a_call_on_a_case_nobody_holds_makes_it_yours(client, login, org, unheld):
    login("cs.lead")
    answer(client, unheld, channel="phone", body="Soitan ja kerron.", reason="Asiakas toivoi.")
    # The lead hands it back to the inbox; whoever makes the call then holds it.
    post_action(client, unheld, "unassign")
    assert holder_and_taken_events(unheld)[0] is None
    [task] = db.session.scalars(sa.select(CallbackTask)).all()
    client.post("/logout")
    login("cs.agent")
    assert record(client, task, "no_answer").status_code == 302
    holder, _, taken = holder_and_taken_events(unheld)
    assert (holder, taken[-1]) == ("cs.agent", "Aino Agent took the case.")


def test_acting_on_a_colleagues_case_leaves_it_theirs(client, login, org, make_case):
    units, people = org
    held = make_case(units["cs"], status=CaseStatus.ASSIGNED, assignee=people["cs.agent"])
    login("cs.lead")
    answer(client, held, body="Vastaus tiimin vetäjältä.")
    assert holder_and_taken_events(held) == ("cs.agent", CaseStatus.ASSIGNED, [])


def test_a_refused_answer_takes_nothing(client, login, org, unheld):
    login("cs.agent")
    page = answer(client, unheld, body="").get_data(as_text=True)
    assert "Write the answer." in page
    assert holder_and_taken_events(unheld) == (None, CaseStatus.NEW, [])
