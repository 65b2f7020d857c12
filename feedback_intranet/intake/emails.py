"""The confirmation email: reference, promised date and standard text, never what was typed.

It is written in the customer's language.
"""

from .. import customer_texts as ct
from ..emails import render_bodies, replies_are_read
from ..models import OutboxKind
from ..outbox import enqueue
from ..rules.dates import format_date


def queue_confirmation(case, now, *, auto_replied=False, replying_to=""):
    """Put the confirmation in the outbox, in the same transaction as the new case; returns the
    message, or None when the case has no email address."""
    if not case.contact_email:
        return None
    values = {"reference": case.reference, "date": format_date(case.due_date)}
    texts = {key: ct.say(case.language, text, **values) for key, text in ct.CONFIRMATION.items()}
    body_text, body_html = render_bodies("confirmation", case.language, case=case, t=texts,
                                         replies_read=replies_are_read())
    return enqueue(kind=OutboxKind.CONFIRMATION, recipient=case.contact_email,
                   subject=ct.say(case.language, ct.CONFIRMATION_SUBJECT, reference=case.reference),
                   body_text=body_text, body_html=body_html, sender_name=texts["sender"],
                   case_id=case.id, auto_replied=auto_replied, replying_to=replying_to, now=now)


def queue_confirmation_of_emailed_feedback(case, now, *, replying_to=""):
    """The confirmation of feedback that came by email: the web form's, but written in answer to
    the customer's mail (Auto-Submitted: auto-replied, RFC 3834) and threaded to it when its
    Message-ID (`replying_to`, "<...>") is given. Whether one may go at all (DMARC, once a day
    per sender) is the caller's to decide."""
    return queue_confirmation(case, now, auto_replied=True, replying_to=replying_to)
