"""Sort keys for names in the Finnish and Swedish alphabet, the same on every database.

Finnish and Swedish sort Å, Ä and Ö as letters of their own after Z, and treat other accented
letters as their base letter (é as e, ü as y). Databases disagree on collations (SQLite knows
only byte order; PostgreSQL's depend on the server's locale), so the key is made here: case
folded, with Å, Ä, Ö written as the three ASCII characters after "z", which sort after it in
plain byte order everywhere. The intranet stores the key beside what it sorts.
"""

import unicodedata

MAX_LENGTH = 60
# "{", "|" and "}" follow "z" in ASCII: Å, Ä, Ö in that order, as in both alphabets.
_OWN_LETTERS = {"å": "{", "ä": "|", "æ": "|", "ö": "}", "ø": "}", "ü": "y", "ß": "ss"}
# No name at all sorts after every name: "~" follows "}".
NO_NAME = "~"


def _letter(char):
    if char in _OWN_LETTERS:
        return _OWN_LETTERS[char]
    # é -> e + combining accent: keep the base letter only.
    base = unicodedata.normalize("NFD", char)[0]
    return base if base.isalnum() or base == " " else ""


def sort_key(text):
    """The key `text` sorts by: "Åberg" after "Zetterberg", "Émile" with "Emil"."""
    folded = " ".join(unicodedata.normalize("NFC", text or "").casefold().split())
    key = "".join(_letter(char) for char in folded).strip()
    return key[:MAX_LENGTH] or NO_NAME
