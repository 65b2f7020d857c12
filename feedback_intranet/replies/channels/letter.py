"""Answers by letter: a PDF for a window envelope in the unit's print queue."""

from ... import customer_texts as ct
from ...countries import country_name
from ...extensions import db
from ...i18n import lazy_gettext as _l
from ...models import Letter, Purpose
from ...rules.dates import format_date
from ...rules.letter_layout import address_block, address_size, render_letter
from ..texts import sender_name

# What the letter is, at the top of each page and in its subject line.
DOCUMENT_NAMES = {Purpose.ANSWER: ct.LETTER_ANSWER, Purpose.INTERIM_NOTICE: ct.LETTER_INTERIM,
                  Purpose.WRITTEN_CONFIRMATION: ct.LETTER_CALL_CONFIRMATION}
SUBJECTS = {Purpose.ANSWER: ct.ANSWER_SUBJECT, Purpose.INTERIM_NOTICE: ct.LETTER_INTERIM_SUBJECT,
            Purpose.WRITTEN_CONFIRMATION: ct.CALL_CONFIRMATION_SUBJECT}


def problem(case):
    if not (case.contact_name and case.contact_street and case.contact_postal_code
            and case.contact_city):
        return _l("no full postal address")
    if address_size(_address_lines(case)) is None:
        return _l("the postal address is too long for the envelope's window; shorten it in the "
                  "contact details")
    return None


def _address_lines(case):
    """The window's lines; an address abroad ends with its country, in English capitals as the
    Finnish post asks."""
    return address_block([case.contact_name, case.contact_street,
                          f"{case.contact_postal_code} {case.contact_city}"],
                         case.contact_country, country_name(case.contact_country, "en"))


def letter_pdf(case, unit, purpose, text, today):
    """An answer or interim notice (`purpose`) as a letter in the customer's language."""
    language = str(case.language)
    return render_letter(
        bank_name=ct.say(language, ct.BANK_NAME),
        sender_lines=[line for line in (sender_name(unit, language), unit.street_address,
                                        f"{unit.postal_code} {unit.city}".strip()) if line],
        recipient_lines=_address_lines(case),
        date_text=format_date(today),
        reference_label=ct.say(language, ct.LETTER_REFERENCE),
        reference=case.reference,
        document_name=ct.say(language, DOCUMENT_NAMES[purpose]),
        subject=ct.say(language, SUBJECTS[purpose], reference=case.reference),
        body=text,
    )


def preview(case, text):
    return None, "\n".join(_address_lines(case)) + f"\n\n{text}"


def dispatch(answer, case, unit, *, now, today, calendar, deviations):
    pdf = letter_pdf(case, unit, answer.purpose, answer.text, today)
    db.session.add(Letter(case_id=case.id, answer=answer, unit_id=unit.id, pdf=pdf,
                          created_at=now))
    return {"channel": "letter"}
