"""The confirmation email: reference, promised date and standard text, never what was typed."""

from flask import render_template

from ..outbox import enqueue


def queue_confirmation(case, now):
    """Put the confirmation in the outbox, in the same transaction as the new case."""
    if not case.contact_email:
        return
    enqueue(kind="confirmation", recipient=case.contact_email,
            subject=f"We received your feedback {case.reference}",
            body_text=render_template("emails/confirmation.txt", case=case), case_id=case.id,
            now=now)
