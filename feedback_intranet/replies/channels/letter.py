"""Answers by letter: a PDF for a window envelope in the unit's print queue."""

from flask_babel import lazy_gettext as _l

from ... import customer_texts as ct
from ...extensions import db
from ...models import Letter
from ...rules.dates import format_date
from ...rules.letter_layout import render_letter


def problem(case):
    if case.contact_name and case.contact_street and case.contact_postal_code and case.contact_city:
        return None
    return _l("no full postal address")


def _address_lines(case):
    return [case.contact_name, case.contact_street,
            f"{case.contact_postal_code} {case.contact_city}"]


def letter_pdf(case, unit, text, today):
    return render_letter(
        bank_name=ct.say(case.language, ct.BANK_NAME),
        sender_lines=[unit.name_in(case.language), unit.street_address,
                      f"{unit.postal_code} {unit.city}".strip()],
        recipient_lines=_address_lines(case),
        date_text=format_date(today),
        reference_label=ct.say(case.language, ct.LETTER_REFERENCE),
        reference=case.reference,
        body=text,
    )


def preview(case, text):
    return None, "\n".join(_address_lines(case)) + f"\n\n{text}"


def dispatch(answer, case, unit, *, now, today, calendar, deviations):
    db.session.add(Letter(case_id=case.id, answer_id=answer.id, unit_id=unit.id,
                          pdf=letter_pdf(case, unit, answer.text, today), created_at=now))
    return {"channel": "letter"}
