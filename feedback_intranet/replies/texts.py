"""The frame of every answer: the unit's greeting and signature, and the complaint paragraph;
a phone answer is a call script instead, and a complaint's is confirmed in writing."""

import sqlalchemy as sa

from .. import customer_texts as ct
from ..extensions import db
from ..models import BankText, CaseType, ReplyChannel, UnitText
from ..rules.dates import format_date

COMPLAINT_PARAGRAPH = "complaint_paragraph"


def bank_text(key, language, default):
    """The bank's text as admins wrote it, else `default` in the language."""
    text = db.session.scalar(
        sa.select(BankText.text).where(BankText.key == key, BankText.language == language))
    return text or ct.say(language, default)


def _first_name(name):
    return name.split()[0] if name and name.split() else ""


def sender_name(unit, language):
    """The unit's name as the customer reads it: on the letterhead, in the signature and as the
    sender of an email."""
    return unit.name_in(language)


def greeting_and_signature(case, unit):
    language = str(case.language)
    own = db.session.get(UnitText, (unit.id, language))
    name = case.contact_name.strip()
    if own and own.greeting:
        greeting = own.greeting.replace("{name}", name).replace(" ,", ",")
    elif name:
        greeting = ct.say(language, ct.GREETING, name=name)
    else:
        greeting = ct.say(language, ct.GREETING_NO_NAME)
    signature = (own.signature if own and own.signature
                 else ct.say(language, ct.SIGNATURE, unit=sender_name(unit, language)))
    return greeting, signature


def complaint_paragraph(case, final):
    """Where to turn if not satisfied, in the customer's language: in a complaint's final answer
    only ("" otherwise)."""
    if final and case.case_type == CaseType.COMPLAINT:
        return bank_text(COMPLAINT_PARAGRAPH, str(case.language), ct.COMPLAINT_PARAGRAPH)
    return ""


def compose(case, unit, body, final, channel=ReplyChannel.EMAIL):
    """Exactly what the customer receives by email or letter: greeting, body, complaint
    paragraph, signature. By phone, what the caller tells in their own words: a call script
    has no greeting or sign-off, and its complaint paragraph is read out apart (`read_out`)."""
    if ReplyChannel(channel) == ReplyChannel.PHONE:
        return body.strip()
    greeting, signature = greeting_and_signature(case, unit)
    parts = [greeting, body.strip(), complaint_paragraph(case, final), signature]
    return "\n\n".join(part for part in parts if part)


def read_out(case, final, channel):
    """What the caller reads out as written after telling the answer: by phone, the complaint
    paragraph of a complaint's final answer."""
    return complaint_paragraph(case, final) if ReplyChannel(channel) == ReplyChannel.PHONE else ""


def call_confirmation(case, unit, summary, called_on, paragraph):
    """The written confirmation of a complaint's final answer given by phone on `called_on`:
    the call's summary and the paragraph read out, framed as a letter or email."""
    greeting, signature = greeting_and_signature(case, unit)
    told = ct.say(str(case.language), ct.AS_TOLD_ON_THE_PHONE, date=format_date(called_on))
    return "\n\n".join(part for part in (greeting, told, summary.strip(), paragraph, signature)
                       if part)
