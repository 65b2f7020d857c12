"""Staff notifications go to the outbox in the transaction of the change they announce.

A rolled-back change therefore sends nothing. The email names the case and
links to it; it never carries the customer's message. Each recipient reads it
in their own language.
"""


from .customer_texts import say
from .emails import intranet_link, render_bodies
from .models import OutboxKind
from .outbox import enqueue
from .rules import N_

ASSIGNED = N_("%(actor)s assigned case %(ref)s to you.")
FORWARDED = N_("%(actor)s forwarded case %(ref)s to %(unit)s.")
WRONG_NUMBER = N_("The phone number of case %(ref)s is wrong.")
NOT_REACHED = N_("Three calls did not reach the customer of case %(ref)s.")
REOPENED_UNDELIVERED = N_("Case %(ref)s, closed when its answer was delivered, is open again: "
                          "the answer did not reach the customer.")
CUSTOMER_REPLIED = N_("The customer replied to case %(ref)s.")
REOPENED_BY_REPLY = N_("The customer replied to case %(ref)s, and the case is open again.")
SUBJECT = N_("Feedback intranet: %(ref)s")
AUTOMATIC = N_("This is an automatic notification.")


def notify(users, case, message, now, opted_in="notify_by_email", **values):
    """Queue `message` (one of the texts above) about `case` for each user who opted in (the
    User option named `opted_in`). A unit among `values` is named in each recipient's
    language."""
    link = intranet_link("cases.show", reference=case.reference)
    for user in users:
        if getattr(user, opted_in) and user.active and user.email:
            language = user.language
            named = {key: value.name_in(language) if hasattr(value, "name_in") else value
                     for key, value in values.items()}
            context = {"text": say(language, message, ref=case.reference, **named),
                       "link": link, "automatic": say(language, AUTOMATIC)}
            body_text, body_html = render_bodies("notification", language, **context)
            enqueue(kind=OutboxKind.NOTIFICATION, recipient=user.email,
                    subject=say(language, SUBJECT, ref=case.reference),
                    body_text=body_text, body_html=body_html, case_id=case.id, now=now)
