"""Staff notifications go to the outbox in the transaction of the change they announce.

A rolled-back change therefore sends nothing. The email names the case and
links to it; it never carries the customer's message.
"""

from flask import current_app

from .outbox import enqueue


def notify(users, case, text, now):
    """Queue `text` about `case` for every user in `users` who opted in."""
    link = f"{current_app.config['INTRANET_BASE_URL'].rstrip('/')}/cases/{case.reference}"
    for user in users:
        if user.notify_by_email and user.active and user.email:
            enqueue(kind="notification", recipient=user.email,
                    subject=f"Feedback intranet: {case.reference}",
                    body_text=f"{text}\n{link}\n\nThis is an automatic notification.",
                    case_id=case.id, now=now)
