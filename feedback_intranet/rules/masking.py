"""Find and mask Finnish identity codes, IBANs and payment card numbers in free text. Pure.

The IBAN, RF reference and identity code checks come from python-stdnum (Luhn is done here:
it runs on every card candidate); this module finds candidates written the way people write
them and decides what replaces them. Identity codes keep nothing; account and card
numbers keep their last four characters.

What counts as one number:
- Separators inside a number: one to three spaces (also no-break and thin ones), a dot, a
  hyphen or dash, or a line break (with spaces or one of those around it). A line break may
  also split a group. Letters may be glued to a number on either side ("tiliFI21…kiitos").
- IBAN: two letters directly before the check digits (or an upper-case code and a space),
  then exactly as many letters and digits as that country's IBAN has, in any grouping and
  case, and no digit glued on after; valid when mod 97 and the country's format agree.
- Card: 13–19 digits in one or more groups, every separator of one kind (line breaks go
  with any kind) or, in the groups cards are printed in (fours, 4-6-5), of any kinds; a
  network prefix for which that length exists (Visa, Mastercard, Amex, Discover, JCB,
  Diners, Maestro, UnionPay, Mir), and Luhn.
- Identity code: DDMMYY, a century sign (+ - A–F U–Y), a space or nothing, NNN and the check
  character, in either case; valid date, individual number and check character.

Precedence, because some digit strings are valid as two things:
1. IBANs first (mod 97 and a national format rarely hold by chance), then cards, then
   identity codes.
2. Not cards, though Luhn holds: digits right after a "+"; an amount grouped in thousands
   (1 234 567 …); a Finnish payment reference in groups of five from the right whose check
   digit holds; a valid RF creditor reference; dates (24.12.2026, 2026-12-24) and case
   references (FB-2026-000042). Such a card looks like what it claims to be, and stays.
3. Digits that go on a phone number (begun by "+", "(" or a 0, joined by spaces or hyphens,
   15 or 12 digits at most) begin a card only when grouped the way cards are printed
   (unbroken, in fours, 4-6-5): "09 1234 5678 09 1234 5678" is two phone numbers.
4. Not identity codes: ten digits with no century sign that also make a valid Finnish phone
   number (0401234567). With a sign, or a letter as check character, it is a code.
5. Overlapping card candidates are masked together: a leaked card costs more than a damaged
   neighbouring number.
"""

import bisect
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import phonenumbers
from stdnum import iban, iso11649, numdb
from stdnum.fi import hetu

from . import N_

IDENTITY_CODE = "identity_code"
IBAN = "iban"
CARD_NUMBER = "card_number"
KIND_TITLES = {
    IDENTITY_CODE: N_("personal identity code"),
    IBAN: N_("account number (IBAN)"),
    CARD_NUMBER: N_("payment card number"),
}

_SPACES = " \t\u00a0\u2007\u2009\u202f"
# People type the hyphen as a dash or a minus sign too.
_DASHES = "\\-\u2010\u2011\u2012\u2013\u2212"
_SPACE, _DOT, _DASH, _BREAK = "space", "dot", "dash", "break"
# What may stand between two groups of one number; a joint of any other text ends the number.
_JOINT = re.compile(
    rf"(?P<{_SPACE}>[{_SPACES}]{{1,3}})|(?P<{_DOT}>\.)|(?P<{_DASH}>[{_DASHES}])"
    rf"|(?P<{_BREAK}>[{_SPACES}]{{0,3}}[.{_DASHES}]?[{_SPACES}]{{0,3}}\r?\n[{_SPACES}]{{0,3}})")
_LONGEST_JOINT = 12  # three spaces, a dot or dash, three spaces, CR LF, three spaces
_SEPARATOR = rf"(?:[{_SPACES}]{{0,3}}[.{_DASHES}]?[{_SPACES}]{{0,3}}\r?\n[{_SPACES}]{{0,3}}" \
             rf"|[{_SPACES}]{{1,3}}|[.{_DASHES}])"
_ANY_DIGIT = re.compile(r"[0-9]")
_DIGITS = re.compile(r"[0-9]+")

