"""The confirmation email: reference, promised date and standard text, never what was typed."""

import logging

from flask import render_template
from flask_mail import Message

from ..extensions import mail

log = logging.getLogger(__name__)


def confirmation_message(case):
    return Message(
        subject=f"We received your feedback {case.reference}",
        recipients=[case.contact_email],
        body=render_template("emails/confirmation.txt", case=case),
    )


def send_confirmation(case):
    """Send after the commit; a mail server that is down never loses the case."""
    if not case.contact_email:
        return
    try:
        mail.send(confirmation_message(case))
    except Exception:  # the case is saved; the mail can be resent, the customer not refused
        log.exception("Confirmation email for %s could not be sent", case.reference)
