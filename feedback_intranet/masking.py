"""Find and mask Finnish identity codes, IBANs and payment card numbers. Pure.

The checks come from python-stdnum; this module only finds candidates in free
text and decides what replaces them. Identity codes keep nothing; account and
card numbers keep their last four characters.
"""

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from stdnum import iban, luhn
from stdnum.exceptions import ValidationError
from stdnum.fi import hetu

IDENTITY_CODE = "identity_code"
IBAN = "iban"
CARD_NUMBER = "card_number"
KIND_TITLES = {
    IDENTITY_CODE: _l("personal identity code"),
    IBAN: _l("account number (IBAN)"),
    CARD_NUMBER: _l("payment card number"),
}

# DDMMYY, a century sign (incl. the 2023 additions Y X W V U and B-F), NNN, a check character.
# People also type the hyphen as an en dash or a minus sign.
_DASHES = "\u2010\u2011\u2012\u2013\u2212"
_HETU = re.compile(rf"(?<![0-9A-Za-z])\d{{6}}[-+A-FU-Y{_DASHES}]\d{{3}}[0-9A-Y](?![0-9A-Za-z])",
                   re.IGNORECASE)
# Two letters, two check digits, then letters and digits, optionally in space-separated groups.
_IBAN_START = re.compile(r"(?<![0-9A-Za-z])[A-Za-z]{2}\d{2}")
# Digit groups separated by spaces (any kind, at most two) or a dash: numbers as people write them.
_SEPARATOR = r"(?:[^\S\r\n]{1,2}|-)"
_DIGIT_RUN = re.compile(rf"\d+(?:{_SEPARATOR}\d+)*")
_IBAN_SEPARATORS = (" ", "\u00a0", "\u202f", "\t", "-")
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
    candidate = re.sub(f"[{_DASHES}]", "-", candidate)
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
    """The longest valid IBAN from each start: letters and digits, single separators between."""
    position = 0
    while True:
        match = _IBAN_START.search(text, position)
        if match is None:
            return
        end, compact, candidates = match.end(), match.group().upper(), []
        while end < len(text) and len(compact) < 34:
            char = text[end]
            if char.isascii() and char.isalnum():
                compact += char.upper()
                end += 1
                at_edge = end == len(text) or not text[end].isalnum()
                if at_edge and len(compact) >= 15:
                    candidates.append((end, compact))
            elif char in _IBAN_SEPARATORS:
                # One or two separators, then the IBAN goes on.
                gap = 2 if text[end + 1:end + 2] in _IBAN_SEPARATORS else 1
                following = text[end + gap:end + gap + 1]
                if not (following.isascii() and following.isalnum()):
                    break
                end += gap
            else:
                break
        for candidate_end, candidate in reversed(candidates):
            if iban.is_valid(candidate):
                yield Finding(IBAN, match.start(), candidate_end,
                              f"[account number …{candidate[-4:]} removed]")
                position = candidate_end
                break
        else:
            position = match.start() + 1


def _is_card(digits):
    return 13 <= len(digits) <= 19 and bool(_CARD_PREFIXES.match(digits)) and luhn.is_valid(digits)


def _card_shape(lengths):
    """Cards are written unbroken, in fours (the last group shorter), or 4-6-5 / 4-6-4."""
    if len(lengths) == 1:
        return True
    if all(n == 4 for n in lengths[:-1]) and 1 <= lengths[-1] <= 4:
        return True
    return lengths in ([4, 6, 5], [4, 6, 4])


def _find_card_numbers(text):
    for run in _DIGIT_RUN.finditer(text):
        groups = [(m.start() + run.start(), m.end() + run.start())
                  for m in re.finditer(r"\d+", run.group())]
        i = 0
        while i < len(groups):
            start = groups[i][0]
            before = text[start - 1] if start else ""
            # A phone number's international prefix, or digits glued to a word.
            if before == "+" or before.isalpha():
                i += 1
                continue
            best, digits = None, ""
            for j in range(i, len(groups)):
                digits += text[groups[j][0]:groups[j][1]]
                if len(digits) > 19:
                    break
                lengths = [e - s for s, e in groups[i:j + 1]]
                if _is_card(digits) and _card_shape(lengths):
                    best = (j, digits)
            if best is None:
                i += 1
                continue
            j, digits = best
            yield Finding(CARD_NUMBER, start, groups[j][1], f"[card number …{digits[-4:]} removed]")
            i = j + 1


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
