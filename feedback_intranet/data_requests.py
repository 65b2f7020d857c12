"""A data-subject access request: everything the intranet holds about one customer."""

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from .extensions import db
from .models import Answer, CallbackTask, Case, Customer, InboundMail, Letter


def _value(value):
    if value is None or isinstance(value, (int, float, bool, dict, list)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _row(obj, *columns):
    return {column: _value(getattr(obj, column)) for column in columns}


def find(customer_number="", email=""):
    """The register entry and the cases of a customer named by number or email address."""
    customer = None
    if customer_number:
        customer = db.session.scalar(
            sa.select(Customer).where(Customer.customer_number == customer_number.strip().upper()))
    elif email:
        customer = db.session.scalar(
            sa.select(Customer).where(Customer.email == email.strip().lower()))
    conditions = []
    if customer is not None:
        conditions.append(Case.customer_id == customer.id)
    if email:
        conditions.append(Case.contact_email == email.strip().lower())
    if customer is not None and customer.email:
        conditions.append(Case.contact_email == customer.email)
    if customer is not None and customer.phone:
        conditions.append(Case.contact_phone == customer.phone)
    cases = list(db.session.scalars(
        sa.select(Case).where(sa.or_(*conditions)).order_by(Case.received_at, Case.id)
        .options(selectinload(Case.events), selectinload(Case.topic))
    )) if conditions else []
    return customer, cases


def report(customer, cases):
    """The request's answer as plain data, ready for JSON."""
    case_ids = [case.id for case in cases]

    def by_case(model, *columns):
        rows = {}
        if case_ids:
            for obj in db.session.scalars(sa.select(model).where(model.case_id.in_(case_ids))
                                          .order_by(model.id)):
                rows.setdefault(obj.case_id, []).append(_row(obj, *columns))
        return rows

    answers = by_case(Answer, "purpose", "channel", "subject", "text", "status", "created_at",
                      "delivered_at")
    calls = by_case(CallbackTask, "phone", "status", "attempts", "created_at", "closed_at")
    letters = by_case(Letter, "created_at", "posted_at")
    return {
        "inbound_mail": _inbound_mail(customer, cases),
        "customer": _row(customer, "customer_number", "name", "street_address", "postal_code",
                         "city", "phone", "email", "language", "segment") if customer else None,
        "cases": [{
            **_row(case, "reference", "received_at", "intake_channel", "contact_name",
                   "contact_street", "contact_postal_code", "contact_city", "contact_country",
                   "contact_phone", "contact_email", "email_refused", "segment", "case_type",
                   "message", "reply_wanted", "reply_channel", "language", "status", "resolution",
                   "closed_at", "anonymised_at"),
            "topic": case.topic.name,
            "timeline": [_row(event, "at", "kind", "text", "facts") for event in case.events],
            "answers": answers.get(case.id, []),
            "callbacks": calls.get(case.id, []),
            "letters": letters.get(case.id, []),
        } for case in cases],
    }


def _inbound_mail(customer, cases):
    """The records of mail read from the feedback mailbox that came from the customer's
    addresses or went into their cases (what the records keep: masked, and the sender only for
    INBOUND_LOG_DAYS)."""
    addresses = {case.contact_email.lower() for case in cases if case.contact_email}
    if customer is not None and customer.email:
        addresses.add(customer.email.lower())
    references = {case.id: case.reference for case in cases}
    conditions = [InboundMail.sender.in_(sorted(addresses))] if addresses else []
    if references:
        conditions.append(InboundMail.case_id.in_(sorted(references)))
    if not conditions:
        return []
    return [{**_row(mail, "processed_at", "outcome", "sender", "sender_name", "subject",
                    "excerpt", "attachments"), "case": references.get(mail.case_id)}
            for mail in db.session.scalars(sa.select(InboundMail).where(sa.or_(*conditions))
                                           .order_by(InboundMail.id))]
