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
    texts = ct.pick(ct.CONFIRMATION, case.language)
    enqueue(kind="confirmation", recipient=case.contact_email,
            subject=ct.pick(ct.CONFIRMATION_SUBJECT, case.language).format(
                reference=case.reference),
            body_text=render_template("emails/confirmation.txt", case=case, t=texts,
                                      due=format_date(case.due_date)),
            sender_name=texts["sender"], case_id=case.id, now=now)
