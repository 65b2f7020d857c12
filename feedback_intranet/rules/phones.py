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
