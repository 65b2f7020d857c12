"""The frame of every answer: the unit's greeting and signature, and the complaint paragraph."""

import sqlalchemy as sa

from .. import customer_texts as ct
from ..extensions import db
from ..models import BankText, CaseType, UnitText

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


def compose(case, unit, body, final):
    """Exactly what the customer receives: greeting, body, complaint paragraph, signature."""
    greeting, signature = greeting_and_signature(case, unit)
    parts = [greeting, body.strip()]
    if final and case.case_type == CaseType.COMPLAINT:
        parts.append(bank_text(COMPLAINT_PARAGRAPH, str(case.language), ct.COMPLAINT_PARAGRAPH))
    parts.append(signature)
    return "\n\n".join(parts)
