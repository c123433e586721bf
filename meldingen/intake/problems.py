"""Two problems in one message ("lantaarnpaal kapot en er ligt ook een stoeptegel los"): where the words split,
and whether the two halves are different problems. One report is made of the first; the resident is told
plainly that the other needs a report of its own (`reporting.make_report`), never left silently inside it.

Pure: the classifier's suggestion is handed in (`suggest(text) -> {"sub_slug", "confidence"} | None`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from meldingen.intake.understanding import normalise

# A word that adds another thing ("er ligt *ook* …", "*daarnaast* …", "there is *also* …").
ALSO = frozenset({"ook", "daarnaast", "bovendien", "verder", "tevens", "also", "another", "plus", "additionally"})
# Where a clause starts: after a conjunction or a punctuation mark.
_BOUNDARY_WORDS = frozenset({"en", "maar", "and", "but", "plus"})
_TOKEN = re.compile(r"\S+")
# Each half must be a problem the classifier recognises on its own, at least this surely.
SURE_ENOUGH = 0.35
MIN_WORDS = 2


@dataclass(frozen=True)
class TwoProblems:
    first: str
    second: str


def two_problems(text: str, suggest: Callable[[str], dict | None]) -> TwoProblems | None:
    """The two problems the words name, or None when they name one (or the split is not sure)."""
    halves = split_at_also(text)
    if halves is None:
        return None
    first, second = halves
    one, other = suggest(first), suggest(second)
    if not one or not other or one["sub_slug"] == other["sub_slug"]:
        return None
    if min(one["confidence"], other["confidence"]) < SURE_ENOUGH:
        return None
    return TwoProblems(first, second)


def split_at_also(text: str) -> tuple[str, str] | None:
    """The words before the clause that adds something ("ook", "also"), and that clause."""
    tokens = [(m.start(), m.group(0)) for m in _TOKEN.finditer(text)]
    words = [normalise(token) for _, token in tokens]
    for index, word in enumerate(words):
        if word not in ALSO or index == 0:
            continue
        start = _clause_start(tokens, words, index)
        if start is None:
            continue
        cut = start + 1 if words[start] in _BOUNDARY_WORDS else start
        first = text[:tokens[start][0]].strip(" ,.;:-–")
        second = text[tokens[cut][0]:].strip(" ,.;:-–") if cut < len(tokens) else ""
        if len(normalise(first).split()) >= MIN_WORDS and len(normalise(second).split()) >= MIN_WORDS:
            return first, second
    return None


def _clause_start(tokens: list[tuple[int, str]], words: list[str], also: int) -> int | None:
    """The token that starts the clause holding the word at `also`: a conjunction, or the token after a
    punctuation mark; None when the clause is the whole message."""
    for index in range(also, 0, -1):
        if words[index] in _BOUNDARY_WORDS:
            return index
        if tokens[index - 1][1][-1:] in ",.;:!?":
            return index
    return None
