"""Sending an answer or an interim notice by the channel: the outbox, a callback task, a letter."""

from flask import render_template
from flask_babel import lazy_gettext as _l

from .. import customer_texts as ct
from ..badges import format_date
from ..extensions import db
from ..models import Answer, CallbackTask, Letter, Purpose, ReplyChannel
from ..outbox import enqueue
from ..service_hours import next_windows
from .letters import render_letter


def channel_problems(case):
    """For each channel, why it cannot be used for this case now (empty: it can)."""
    problems = {}
    if not case.contact_email:
        problems[ReplyChannel.EMAIL] = _l("no email address")
    elif case.own_banking_matter:
        problems[ReplyChannel.EMAIL] = _l("it concerns the customer's own banking matters, "
                                          "which the bank does not answer by email")
    elif case.email_refused == case.contact_email:
        problems[ReplyChannel.EMAIL] = _l("the customer's mail server refused this address; "
                                          "correct the email in the contact details first")
    if not case.contact_phone:
        problems[ReplyChannel.PHONE] = _l("no phone number")
    if not (case.contact_name and case.contact_street and case.contact_postal_code
            and case.contact_city):
        problems[ReplyChannel.LETTER] = _l("no full postal address")
    return problems


def first_window(case, now, calendar, deviations):
    """The first call window: before the due date if possible, else the next one."""
    return next_windows(now, str(case.segment), calendar, deviations, count=1)[0]


def letter_pdf(case, unit, text, today):
    return render_letter(
        bank_name=ct.say(case.language, ct.BANK_NAME),
        sender_lines=[unit.name, unit.street_address, f"{unit.postal_code} {unit.city}".strip()],
        recipient_lines=[case.contact_name, case.contact_street,
                         f"{case.contact_postal_code} {case.contact_city}"],
        date_text=format_date(today),
        reference_label=ct.say(case.language, ct.LETTER_REFERENCE),
        reference=case.reference,
        body=text,
    )


def email_content(case, purpose, text):
    """Subject, text body and HTML body of an answer or notice email, in the case's language."""
    subjects = ct.ANSWER_SUBJECT if purpose == Purpose.ANSWER else ct.INTERIM_SUBJECT
    context = {"text": text, "footer": ct.say(case.language, ct.EMAIL_FOOTER),
               "reference": case.reference}
    return (ct.say(case.language, subjects, reference=case.reference),
            render_template("emails/answer.txt", **context),
            render_template("emails/answer.html", **context))


def preview(case, channel, text):
    """What the customer will receive by `channel`: (subject or None, the whole text)."""
    if ReplyChannel(channel) == ReplyChannel.EMAIL:
        subject, body, _html = email_content(case, Purpose.ANSWER, text)
        return subject, body
    if ReplyChannel(channel) == ReplyChannel.LETTER:
        address = "\n".join([case.contact_name, case.contact_street,
                             f"{case.contact_postal_code} {case.contact_city}"])
        return None, f"{address}\n\n{text}"
    return None, text


def dispatch(answer, case, unit, *, now, today, calendar, deviations):
    """Hand the answer to its channel in the current transaction; returns a timeline line."""
    channel = ReplyChannel(answer.channel)
    if channel == ReplyChannel.EMAIL:
        answer.subject, body_text, body_html = email_content(case, answer.purpose, answer.text)
        enqueue(kind=str(answer.purpose), recipient=case.contact_email, subject=answer.subject,
                body_text=body_text, body_html=body_html,
                sender_name=unit.name, case_id=case.id, answer_id=answer.id, now=now)
        return f"queued by email to {case.contact_email}"
    if channel == ReplyChannel.PHONE:
        window = first_window(case, now, calendar, deviations)
        due = calendar.end_of_day(case.effective_due_date)
        db.session.add(CallbackTask(
            case_id=case.id, answer_id=answer.id, unit_id=unit.id, phone=case.contact_phone,
            segment=case.segment, window_start=window.start, window_end=window.end,
            due_at=max(due, window.end), created_at=now,
        ))
        return (f"callback to {case.contact_phone} planned for {format_date(window.start.date())} "
                f"{window.start:%H}–{window.end:%H}")
    db.session.add(Letter(case_id=case.id, answer_id=answer.id, unit_id=unit.id,
                          pdf=letter_pdf(case, unit, answer.text, today), created_at=now))
    return "letter waiting in the print queue"


def new_answer(case, actor, channel, text, purpose, now):
    answer = Answer(case_id=case.id, purpose=purpose, channel=channel, text=text,
                    created_at=now, created_by_id=actor.id)
    db.session.add(answer)
    db.session.flush()
    return answer
