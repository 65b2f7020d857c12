"""Sensitive data in free text: identity codes, IBANs and card numbers are masked on arrival."""

from datetime import date

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum import iban, luhn

from feedback_intranet.masking import CARD_NUMBER, IBAN, IDENTITY_CODE, mask

HETU_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


@pytest.mark.parametrize(
    ("text", "masked", "kinds"),
    [
        ("Min hetu on 131052-308T.", "Min hetu on [identity code removed].", {IDENTITY_CODE}),
        ("Uusi muoto 010594Y9032 käytössä", "Uusi muoto [identity code removed] käytössä",
         {IDENTITY_CODE}),
        ("lowercase 131052a308t too", "lowercase [identity code removed] too", {IDENTITY_CODE}),
        ("Mitt konto FI21 1234 5600 0007 85, tack!", "Mitt konto [account number …0785 removed], tack!",
         {IBAN}),
        ("tili fi2112345600000785", "tili [account number …0785 removed]", {IBAN}),
        ("DE89 3704 0044 0532 0130 00 und mehr", "[account number …3000 removed] und mehr", {IBAN}),
        ("Card 4111 1111 1111 1111 was declined", "Card [card number …1111 removed] was declined",
         {CARD_NUMBER}),
        ("kortti 5500-0000-0000-0004.", "kortti [card number …0004 removed].", {CARD_NUMBER}),
        ("amex 3782 822463 10005", "amex [card number …0005 removed]", {CARD_NUMBER}),
        ("Mastercard 2-series 2221000000000009", "Mastercard 2-series [card number …0009 removed]",
         {CARD_NUMBER}),
        ("card 4111 1111 1111 1111 12 euros", "card [card number …1111 removed] 12 euros",
         {CARD_NUMBER}),
        ("Soita 040 123 4567 4111 1111 1111 1111", "Soita 040 123 4567 [card number …1111 removed]",
         {CARD_NUMBER}),
        ("+358 40 123 4567 4111 1111 1111 1111", "+358 40 123 4567 [card number …1111 removed]",
         {CARD_NUMBER}),
        ("tili FI21-1234-5600-0007-85.", "tili [account number …0785 removed].", {IBAN}),
        ("tili FI21  1234 5600\u00a00007 85", "tili [account number …0785 removed]", {IBAN}),
        ("hetu 131052–308T.", "hetu [identity code removed].", {IDENTITY_CODE}),
    ],
)
def test_sensitive_numbers_are_masked(text, masked, kinds):
    result = mask(text)
    assert result.text == masked
    assert result.kinds == kinds


@pytest.mark.parametrize(
    "text",
    [
        "Soita minulle +358 40 123 4567 tai 040 123 4567 tai 09 123 4567",
        "Laskut 573 211 321 482 168 euroa ja 12 345 678 901 234",
        "Maksoin 1 234,50 € 24.12.2026 ja 3.1.2027, postinumero 00100.",
        "Laskun viite 1234561 ja RF18 5390 0754 7034",
        "Tilinumero FI21 1234 5600 0007 86 on väärin kirjoitettu",  # fails mod-97
        "Henkilötunnus 131052-308A on väärin",  # fails the check character
        "Kortti 4111 1111 1111 1112",  # fails Luhn
        "Order 1234567890123 shipped",  # no card network starts with 1
        "",
    ],
)
def test_ordinary_numbers_survive(text):
    result = mask(text)
    assert result.text == text
    assert not result.kinds


def test_all_three_in_one_message():
    result = mask("131052-308T / FI2112345600000785 / 4111111111111111")
    assert result.kinds == {IDENTITY_CODE, IBAN, CARD_NUMBER}
    assert result.text == (
        "[identity code removed] / [account number …0785 removed] / [card number …1111 removed]"
    )


# Property-based: generated valid numbers inside random text are always masked.

