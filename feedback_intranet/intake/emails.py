"""The confirmation email: reference, promised date and standard text, never what was typed.

It is written in the customer's language.
"""

from flask import render_template

from .. import customer_texts as ct
from ..badges import format_date
from ..outbox import enqueue


def queue_confirmation(case, now):
    """Put the confirmation in the outbox, in the same transaction as the new case."""
    if not case.contact_email:
        return
    values = {"reference": case.reference, "date": format_date(case.due_date)}
    texts = {key: ct.say(case.language, text, **values) for key, text in ct.CONFIRMATION.items()}
    enqueue(kind="confirmation", recipient=case.contact_email,
            subject=ct.say(case.language, ct.CONFIRMATION_SUBJECT, reference=case.reference),
            body_text=render_template("emails/confirmation.txt", case=case, t=texts),
            body_html=render_template("emails/confirmation.html", case=case, t=texts),
            sender_name=texts["sender"], case_id=case.id, now=now)