# The two letters right before a digit, or an upper-case country code standing alone.
_IBAN_START = re.compile(rf"(?<![A-Za-z])[A-Z]{{2}}(?=[{_SPACES}]?[0-9])|[A-Za-z]{{2}}(?=[0-9])")
_RF_START = re.compile(r"[Rr][Ff](?=[0-9]{2})")


def _iban_lengths():
    registry, lengths = numdb.get("iban"), {}
    for first in range(ord("A"), ord("Z") + 1):
        for second in range(ord("A"), ord("Z") + 1):
            code = chr(first) + chr(second)
            structure = registry.info(code)[0][1].get("bban")
            if structure:
                lengths[code] = 4 + sum(int(n) for n in re.findall(r"(\d+)!", structure))
    return lengths


_IBAN_LENGTHS = _iban_lengths()

# (prefix, lengths) of the card networks: IIN ranges as the networks publish them.
_NETWORKS = [(re.compile(prefix), frozenset(lengths)) for prefix, lengths in [
    (r"4", (13, 16, 19)),                                             # Visa
    (r"5[1-5]|2(?:22[1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)", (16,)),  # Mastercard
    (r"3[47]", (15,)),                                                # American Express
    (r"6011|64[4-9]|65|622", range(16, 20)),                          # Discover
    (r"35(?:2[89]|[3-8]\d)", range(16, 20)),                          # JCB
    (r"30[0-5]|3095|3[689]", range(14, 20)),                          # Diners Club
    (r"5[06-9]|6\d", range(13, 20)),                                  # Maestro
    (r"62", range(16, 20)),                                           # UnionPay
    (r"220[0-4]", range(16, 20)),                                     # Mir
]]

_HETU = re.compile(
    rf"(?<![0-9])([0-9]{{6}})([+{_DASHES}A-FU-Ya-fu-y]|[ \u00a0]|)([0-9]{{3}})"
    r"([0-9A-FHJ-NPR-Ya-fhj-npr-y])(?![0-9])")
_HETU_SIGNS_TRIED = "-A+"  # no sign written: any century will do

# Dates standing alone (24.12.2026, 2026-12-24; one a line, too) and case references.
_DATE = re.compile(
    r"(?<![0-9])(?<![0-9][.-])(?:(?P<d>[0-9]{1,2})\.(?P<m>[0-9]{1,2})\.(?P<y>[0-9]{4})"
    r"|(?P<iso_y>[0-9]{4})-(?P<iso_m>[0-9]{1,2})-(?P<iso_d>[0-9]{1,2}))(?![.-]?[0-9])")
_CASE_REFERENCE = re.compile(r"[A-Za-z]{2}-[0-9]{4}-[0-9]{6}(?![0-9])")


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int
    marker: str


@lru_cache(maxsize=64)
def _run_of(limit):
    return re.compile(rf"(?:{_SEPARATOR}?[0-9A-Za-z]){{1,{limit}}}")


def _characters(text, position, limit):
    """Up to `limit` letters and digits from `position` on, across separators: [(char, end)]."""
    match = _run_of(limit).match(text, position)
    if match is None:
        return []
    return [(char.upper(), position + offset + 1) for offset, char in enumerate(match.group())
            if char.isascii() and char.isalnum()]


def _find_ibans(text):
    position = 0
    while (match := _IBAN_START.search(text, position)) is not None:
        country = match.group().upper()
        length = _IBAN_LENGTHS.get(country)
        position = match.start() + 1
        if length is None:
            continue
        chars = _characters(text, match.end(), length - 2)
        compact = country + "".join(char for char, _end in chars)
        # Letters may be glued on after it; a digit means a longer number (a parcel code).
        glued_digit = bool(chars) and text[chars[-1][1]:chars[-1][1] + 1].isdigit()
        if (len(compact) == length and compact[2:4].isdigit() and not glued_digit
                and iban.is_valid(compact)):
            yield Finding(IBAN, match.start(), chars[-1][1],
                          f"[account number …{compact[-4:]} removed]")
            position = chars[-1][1]


