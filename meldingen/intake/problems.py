"""Two problems in one message ("lantaarnpaal kapot en er ligt ook een stoeptegel los"): where the words split,
and whether the two halves are different problems. One report is made of the first; the resident is told
plainly that the other needs a report of its own (`reporting.make_report`), never left silently inside it.

Pure: the classifier's suggestions are handed in (`suggest(text) -> [{"main_slug", "sub_slug", "confidence"}]`,
best first, a few).
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
# Each half must be a problem the classifier recognises on its own: its main category at least this surely
# (the sum over the suggestions of that main category), and neither half's best among the other's suggestions.
SURE_ENOUGH = 0.5
MIN_WORDS = 2
# Words that name no thing: a half needs MIN_WORDS others ("ook op de stoep" is a place, not a problem).
_EMPTY_WORDS = frozenset({
    "de", "het", "een", "er", "ook", "op", "in", "bij", "aan", "naast", "voor", "van", "is", "zijn", "ligt", "liggen",
    "staat", "staan", "zit", "al", "nog", "t", "daarnaast", "bovendien", "verder", "tevens", "en", "zo", "dan",
    "the", "a", "an", "there", "are", "also", "on", "at", "by", "next", "to", "it", "of", "too", "and",
    "another", "plus", "one", "as", "well",
})


@dataclass(frozen=True)
class TwoProblems:
    first: str
    second: str


def two_problems(text: str, suggest: Callable[[str], list[dict]]) -> TwoProblems | None:
    """The two problems the words name, or None when they name one (or the split is not sure)."""
    halves = split_at_also(text)
    if halves is None:
        return None
    first, second = halves
    if any(len([w for w in normalise(half).split() if w not in _EMPTY_WORDS]) < MIN_WORDS for half in halves):
        return None
    one, other = suggest(first), suggest(second)
    if not one or not other:
        return None
    if one[0]["sub_slug"] in {s["sub_slug"] for s in other} or other[0]["sub_slug"] in {s["sub_slug"] for s in one}:
        return None  # "bin is full and the one next to it is also full": the same kind of problem
    if min(_main_confidence(one), _main_confidence(other)) < SURE_ENOUGH:
        return None
    return TwoProblems(first, second)


def _main_confidence(suggestions: list[dict]) -> float:
    main = suggestions[0]["main_slug"]
    return sum(s["confidence"] for s in suggestions if s["main_slug"] == main)


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
