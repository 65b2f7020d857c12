"""Find and mask Finnish identity codes, IBANs and payment card numbers. Pure.

The checks come from python-stdnum; this module only finds candidates in free
text and decides what replaces them. Identity codes keep nothing; account and
card numbers keep their last four characters.
"""

import re
from dataclasses import dataclass

from stdnum import iban, luhn
from stdnum.exceptions import ValidationError
from stdnum.fi import hetu

IDENTITY_CODE = "identity_code"
IBAN = "iban"
CARD_NUMBER = "card_number"
KIND_TITLES = {
    IDENTITY_CODE: "personal identity code",
    IBAN: "account number (IBAN)",
    CARD_NUMBER: "payment card number",
}

# DDMMYY, a century sign (incl. the 2023 additions Y X W V U and B-F), NNN, a check character.
_HETU = re.compile(r"(?<![0-9A-Za-z])\d{6}[-+A-FU-Y]\d{3}[0-9A-Y](?![0-9A-Za-z])", re.IGNORECASE)
# Two letters, two check digits, then letters and digits, optionally in space-separated groups.
_IBAN_START = re.compile(r"(?<![0-9A-Za-z])[A-Za-z]{2}\d{2}")
# Digit groups separated by single spaces or dashes: a card number as people write it.
_DIGIT_RUN = re.compile(r"\d+(?:[ -]\d+)*")
_CARD_PREFIXES = re.compile(
    r"^(?:4|5[1-5]|2(?:22[1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)|3[47]|30[0-5]|3[68]"
    r"|35(?:2[89]|[3-8]\d)|6011|64[4-9]|65|62|5[06-9]|6[0-9])"
)


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int
    marker: str


def _is_hetu(candidate):
    try:
        hetu.validate(candidate.upper(), allow_temporary=True)
    except ValidationError:
        return False
    return True


def _find_identity_codes(text):
    for match in _HETU.finditer(text):
        if _is_hetu(match.group()):
            yield Finding(IDENTITY_CODE, match.start(), match.end(), "[identity code removed]")


def _find_ibans(text):
    """Longest valid IBAN from each start: letters, digits and single spaces, ending at a word edge."""
    position = 0
    while True:
        match = _IBAN_START.search(text, position)
        if match is None:
            return
        end, ends = match.end(), []
        while end < len(text):
            if text[end].isalnum() and text[end].isascii():
                end += 1
                if end == len(text) or not text[end].isalnum():
                    ends.append(end)
            elif text[end] == " " and end + 1 < len(text) and text[end + 1].isalnum():
                end += 1
            else:
                break
        for candidate_end in reversed(ends):
            compact = re.sub(r"\s", "", text[match.start():candidate_end]).upper()
            if 15 <= len(compact) <= 34 and iban.is_valid(compact):
                yield Finding(IBAN, match.start(), candidate_end,
                              f"[account number …{compact[-4:]} removed]")
                position = candidate_end
                break
        else:
            position = match.start() + 1


def _is_card(digits):
    return 13 <= len(digits) <= 19 and bool(_CARD_PREFIXES.match(digits)) and luhn.is_valid(digits)


def _find_card_numbers(text):
    for run in _DIGIT_RUN.finditer(text):
        before = text[run.start() - 1] if run.start() else ""
        # A phone number: an international prefix, or a leading zero of an area code.
        if before == "+" or run.group().startswith("0") or before.isalpha():
            continue
        groups = [(m.start() + run.start(), m.end() + run.start())
                  for m in re.finditer(r"\d+", run.group())]
        i = 0
        while i < len(groups):
            found = None
            for j in range(len(groups) - 1, i - 1, -1):
                digits = "".join(text[s:e] for s, e in groups[i:j + 1])
                if _is_card(digits):
                    found = j
                    break
            if found is None:
                i += 1
                continue
            digits = "".join(text[s:e] for s, e in groups[i:found + 1])
            yield Finding(CARD_NUMBER, groups[i][0], groups[found][1],
                          f"[card number …{digits[-4:]} removed]")
            i = found + 1


def _apply(text, findings):
    parts, position = [], 0
    for finding in sorted(findings, key=lambda f: f.start):
        parts.append(text[position:finding.start])
        parts.append(finding.marker)
        position = finding.end
    parts.append(text[position:])
    return "".join(parts)


@dataclass(frozen=True)
class Masked:
    text: str
    kinds: frozenset

    @property
    def changed(self):
        return bool(self.kinds)


def mask(text):
    """The text with every identity code, IBAN and card number replaced, and the kinds found."""
    kinds = set()
    for finder in (_find_identity_codes, _find_ibans, _find_card_numbers):
        findings = list(finder(text))
        if findings:
            kinds.update(f.kind for f in findings)
            text = _apply(text, findings)
    return Masked(text, frozenset(kinds))


def sensitive_kinds(text):
    """The kinds of sensitive data in `text` (empty when there are none)."""
    return mask(text).kinds
