"""A container's fraction (glass, paper, residual, plastic, textile, organic): read from a register's column
and from a resident's words ("glasbak vol", "papiercontainer", "restafval", "pmd", "kledingcontainer", "gft").

Containers for different fractions stand side by side at one spot; a report about the glass container and one
about the paper container there are two problems. Both the asset import and the duplicates check read fractions
here, so a register's "Papier en karton" and a resident's "papierbak" mean the same thing.
"""

from __future__ import annotations

import re

FRACTIONS = ("glass", "paper", "residual", "plastic", "textile", "organic")

# Word beginnings, Dutch and English, that name a fraction. Compounds work because only the start must match
# ("glasbak", "papiercontainer", "restafvalcontainer", "kledingbak").
_WORDS = {
    "glass": r"glas\w*|flessen\w*|bottle\s*bank\w*",
    "paper": r"papier\w*|karton\w*|paper\w*|cardboard\w*",
    "residual": r"rest\s?afval\w*|restcontainer\w*|restbak\w*|huisvuil\w*|vuilniszak\w*|huisafval\w*|"
                r"residual\w*|general\s+waste|household\s+waste|rest",
    "plastic": r"plastic\w*|pmd\w*|pbd\w*|blikjes?|drankkarton\w*",
    "textile": r"textiel\w*|kleding\w*|kleren\w*|kleercontainer\w*|clothes\w*|clothing\w*|textile\w*",
    "organic": r"gft\w*|groente\w*|tuinafval\w*|etensrest\w*|organic\w*|food\s+waste|compost\w*|bio\s?afval\w*",
}
_PATTERNS = {fraction: re.compile(rf"\b(?:{words})\b", re.IGNORECASE) for fraction, words in _WORDS.items()}
# "rest" alone names the fraction only as a register value ("Rest"), not in a resident's sentence.
_REGISTER_ONLY = re.compile(r"\brest\b", re.IGNORECASE)


def fractions_in_text(text: str | None) -> frozenset[str]:
    """The fractions a resident's words name: {"glass"} for "De glasbak zit vol"; empty when none."""
    if not text:
        return frozenset()
    found = set()
    for fraction, pattern in _PATTERNS.items():
        for match in pattern.finditer(text):
            if fraction == "residual" and _REGISTER_ONLY.fullmatch(match.group(0)):
                continue
            found.add(fraction)
            break
    return frozenset(found)


def normalise_fraction(value: str | None) -> str | None:
    """A register's fraction value as one of FRACTIONS ("Glas" → "glass", "PMD" → "plastic", "Rest" →
    "residual"); None when empty. Raises ValueError for a value that names no fraction, or more than one."""
    value = (value or "").strip()
    if not value:
        return None
    if value.lower() in FRACTIONS:
        return value.lower()
    found = {f for f, pattern in _PATTERNS.items() if pattern.search(value)}
    if len(found) != 1:
        raise ValueError(f"unknown fraction '{value}' (use one of {', '.join(FRACTIONS)}; Dutch names accepted)")
    return found.pop()
