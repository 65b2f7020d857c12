"""The confirmation email: reference, promised date and standard text, never what was typed.

It is written in the customer's language.
"""

from .. import customer_texts as ct
from ..emails import render_bodies
from ..models import OutboxKind
from ..outbox import enqueue
from ..rules.dates import format_date


def queue_confirmation(case, now):
    """Put the confirmation in the outbox, in the same transaction as the new case."""
    if not case.contact_email:
        return
    values = {"reference": case.reference, "date": format_date(case.due_date)}
    texts = {key: ct.say(case.language, text, **values) for key, text in ct.CONFIRMATION.items()}
    body_text, body_html = render_bodies("confirmation", case.language, case=case, t=texts)
    enqueue(kind=OutboxKind.CONFIRMATION, recipient=case.contact_email,
            subject=ct.say(case.language, ct.CONFIRMATION_SUBJECT, reference=case.reference),
            body_text=body_text, body_html=body_html,
            sender_name=texts["sender"], case_id=case.id, now=now)
