"""Answers by email: through the outbox, in the customer's language."""

from ... import customer_texts as ct
from ...emails import render_bodies, replies_are_read
from ...i18n import lazy_gettext as _l
from ...models import OutboxKind, Purpose
from ...outbox import enqueue
from ..texts import sender_name


def problem(case):
    if not case.contact_email:
        return _l("no email address")
    if case.own_banking_matter:
        return _l("it concerns the customer's own banking matters, which the bank does not "
                  "answer by email")
    if case.email_refused == case.contact_email:
        return _l("the customer's mail server refused this address; correct the email in the "
                  "contact details first")
    return None


SUBJECTS = {Purpose.ANSWER: ct.ANSWER_SUBJECT, Purpose.INTERIM_NOTICE: ct.INTERIM_SUBJECT,
            Purpose.WRITTEN_CONFIRMATION: ct.CALL_CONFIRMATION_SUBJECT}


def email_content(case, purpose, text):
    """Subject, text body and HTML body of an answer, notice or confirmation email, in the
    case's language."""
    subjects = SUBJECTS[Purpose(purpose)]
    footer = ct.YOU_MAY_REPLY if replies_are_read() else ct.EMAIL_FOOTER
    context = {"text": text, "footer": ct.say(case.language, footer),
               "reference": case.reference}
    return (ct.say(case.language, subjects, reference=case.reference),
            *render_bodies("answer", case.language, **context))


def preview(case, text):
    subject, body, _html = email_content(case, Purpose.ANSWER, text)
    return subject, body


def dispatch(answer, case, unit, *, now, today, calendar, deviations):
    answer.subject, body_text, body_html = email_content(case, answer.purpose, answer.text)
    enqueue(kind=OutboxKind(answer.purpose), recipient=case.contact_email, subject=answer.subject,
            body_text=body_text, body_html=body_html,
            sender_name=sender_name(unit, str(case.language)), case_id=case.id,
            answer=answer, now=now)
    return {"channel": "email", "to": case.contact_email}
