"""What a resident's words mean to the intake: Dutch or English, and the few commands it understands."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-zà-ÿ']+")
_ENGLISH = {
    "the", "is", "are", "there", "broken", "street", "light", "hello", "hi", "please", "thanks", "thank", "you",
    "my", "an", "of", "and", "on", "near", "report", "new", "loose", "tile", "pavement", "full", "bin", "tree",
    "fallen", "hole", "road", "lamp", "not", "working", "rubbish", "litter", "dumped", "outside", "in", "front",
    "yes", "no", "what", "where", "how", "this", "it", "has", "been", "for", "days", "weeks", "with",
}  # fmt: skip
_DUTCH = {
    "de", "het", "een", "er", "kapot", "bij", "ligt", "liggen", "staat", "hallo", "hoi", "graag", "van", "en", "op",
    "melding", "nieuwe", "losse", "stoeptegel", "tegel", "lantaarnpaal", "straat", "vol", "container", "boom",
    "gat", "weg", "afval", "vuilnis", "niet", "doet", "al", "dagen", "weken", "voor", "deur", "ja", "nee", "wat",
    "waar", "hoe", "dit", "is", "zijn", "met", "te", "dat", "die", "ik", "mijn", "stoep",
}  # fmt: skip

GREETINGS = {"/start", "hallo", "hoi", "hi", "hello", "hey", "goedemorgen", "goedemiddag", "goedenavond", "help",
             "/help", "start", "hallo!", "hoi!", "hello!"}
CANCEL = {"stop", "annuleer", "annuleren", "cancel", "/stop", "/cancel", "stoppen"}
START_OVER = {"nieuwe melding", "nieuw", "opnieuw", "new report", "new", "/new", "/nieuw", "start over"}
YES = {"ja", "yes", "klopt", "jazeker", "ja hoor", "yep", "j", "y", "ok", "oké", "oke"}
NO = {"nee", "no", "nope", "klopt niet", "n", "nee hoor"}
# Asking for a person: the intake flags the conversation for the shared inbox.
PERSON = re.compile(r"\b(medewerker|mens|iemand spreken|klacht|bellen|human|person|agent|complaint)\b", re.I)
STATUS_WORD = re.compile(r"\bstatus\b|\bhoe staat\b|\bhow is\b", re.I)


def normalise(text: str | None) -> str:
    return " ".join((text or "").strip().lower().split()).rstrip(".!?")


def detect_language(text: str | None, current: str = "nl") -> str:
    """"en" when the words are clearly more English than Dutch, "nl" when clearly Dutch, else `current`."""
    words = _WORD.findall((text or "").lower())
    english = sum(1 for w in words if w in _ENGLISH and w not in _DUTCH)
    dutch = sum(1 for w in words if w in _DUTCH and w not in _ENGLISH)
    if english > dutch:
        return "en"
    if dutch > english:
        return "nl"
    return current
