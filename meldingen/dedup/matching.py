"""How alike two reports are: the evidence (distance, asset, typed number, text, time) turned into a score.

Pure functions over plain values, so the rules can be read, tested and benchmarked without a database. The
score is a probability-like number in 0..1 built from additive log-odds terms; every term is kept in the
`reasons`, so staff see why a report was suggested or merged.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

# Object words a resident puts before the number painted on the object: "paal 23", "lichtmast 12-045",
# "container 1234", "boom nr. 8812". A bare "nummer 12" is left alone: that is usually a house number.
_KINDS = {
    "light": ("lantaarnpaal", "lantarenpaal", "lichtmast", "lichtpaal", "lantaarn", "lamppost", "lichtpunt",
              "mastnummer", "paalnummer", "paal", "mast", "lamp"),
    "container": ("containernummer", "afvalcontainer", "ondergrondse container", "container", "kliko"),
    "tree": ("boomnummer", "boom"),
    "bin": ("prullenbak", "afvalbak"),
}
_KEYWORD_KIND = {word: kind for kind, words in _KINDS.items() for word in words}
# The kind of number that names a registered object of a type (asset types as in the asset register).
ASSET_KIND = {"street_light": "light", "clock": "light", "container": "container", "tree": "tree",
              "litter_bin": "bin"}
_NUMBER_RE = re.compile(
    r"\b(" + "|".join(sorted((re.escape(w) for w in _KEYWORD_KIND), key=len, reverse=True)) + r")"
    r"\s*(?:nr\.?|nummer|no\.?|#)?\s*[:.]?\s*([a-z]{0,3}\d[\d./-]*[a-z]?)\b",
    re.IGNORECASE,
)

_STOPWORDS = frozenset(
    "de het een en van in op is er bij al aan te dat die dit niet met voor ook nog wel weer maar om naar "
    "ik je we ze hij zij u mijn ons onze uw hier daar deze wat waar hoe heel erg zeer graag gaat doet "
    "kan kunt moet wordt worden was zijn had heeft hebben sinds al alweer vandaag gisteren straat".split()
)


def normalise_number(value: str) -> str:
    """'12-045', '12.045' and '12045' are the same number; so are '0023' and '23'."""
    compact = re.sub(r"[^0-9a-z]", "", value.lower())
    return compact.lstrip("0") or "0"


def typed_numbers(text: str | None) -> set[tuple[str, str]]:
    """The (kind, number) pairs a resident typed: {("light", "12045")} for "lichtmast 12-045 is kapot"."""
    found = set()
    for keyword, number in _NUMBER_RE.findall(text or ""):
        found.add((_KEYWORD_KIND[keyword.lower()], normalise_number(number)))
    return found


def number_matches_asset(number: str, asset_id: str | None) -> bool:
    """A typed number names a registered object when it is its id, or the id's trailing number."""
    if not asset_id:
        return False
    full = normalise_number(asset_id)
    if number == full:
        return True
    digits = re.findall(r"\d+", asset_id)
    tail = "".join(digits[-2:]).lstrip("0") if len(digits) >= 2 else ""
    last = digits[-1].lstrip("0") if digits else ""
    return len(number) >= 2 and number in (tail, last)


def _grams(text: str | None) -> dict[str, int]:
    words = [w for w in re.findall(r"[a-zà-ÿ]+", (text or "").lower()) if len(w) > 2 and w not in _STOPWORDS]
    grams: dict[str, int] = {}
    for word in words:
        padded = f" {word} "
        for i in range(len(padded) - 3):
            gram = padded[i:i + 4]
            grams[gram] = grams.get(gram, 0) + 1
    return grams


def text_similarity(a: str | None, b: str | None) -> float:
    """Cosine of character 4-grams of the meaningful words: robust to Dutch compounds and typing errors."""
    ga, gb = _grams(a), _grams(b)
    if not ga or not gb:
        return 0.0
    dot = sum(count * gb.get(gram, 0) for gram, count in ga.items())
    norm = math.sqrt(sum(c * c for c in ga.values())) * math.sqrt(sum(c * c for c in gb.values()))
    return dot / norm if norm else 0.0