filler = st.text(alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzåäö .,!?:;()"), max_size=40)


@st.composite
def identity_codes(draw):
    born = draw(st.dates(min_value=date(1850, 1, 1), max_value=date(2099, 12, 31)))
    signs = {18: "+", 19: "-YXWVU", 20: "ABCDEF"}[born.year // 100]
    sign = draw(st.sampled_from(signs))
    individual = draw(st.integers(2, 999))  # 900-999 are temporary codes
    digits = f"{born:%d%m}{born.year % 100:02d}"
    check = HETU_CHECK[int(f"{digits}{individual:03d}") % 31]
    return f"{digits}{sign}{individual:03d}{check}"


BBAN_SHAPES = {"FI": "n14", "DE": "n18", "GB": "a4n14", "NL": "a4n10", "SE": "n20", "DK": "n14"}


@st.composite
def ibans(draw):
    country = draw(st.sampled_from(sorted(BBAN_SHAPES)))
    bban = ""
    for part in BBAN_SHAPES[country].split("n"):
        if part.startswith("a"):
            bban += draw(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=4, max_size=4))
    digits = int(BBAN_SHAPES[country].rsplit("n", 1)[1])
    bban += "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=digits, max_size=digits)))
    number = country + iban.calc_check_digits(country + "00" + bban) + bban
    assume(iban.is_valid(number))
    style = draw(st.sampled_from(["compact", "grouped", "lower"]))
    if style == "grouped":
        return " ".join(number[i:i + 4] for i in range(0, len(number), 4))
    return number.lower() if style == "lower" else number


@st.composite
def card_numbers(draw):
    prefix, length = draw(st.sampled_from(
        [("4", 16), ("4", 13), ("51", 16), ("55", 16), ("2221", 16), ("2720", 16), ("34", 15),
         ("37", 15), ("6011", 16), ("4", 19)]))
    body = prefix + "".join(draw(st.lists(st.sampled_from("0123456789"),
                                          min_size=length - len(prefix) - 1,
                                          max_size=length - len(prefix) - 1)))
    number = body + luhn.calc_check_digit(body)
    separator = draw(st.sampled_from(["", " ", "-"]))
    return separator.join(number[i:i + 4] for i in range(0, len(number), 4)), number


@given(before=filler, after=filler, code=identity_codes())
def test_generated_identity_codes_are_masked(before, after, code):
    result = mask(f"{before} {code} {after}")
    assert IDENTITY_CODE in result.kinds
    assert code not in result.text and code[7:] not in result.text


@given(before=filler, after=filler, number=ibans())
def test_generated_ibans_are_masked(before, after, number):
    compact = number.replace(" ", "").upper()
    result = mask(f"{before} {number} {after}")
    assert result.kinds == {IBAN}
    assert f"[account number …{compact[-4:]} removed]" in result.text
    assert compact[4:-4] not in result.text.replace(" ", "").upper()


@given(before=filler, after=filler, card=card_numbers())
def test_generated_card_numbers_are_masked(before, after, card):
    written, digits = card
    result = mask(f"{before} {written} {after}")
    assert result.kinds == {CARD_NUMBER}
    assert f"[card number …{digits[-4:]} removed]" in result.text
    assert digits[:-4] not in "".join(ch for ch in result.text if ch.isdigit())


ordinary = st.one_of(
    st.dates().map(lambda d: f"{d.day}.{d.month}.{d.year}"),
    st.decimals(min_value=0, max_value=10**6, places=2).map(lambda a: f"{a:,.2f} €".replace(",", " ")),
    st.integers(0, 99999).map(lambda n: f"{n:05d}"),
    st.integers(10**6, 10**8 - 1).map(lambda n: f"+358 40 {n}"),
    st.integers(10**6, 10**7 - 1).map(lambda n: f"040 {n}"),
    st.integers(10**3, 10**19).map(str).filter(
        lambda s: not (luhn.is_valid(s) and 13 <= len(s) <= 19)),
)


@given(before=filler, after=filler, numbers=st.lists(ordinary, min_size=1, max_size=5),
       card=card_numbers())
def test_a_card_among_ordinary_numbers_is_masked_and_they_survive(before, after, numbers, card):
    written, digits = card
    text = f"{before} {' '.join(numbers)} and {written} {after}"
    result = mask(text)
    assert CARD_NUMBER in result.kinds
    assert f"[card number …{digits[-4:]} removed]" in result.text
    for number in numbers:
        assert number in result.text


@pytest.mark.parametrize("chunk", ["1 ", "12-", "ab12 ", "FI21 ", "4111 ", "131052-308T "])
def test_long_hostile_input_costs_linear_work(chunk, monkeypatch):
    """The old search tried every window of digit groups: minutes for one 5 000-character post."""
    from feedback_intranet import masking

    calls = {"luhn": 0, "iban": 0}

    def counting(name, check):
        def wrapper(value):
            calls[name] += 1
            return check(value)
        return wrapper

    monkeypatch.setattr(masking.luhn, "is_valid", counting("luhn", luhn.is_valid))
    monkeypatch.setattr(masking.iban, "is_valid", counting("iban", iban.is_valid))
    text = chunk * (5000 // len(chunk))
    mask(text)
    # At most one check per group and possible end: bounded by the card and IBAN lengths.
    assert calls["luhn"] <= 20 * len(text.split())
    assert calls["iban"] <= 35 * len(text.split())


@given(before=filler, after=filler, number=ordinary)
def test_ordinary_numbers_are_never_masked(before, after, number):
    text = f"{before} {number} {after}"
    result = mask(text)
    assert result.text == text
    assert not result.kinds
