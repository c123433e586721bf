"""Which language a resident writes in (Dutch or English), and the words that answer a yes/no question.

What a message means is decided in `meldingen.intake.understanding`."""

from __future__ import annotations

import re

from meldingen.reports.references import REFERENCE_PATTERN

_WORD = re.compile(r"[a-zà-ÿ']+")
_ENGLISH = {
    "the", "is", "are", "there", "broken", "street", "light", "hello", "hi", "please", "thanks", "thank", "you",
    "my", "an", "of", "and", "on", "near", "report", "new", "loose", "tile", "pavement", "full", "bin", "tree",
    "fallen", "hole", "road", "lamp", "not", "working", "rubbish", "litter", "dumped", "outside", "in", "front",
    "yes", "no", "what", "where", "how", "this", "it", "has", "been", "for", "days", "weeks", "with",
    "fixed", "update", "cheers", "yet", "any", "news", "cancel", "still", "again",
    "meant", "number", "your", "done", "when", "will", "be",
}  # fmt: skip
_DUTCH = {
    "de", "het", "een", "er", "kapot", "bij", "ligt", "liggen", "staat", "hallo", "hoi", "graag", "van", "en", "op",
    "melding", "nieuwe", "losse", "stoeptegel", "tegel", "lantaarnpaal", "straat", "vol", "container", "boom",
    "gat", "weg", "afval", "vuilnis", "niet", "doet", "al", "dagen", "weken", "voor", "deur", "ja", "nee", "wat",
    "waar", "hoe", "dit", "is", "zijn", "met", "te", "dat", "die", "ik", "mijn", "stoep", "bedankt", "dank",
    "opgelost", "nummer", "nog", "steeds", "wanneer", "gemaakt", "hoor", "bedoel", "goedemorgen", "dankjewel",
}  # fmt: skip

YES = {"ja", "yes", "klopt", "jazeker", "ja hoor", "yep", "j", "y", "ok", "oké", "oke", "ja klopt", "ja die",
       "ja dat klopt", "yes please", "correct", "dat klopt", "inderdaad", "precies"}
NO = {"nee", "no", "nope", "klopt niet", "n", "nee hoor", "nee iets anders", "iets anders", "nieuw",
      "nee nieuw", "something else", "no new"}


def _without_references(text: str) -> str:
    """The text without the report references in it: "M-AN9EMK" holds the English word "an" to a word counter.
    Only what is surely a reference goes (a hyphen or a digit in it), never a word such as "maanden"."""
    def drop(match: re.Match[str]) -> str:
        written = match.group(0)
        return " " if "-" in written or any(c.isdigit() for c in written) else written

    return REFERENCE_PATTERN.sub(drop, text)


def detect_language(text: str | None, current: str = "nl") -> str:
    """"en" when the words are clearly more English than Dutch, "nl" when clearly Dutch, else `current`."""
    words = _WORD.findall(_without_references(text or "").lower())
    english = sum(1 for w in words if w in _ENGLISH and w not in _DUTCH)
    dutch = sum(1 for w in words if w in _DUTCH and w not in _ENGLISH)
    if english > dutch:
        return "en"
    if dutch > english:
        return "nl"
    return current
