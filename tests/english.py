"""English a Finnish or Swedish reader must not read: the catalogue's English phrases that the
language's own translation does not use."""

import re
from pathlib import Path

from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parents[1] / "feedback_intranet" / "translations"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")
# Names and words that read the same in every language.
ALLOWED = {"Sari Admin", "FINE", "PDF", "CSV", "OK", "Email", "English"}


def _parts(message):
    """The literal runs of a msgid worth looking for: several words, or one long one."""
    for part in PLACEHOLDER.split(message):
        part = part.strip(" \n.,:;()“”\"'–-→·/")
        words = re.findall(r"[A-Za-z]+", part)
        if len(words) >= 2 or (words and len(words[0]) >= 5 and words[0] == part):
            yield part


def english_phrases():
    """{language: phrases} of the English catalogue that the language's translation changes."""
    phrases = {}
    for language in ("fi", "sv"):
        with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as handle:
            catalog = read_po(handle, locale=language)
        found = set()
        for message in catalog:
            if not message.id:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            translated = " ".join(strings)
            for msgid in ids:
                found.update(part for part in _parts(msgid)
                             if part not in translated and part not in ALLOWED)
        phrases[language] = found
    return phrases


def english_in(text, phrases):
    return sorted(phrase for phrase in phrases
                  if re.search(r"(?<![\w])" + re.escape(phrase) + r"(?![\w])", text))
