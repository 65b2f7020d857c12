"""Staff notifications: queued in the transaction, sent only after it commits.

A rolled-back change sends nothing. The email names the case and links to
it; it never carries the customer's message.
"""

import logging

from flask import current_app
from flask_mail import Message
from sqlalchemy import event
from sqlalchemy.orm import Session

from .extensions import db, mail

log = logging.getLogger(__name__)
_KEY = "staff_notifications"


def notify(users, case, text):
    """Queue `text` about `case` for every user in `users` who opted in."""
    queue = db.session.info.setdefault(_KEY, [])
    for user in users:
        if user.notify_by_email and user.active and user.email:
            queue.append((user.email, case.reference, text))


def _messages(queued):
    by_recipient = {}
    for email, reference, text in queued:
        by_recipient.setdefault(email, []).append((reference, text))
    base = current_app.config["INTRANET_BASE_URL"].rstrip("/")
    for email, items in by_recipient.items():
        references = ", ".join(dict.fromkeys(reference for reference, _ in items))
        lines = [f"{text}\n{base}/cases/{reference}" for reference, text in items]
        yield Message(subject=f"Feedback intranet: {references}"[:200], recipients=[email],
                      body="\n\n".join(lines) + "\n\nThis is an automatic notification.")


@event.listens_for(Session, "after_commit")
def _send_after_commit(session):
    queued = session.info.pop(_KEY, None)
    if not queued:
        return
    for message in _messages(queued):
        try:
            mail.send(message)
        except Exception:  # a notification never undoes the committed change
            log.exception("Notification to staff could not be sent")


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session):
    session.info.pop(_KEY, None)
