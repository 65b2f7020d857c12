"""Odd and hostile input: a clear answer and unchanged data, never a 500 or a half-written case."""

import logging
import re

import pytest
import sqlalchemy as sa

from feedback_intranet.extensions import db
from feedback_intranet.models import Case, CaseEvent, CaseStatus, UnitKind

from .test_case_pages import hidden_fields, post_action
from .test_intake import form


def cases():
    return db.session.scalars(sa.select(Case)).all()


@pytest.mark.parametrize("token", [None, "", "a/b", "x" * 100, "../../etc"])
def test_a_missing_or_odd_form_token_still_makes_exactly_one_case(client, bank, token):
    data = form(bank)
    if token is None:
        data.pop("submission_token")
    else:
        data["submission_token"] = token
    response = client.post("/feedback", data=data)
    assert response.status_code == 302
    assert client.get(response.headers["Location"]).status_code == 200
    assert len(cases()) == 1


def test_control_characters_are_dropped_not_stored(client, bank, caplog):
    caplog.set_level(logging.DEBUG)
    response = client.post("/feedback", data=form(bank, message="Hei\x00 maailma\x1b[31m",
                                                   name="Aino\x00 Virtanen"))
    assert response.status_code == 302
    [case] = cases()
    assert case.message == "Hei maailma[31m" and case.contact_name == "Aino Virtanen"


def test_sql_errors_never_carry_customer_data_into_the_logs(app):
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["hide_parameters"] is True


def test_an_email_address_with_an_identity_code_is_refused(client, bank):
    response = client.post("/feedback", data=form(bank, email="131052-308T@example.fi"))
    assert "without an identity code" in response.get_data(as_text=True)
    assert cases() == []


@pytest.fixture
def org(make_unit, make_user):
    units = {"cs": make_unit(code="cs", name="Customer service", kind=UnitKind.CUSTOMER_SERVICE)}
    people = {name: make_user(name, units=[units["cs"]]) for name in ("cs.agent", "cs.other")}
    people["cs.lead"] = make_user("cs.lead", lead_of=[units["cs"]])
    return units, people


def test_an_action_without_its_version_is_refused(client, login, org, make_case):
    case = make_case(org[0]["cs"])
    login("cs.agent")
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    data = hidden_fields(page, "forward")
    data.pop("forward-version")
    data.update({"forward-unit": "1", "forward-note": "x"})
    assert client.post(f"/cases/{case.reference}/forward", data=data).status_code == 400
    db.session.expire_all()
    assert [e.kind for e in case.events] == ["received"]


def test_members_do_not_take_a_case_a_colleague_holds(client, login, org, make_case):
    case = make_case(org[0]["cs"], status=CaseStatus.ASSIGNED, assignee=org[1]["cs.other"])
    login("cs.agent")
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert "/take\"" not in page
    response = client.post(f"/cases/{case.reference}/take",
                           data={"take-token": "t" * 16, "take-version": str(case.version)})
    assert response.status_code == 403


def test_bulk_assignment_from_a_stale_list_is_refused(client, login, org, make_case):
    case = make_case(org[0]["cs"])
    login("cs.lead")
    page = client.get("/inbox/cs").get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    seen = case.version
    case.assignee_id, case.status = org[1]["cs.agent"].id, CaseStatus.ASSIGNED  # a colleague takes it
    db.session.commit()
    response = client.post("/inbox/cs/assign", data={
        "case_ids": [f"{case.id}:{seen}"], "member": str(org[1]["cs.other"].id), "token": token},
        follow_redirects=True)
    assert "changed since you opened the list" in response.get_data(as_text=True)
    db.session.expire_all()
    assert case.assignee_id == org[1]["cs.agent"].id


def test_two_people_linking_different_customers_the_second_is_told(app, login, org, make_case,
                                                                   data):
    from feedback_intranet.models import Customer, Language, Segment

    customers = [Customer(customer_number=f"C{n}", name=f"Asiakas {n}", street_address="Katu",
                          postal_code="00100", city="Helsinki", language=Language.FI,
                          segment=Segment.PRIVATE, home_office_id=org[0]["cs"].id)
                 for n in (1, 2)]
    db.session.add_all(customers)
    db.session.commit()
    case = make_case(org[0]["cs"])
    first, second = app.test_client(), app.test_client()
    for client, user in ((first, "cs.agent"), (second, "cs.other")):
        client.post("/login", data={"username": user, "password": "correct horse battery"})
    pages = [c.get(f"/cases/{case.reference}?q=Asiakas").get_data(as_text=True)
             for c in (first, second)]
    assert post_action(first, case, "customer", page=pages[0],
                       customer_id=str(customers[0].id)).status_code == 302
    refused = post_action(second, case, "customer", page=pages[1],
                          customer_id=str(customers[1].id))
    assert "This case changed since you opened it" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert case.customer_id == customers[0].id


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("post", "/cases/{ref}/customer", {"customer-customer_id": "9" * 30,
                                           "customer-version": "1", "customer-token": "t" * 20}),
        ("post", "/inbox/cs/assign", {"case_ids": ["9" * 30 + ":1", "1:" + "9" * 30],
                                      "member": "1", "token": "t" * 20}),
        ("get", "/inbox/cs?filter=member&member=" + "9" * 30, None),
        ("get", "/cases/{ref}?template=" + "9" * 30, None),
        ("post", "/cases/{ref}/forward", {"forward-unit": "9" * 30, "forward-note": "x",
                                          "forward-version": "1", "forward-token": "t" * 20}),
    ],
)
def test_huge_numbers_are_not_a_500(client, login, org, make_case, method, path, payload):
    case = make_case(org[0]["cs"])
    login("cs.lead")
    url = path.format(ref=case.reference)
    response = client.post(url, data=payload) if method == "post" else client.get(url)
    assert response.status_code < 500
    assert db.session.scalars(sa.select(CaseEvent)).all()[-1].kind == "received"


def test_the_register_search_understands_phone_numbers_as_people_type_them(client, login, bank,
                                                                          make_user):
    make_user("cs.agent", units=[bank["units"]["cs"]])
    client.post("/feedback", data=form(bank, email="x@example.fi", phone="+358 40 999 9999",
                                       name="Someone Else"))
    login("cs.agent")
    page = client.get(f"/cases/{cases()[0].reference}", query_string={"q": "050 111 2222"})
    assert "C0000002" in page.get_data(as_text=True)


def test_staff_registration_double_submit_makes_one_case(client, login, bank, make_user):
    make_user("branch.staff", units=[bank["units"]["helsinki"]])
    login("branch.staff")
    page = client.get("/register-feedback").get_data(as_text=True)
    token = re.search(r'name="submission_token" type="hidden" value="([^"]+)"', page).group(1)
    data = form(bank, submission_token=token, unit=str(bank["units"]["helsinki"].id),
                intake_channel="phone", received_on="25.11.2026", received_time="10.00")
    first = client.post("/register-feedback", data=data)
    second = client.post("/register-feedback", data=data)
    assert first.status_code == second.status_code == 302
    assert len(cases()) == 1