def _rf_references(text):
    """Spans of valid RF creditor references (RF, two check digits, up to 21 characters).

    The shortest valid one that ends where a group ends: a longer one could take in digits
    of a card written after it.
    """
    for match in _RF_START.finditer(text):
        chars = _characters(text, match.end(), 23)
        compact = "RF" + "".join(char for char, _end in chars)
        for size in range(3, len(chars) + 1):
            end = chars[size - 1][1]
            if not text[end:end + 1].isalnum() and iso11649.is_valid(compact[:size + 2]):
                yield match.start(), end
                break


def _dates(text):
    for match in _DATE.finditer(text):
        day, month, year = (int(match.group(n) or match.group(f"iso_{n}")) for n in "dmy")
        try:
            date(year, month, day)
        except ValueError:
            continue
        if 1900 <= year <= 2100:
            yield match.span()


def _is_finnish_reference(digits):
    """The Finnish payment reference's check digit: weights 7, 3, 1 from the right."""
    if not 4 <= len(digits) <= 20:
        return False
    total = sum(int(d) * (7, 3, 1)[i % 3] for i, d in enumerate(reversed(digits[:-1])))
    return (10 - total % 10) % 10 == int(digits[-1])


def _in_fives(lengths):
    return len(lengths) > 1 and 1 <= lengths[0] <= 5 and all(n == 5 for n in lengths[1:])


def _in_thousands(lengths):
    return len(lengths) > 2 and 1 <= lengths[0] <= 3 and all(n == 3 for n in lengths[1:])


_DOUBLED = str.maketrans("0123456789", "0246813579")  # a digit doubled, its digits summed


def _passes_luhn(digits):
    return (sum(map(int, digits[-1::-2])) + sum(map(int, digits[-2::-2].translate(_DOUBLED)))) % 10 == 0


@lru_cache(maxsize=512)
def _card_lengths(prefix):
    lengths = set()
    for pattern, allowed in _NETWORKS:
        if pattern.match(prefix):
            lengths |= allowed
    return frozenset(lengths)


def _joint_kind(joint):
    if len(joint) > _LONGEST_JOINT:
        return None
    match = _JOINT.fullmatch(joint)
    return match.lastgroup if match else None


def _find_card_numbers(text):
    groups = [(m.start(), m.end()) for m in _DIGITS.finditer(text)]
    if sum(end - start for start, end in groups) < 13:
        return
    kinds = [_joint_kind(text[groups[k][1]:groups[k + 1][0]]) for k in range(len(groups) - 1)]
    blocked = [False] * len(groups)
    group_ends = [end for _start, end in groups]
    protected = [*_dates(text), *(m.span() for m in _CASE_REFERENCE.finditer(text)),
                 *_rf_references(text)]
    for start, end in protected:
        k = bisect.bisect_right(group_ends, start)
        while k < len(groups) and groups[k][0] < end:
            blocked[k] = True
            k += 1
    _block_references_in_fives(text, groups, kinds, blocked)
    phone_tail = _phone_tails(text, groups, kinds)
    windows = []
    for i, (start, _end) in enumerate(groups):
        if blocked[i] or text[start - 1:start] == "+" or text[start] not in "23456":
            continue
        digits, joint, lengths, best, mixed = "", None, None, None, False
        for j in range(i, len(groups)):
            if j > i:
                kind = kinds[j - 1]
                if kind is None or blocked[j]:
                    break
                mixed = mixed or (kind != _BREAK and joint not in (None, kind))
                joint = joint if kind == _BREAK or joint is not None else kind
            digits += text[groups[j][0]:groups[j][1]]
            if len(digits) > 19:
                break
            if len(digits) < 13:
                continue
            lengths = lengths if lengths is not None else _card_lengths(digits[:6])
            written = [end - start for start, end in groups[i:j + 1]]
            # Separators of more than one kind only in the groups cards are printed in.
            if len(digits) in lengths and _passes_luhn(digits) and (
                    not mixed or _printed_like_a_card(written)) and _is_card_grouping(
                    digits, groups[i:j + 1], kinds[i:j], joint, phone_tail[i]):
                best = j
        if best is not None:
            windows.append((start, groups[best][1]))
    yield from _merged(text, windows)


