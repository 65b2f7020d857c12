"""A data-subject access request gives everything held about one customer, and is audited."""

import json

import sqlalchemy as sa

from feedback_intranet.extensions import db
from feedback_intranet.models import AuditEvent, Case, Customer, Language, Segment


def _setting(units, make_user, make_case):
    make_user("admin", is_admin=True)
    make_user("branch.staff", units=[units["helsinki"]])
    customer = Customer(customer_number="C0000042", name="Åsa Lindqvist", street_address="Gatan 1",
                        postal_code="65100", city="Vasa", email="asa@example.fi",
                        language=Language.SV, segment=Segment.PRIVATE,
                        home_office_id=units["helsinki"].id)
    db.session.add(customer)
    db.session.commit()
    linked = make_case(units["helsinki"], contact_name="Åsa Lindqvist", message="Mitt kort.")
    db.session.get(Case, linked.id).customer_id = customer.id
    by_email = make_case(units["turku"], contact_name="Åsa L.", message="Räntan?")
    db.session.get(Case, by_email.id).contact_email = "asa@example.fi"
    other = make_case(units["turku"], contact_name="Someone Else")
    db.session.commit()
    return customer, linked, by_email, other


def test_by_customer_number_or_email_with_every_case(client, login, units, make_user, make_case,
                                                     data):
    customer, linked, by_email, other = _setting(units, make_user, make_case)
    login("admin")
    response = client.post("/admin/data-request", data={"customer_number": "c0000042"})
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    held = json.loads(response.data)
    assert held["customer"]["name"] == "Åsa Lindqvist"
    assert [case["reference"] for case in held["cases"]] == [linked.reference, by_email.reference]
    assert held["cases"][0]["message"] == "Mitt kort." and held["cases"][0]["timeline"]
    held = json.loads(client.post("/admin/data-request", data={"email": "ASA@example.fi"}).data)
    assert other.reference not in {case["reference"] for case in held["cases"]}
    events = list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.kind == "data_request")))
    assert [event.customer_id for event in events] == [customer.id, customer.id]
    assert [event.facts for event in events] == [{"found_by": "customer_number", "cases": 2},
                                                 {"found_by": "email", "cases": 2}]
    assert all("asa@" not in str(event.facts) + event.detail for event in events)


def test_unknown_customers_and_empty_forms_are_explained(client, login, units, make_user,
                                                         make_case, data):
    _setting(units, make_user, make_case)
    login("admin")
    page = client.post("/admin/data-request", data={"customer_number": "C9999999"}).get_data(
        as_text=True)
    assert "Nothing is held about such a customer." in page and 'value="C9999999"' in page
    page = client.post("/admin/data-request", data={}).get_data(as_text=True)
    assert "Give the customer number or the email address." in page


def test_only_admins_make_data_requests(client, login, units, make_user, make_case, data):
    _setting(units, make_user, make_case)
    login("branch.staff")
    assert client.post("/admin/data-request", data={"customer_number": "C0000042"}).status_code == 403


def test_the_mail_read_from_the_customer_is_listed(client, login, units, make_user, make_case,
                                                   data):
    from feedback_intranet.models import InboundMail, InboundOutcome

    customer, linked, by_email, other = _setting(units, make_user, make_case)
    db.session.add_all([
        InboundMail(mailbox="m", uidvalidity=1, uid=1, sha256="a", processed_at=linked.received_at,
                    outcome=InboundOutcome.THREADED, case_id=linked.id, sender="asa@example.fi",
                    subject="Re: Mitt kort", excerpt="Tack!"),
        # Quarantined, in no case, but from her address.
        InboundMail(mailbox="m", uidvalidity=1, uid=2, sha256="b", processed_at=linked.received_at,
                    outcome=InboundOutcome.QUARANTINED, sender="asa@example.fi", subject="Hej"),
        InboundMail(mailbox="m", uidvalidity=1, uid=3, sha256="c", processed_at=linked.received_at,
                    outcome=InboundOutcome.NEW_FEEDBACK, case_id=other.id,
                    sender="someone@example.fi", subject="Other"),
    ])
    db.session.commit()
    login("admin")
    held = json.loads(client.post("/admin/data-request", data={"customer_number": "C0000042"}).data)
    assert [(m["subject"], m["case"], m["outcome"]) for m in held["inbound_mail"]] == [
        ("Re: Mitt kort", linked.reference, "threaded"), ("Hej", None, "quarantined")]
