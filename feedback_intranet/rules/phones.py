"""Phone numbers as the bank stores and compares them: E.164, read as Finnish when no country
code is given."""

import phonenumbers


def e164(text, *, valid=False):
    """`text` as an E.164 number, or None when it cannot be one.

    `valid` asks for a number in use in its country's numbering plan (what a customer may give
    as a contact); otherwise a number of a possible length will do (what staff search with).
    """
    try:
        number = phonenumbers.parse(text, "FI")
    except phonenumbers.NumberParseException:
        return None
    fits = phonenumbers.is_valid_number if valid else phonenumbers.is_possible_number
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) if fits(number) else None


def for_dialling(text):
    """`text` written for the caller to read and dial: +358 40 123 4567, +358 9 1234 5678.

    Finnish numbers in the groups people here write them in (area or operator code, then the
    subscriber number with its last four digits apart); foreign ones as their own country
    groups them. What cannot be a number is given back as it was, so the caller still sees it.
    """
    try:
        number = phonenumbers.parse(text, "FI")
    except phonenumbers.NumberParseException:
        return text
    if not phonenumbers.is_possible_number(number):
        return text
    if number.country_code != 358:
        written = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        return written.replace("-", " ")
    digits = phonenumbers.national_significant_number(number)
    code = phonenumbers.length_of_national_destination_code(number)
    groups = ([digits[:code]] if code else []) + _subscriber_groups(digits[code:])
    return " ".join(["+358", *groups])


def _subscriber_groups(digits):
    """1234567 → 123 4567; 12345678 → 1234 5678; 123456 → 123 456; longer ones in more groups."""
    if len(digits) <= 4:
        return [digits] if digits else []
    if len(digits) <= 6:
        return [digits[:-3], digits[-3:]]
    return [*_subscriber_groups(digits[:-4]), digits[-4:]]


def tel_uri(text):
    """A tel: link that dials `text` from a softphone or a mobile: E.164 where it can be."""
    return "tel:" + (e164(text) or "".join(c for c in text if c.isdigit() or c == "+"))