def _is_card_grouping(digits, groups, kinds, joint, in_phone):
    """Whether digits that pass as a card are written as one, not as an amount or reference."""
    lengths = [end - start for start, end in groups]
    if joint in (_SPACE, _DOT) and _in_thousands(lengths):
        return False
    if joint == _SPACE and _in_fives(lengths) and _is_finnish_reference(digits):
        return False
    if not in_phone:
        return True
    # After a phone number's first groups, only the way cards are printed counts.
    glued = [lengths[0]]
    for kind, length in zip(kinds, lengths[1:], strict=True):
        if kind == _BREAK:
            glued[-1] += length
        else:
            glued.append(length)
    return _printed_like_a_card(lengths) or _printed_like_a_card(glued)


def _printed_like_a_card(lengths):
    """Unbroken, in fours (the last group shorter), or 4-6-5 and 4-6-4."""
    if len(lengths) == 1 or lengths in ([4, 6, 5], [4, 6, 4]):
        return True
    return all(n == 4 for n in lengths[:-1]) and 1 <= lengths[-1] <= 4


def _phone_tails(text, groups, kinds):
    """For each group, whether it goes on a phone number begun by "+", "(" or a 0."""
    tails, used, limit = [], 0, 0
    for k, (start, end) in enumerate(groups):
        before = text[start - 1:start]
        if before in ("+", "(") or text[start] == "0":
            tails.append(False)
            used, limit = end - start, 15 if before == "+" else 12
        elif limit and kinds[k - 1] in (_SPACE, _DASH) and used + end - start <= limit:
            tails.append(True)
            used += end - start
        else:
            tails.append(False)
            used = limit = 0
    return tails


def _block_references_in_fives(text, groups, kinds, blocked):
    """A whole number (groups joined by spaces and line breaks only) in fives from the right,
    whose check digit holds, is a payment reference."""
    first = 0
    for k in range(1, len(groups) + 1):
        if k < len(groups) and kinds[k - 1] is not None:
            continue
        lengths = [end - start for start, end in groups[first:k]]
        digits = "".join(text[start:end] for start, end in groups[first:k])
        if (all(kind in (_SPACE, _BREAK) for kind in kinds[first:k - 1]) and _in_fives(lengths)
                and _is_finnish_reference(digits)):
            blocked[first:k] = [True] * (k - first)
        first = k


def _merged(text, windows):
    windows.sort()
    merged = []
    for start, end in windows:
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in merged:
        last_four = "".join(_DIGITS.findall(text[start:end]))[-4:]
        yield Finding(CARD_NUMBER, start, end, f"[card number …{last_four} removed]")


def _is_phone_number(digits):
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(digits, "FI"))
    except phonenumbers.NumberParseException:
        return False


def _is_hetu(date_part, sign, individual, check):
    sign = re.sub(f"[{_DASHES}]", "-", sign.strip()).upper()
    if not any(hetu.is_valid(f"{date_part}{s}{individual}{check.upper()}", allow_temporary=True)
               for s in sign or _HETU_SIGNS_TRIED):
        return False
    return bool(sign) or not check.isdigit() or not _is_phone_number(date_part + individual + check)


def _find_identity_codes(text):
    for match in _HETU.finditer(text):
        if _is_hetu(*match.groups()):
            yield Finding(IDENTITY_CODE, match.start(), match.end(), "[identity code removed]")


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
    if not text or not _ANY_DIGIT.search(text):
        return Masked(text, frozenset())
    for finder in (_find_ibans, _find_card_numbers, _find_identity_codes):
        findings = list(finder(text))
        if findings:
            kinds.update(f.kind for f in findings)
            text = _apply(text, findings)
    return Masked(text, frozenset(kinds))


def sensitive_kinds(text):
    """The kinds of sensitive data in `text` (empty when there are none)."""
    return mask(text).kinds