@dataclass(frozen=True)
class Weights:
    """The log-odds terms. Tuned on bench/bench_dedup.py's simulation; see docs/perf/dedup.md."""

    prior: float = 2.0
    distance: float = 6.0  # at distance 0 +distance/2, at the category's distance -distance/2, falling beyond
    same_asset: float = 4.0
    other_asset: float = -6.0
    same_number: float = 5.0
    other_number: float = -5.0
    number_is_asset: float = 4.0
    number_not_asset: float = -3.0
    text: float = 1.0  # times (similarity - text_neutral)
    text_neutral: float = 0.25
    time: float = -1.5  # times (age difference / window)
    related_category: float = -1.0
    # Where the place is weak (both points snapped to one address or object: distance under `snapped_m`, or
    # the same registered object), a related category must also agree in words: below `words_agree` the
    # pair gets `words_differ_weak_place`, which keeps it a suggestion for staff instead of a merge.
    snapped_m: float = 1.0
    words_agree: float = 0.2
    words_differ_weak_place: float = -4.0
    merge_score: float = 0.8  # at or above: merged automatically
    suggest_score: float = 0.2  # at or above: shown to staff as a candidate


DEFAULT_WEIGHTS = Weights()


@dataclass
class Evidence:
    """What is known about one pair: the new report and a known one."""

    distance_m: float
    limit_m: float  # the category's duplicate distance
    window_days: float
    age_difference_days: float
    same_category: bool
    use_assets: bool
    new_asset: tuple[str, str] | None = None  # (type, external id)
    known_asset: tuple[str, str] | None = None
    new_text: str = ""
    known_text: str = ""
    new_numbers: set = field(default_factory=set)
    known_numbers: set = field(default_factory=set)


def score_pair(ev: Evidence, weights: Weights = DEFAULT_WEIGHTS) -> tuple[float, dict]:
    """(score 0..1, reasons) for one pair. Reasons hold the facts and each term's contribution."""
    terms: dict[str, float] = {"prior": weights.prior}
    reasons: dict = {"distance_m": round(ev.distance_m, 1), "limit_m": ev.limit_m,
                     "same_category": ev.same_category}
    ratio = ev.distance_m / ev.limit_m if ev.limit_m > 0 else 1.0
    terms["distance"] = weights.distance * (0.5 - ratio)

    if ev.use_assets and ev.new_asset and ev.known_asset and ev.new_asset[0] == ev.known_asset[0]:
        same = ev.new_asset[1] == ev.known_asset[1]
        reasons["asset"] = {"type": ev.new_asset[0], "new": ev.new_asset[1], "known": ev.known_asset[1],
                            "same": same}
        terms["asset"] = weights.same_asset if same else weights.other_asset

    number_term = _number_term(ev, weights, reasons)
    if number_term:
        terms["number"] = number_term

    similarity = text_similarity(ev.new_text, ev.known_text)
    reasons["text_similarity"] = round(similarity, 2)
    terms["text"] = weights.text * (similarity - weights.text_neutral)

    reasons["days_apart"] = round(ev.age_difference_days, 1)
    if ev.window_days > 0:
        terms["time"] = weights.time * min(1.0, ev.age_difference_days / ev.window_days)
    if not ev.same_category:
        terms["category"] = weights.related_category
        if place_is_weak(ev, weights) and similarity < weights.words_agree and number_term <= 0:
            reasons["weak_place_different_words"] = True
            terms["words"] = weights.words_differ_weak_place

    logit = sum(terms.values())
    score = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, logit))))
    reasons["terms"] = {name: round(value, 2) for name, value in terms.items()}
    return score, reasons


def place_is_weak(ev: Evidence, weights: Weights = DEFAULT_WEIGHTS) -> bool:
    """Both reports sit on one snapped point (a typed address, an address or object the point was moved to):
    then "0 m apart" says "same address", not "same spot", and the distance proves little."""
    same_asset = bool(ev.use_assets and ev.new_asset and ev.known_asset and ev.new_asset == ev.known_asset)
    return ev.distance_m <= weights.snapped_m or same_asset


def _number_term(ev: Evidence, weights: Weights, reasons: dict) -> float:
    """Typed numbers against each other, and against the other report's registered object."""
    new_kinds = {kind for kind, _ in ev.new_numbers}
    known_kinds = {kind for kind, _ in ev.known_numbers}
    shared = new_kinds & known_kinds
    if shared:
        same = bool(ev.new_numbers & ev.known_numbers)
        reasons["typed_number"] = {"new": sorted(n for _, n in ev.new_numbers),
                                   "known": sorted(n for _, n in ev.known_numbers), "same": same}
        return weights.same_number if same else weights.other_number
    # One side typed a number, the other side has a registered object: does the number name it?
    for numbers, asset in ((ev.new_numbers, ev.known_asset), (ev.known_numbers, ev.new_asset)):
        kind = ASSET_KIND.get(asset[0]) if asset else None
        relevant = [n for k, n in numbers if k == kind]
        if relevant:
            match = any(number_matches_asset(n, asset[1]) for n in relevant)
            reasons["typed_number_vs_asset"] = {"numbers": sorted(relevant), "asset": asset[1],
                                                "same": match}
            return weights.number_is_asset if match else weights.number_not_asset
    return 0.0
