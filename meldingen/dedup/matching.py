"""How alike two reports are: the evidence (distance, asset, typed number, text, time) turned into a score.

Pure functions over plain values, so the rules can be read, tested and benchmarked without a database. The
score is a probability-like number in 0..1 built from additive log-odds terms; every term is kept in the
`reasons`, so staff see why a report was suggested or merged.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

from meldingen.dedup.naming import (  # noqa: F401 (typed_numbers and normalise_number: this module's API)
    ASSET_KIND,
    normalise_number,
    number_matches_asset,
    same_number,
    typed_numbers,
)

_STOPWORDS = frozenset(
    "de het een en van in op is er bij al aan te dat die dit niet met voor ook nog wel weer maar om naar "
    "ik je we ze hij zij u mijn ons onze uw hier daar deze wat waar hoe heel erg zeer graag gaat doet "
    "kan kunt moet wordt worden was zijn had heeft hebben sinds al alweer vandaag gisteren straat".split()
)


@functools.lru_cache(maxsize=8192)
def _grams(text: str | None) -> dict[str, int]:
    """The 4-grams of a text's meaningful words (cached: the same known reports are read for every new one
    nearby; callers only read the answer)."""
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

    prior: float = 2.5
    distance: float = 6.0  # at distance 0 +distance/2, at the category's distance -distance/2, falling beyond
    # Phones place a resident 10–30 m from where they stand: the category's distance is widened by this much
    # before the distance counts against a pair (what tells two nearby objects apart is the typed number, the
    # fraction, the registered object and the words, not a GPS point).
    gps_slack_m: float = 25.0
    same_asset: float = 4.0
    # Two different registered objects, at least one only the nearest to its report's GPS point: worth this
    # when both reports are clearly nearer their own object than the other's (by `asset_separation_m2` in
    # squared metres: a point 2 m from its post and 18 m from the next), proportionally less when either could
    # as well be the other's (a point 15 m from one post and 12 m from the next says little; nor do two
    # containers' "nearest" 2 m apart).
    other_asset: float = -5.0
    asset_separation_m2: float = 250.0
    # Named (typed numbers, or objects chosen by typed numbers) and different: never merged, never suggested.
    other_named: float = -20.0
    same_number: float = 5.0
    number_is_asset: float = 4.0
    number_not_asset: float = -3.0
    same_fraction: float = 1.0
    other_fraction: float = -20.0  # the glass and the paper container at one spot: two problems
    text: float = 1.0  # times (similarity - text_neutral)
    text_neutral: float = 0.15
    time: float = -1.5  # times (days since the known problem was last reported / window)
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
    """What is known about one pair: the new report and a known one (with the reports merged into it)."""

    distance_m: float
    limit_m: float  # the category's duplicate distance
    window_days: float
    age_difference_days: float  # since the known problem was last reported
    same_category: bool
    use_assets: bool
    new_asset: tuple | None = None  # (type, external id)
    known_asset: tuple | None = None
    new_text: str = ""
    known_text: str = ""
    new_numbers: frozenset | set = frozenset()
    known_numbers: frozenset | set = frozenset()
    new_asset_named: bool = False  # the object was chosen by the number the resident typed
    known_asset_named: bool = False
    new_fractions: frozenset = frozenset()  # container fractions named ("glass", …); empty: not said
    known_fractions: frozenset = frozenset()
    known_texts: tuple = ()  # the words of the reports merged into the known one
    # How much nearer each report is to its own object than to the other's (squared metres; the smaller of the
    # two; None when the objects' places are not known).
    asset_separation_m2: float | None = None


def score_pair(ev: Evidence, weights: Weights = DEFAULT_WEIGHTS) -> tuple[float, dict]:
    """(score 0..1, reasons) for one pair. Reasons hold the facts and each term's contribution."""
    terms: dict[str, float] = {"prior": weights.prior}
    reasons: dict = {"distance_m": round(ev.distance_m, 1), "limit_m": ev.limit_m,
                     "same_category": ev.same_category}
    ratio = ev.distance_m / (ev.limit_m + weights.gps_slack_m) if ev.limit_m > 0 else 1.0
    terms["distance"] = weights.distance * (0.5 - ratio)

    if ev.new_fractions and ev.known_fractions:
        same_fraction = bool(ev.new_fractions & ev.known_fractions)
        reasons["fraction"] = {"new": sorted(ev.new_fractions), "known": sorted(ev.known_fractions),
                               "same": same_fraction}
        terms["fraction"] = weights.same_fraction if same_fraction else weights.other_fraction

    number_term = _number_term(ev, weights, reasons, ratio)
    if number_term:
        terms["number"] = number_term
    if "typed_number" not in reasons:  # two typed numbers settle which object; else the registered objects
        asset_term = _asset_term(ev, weights, reasons, ratio)
        if asset_term:
            terms["asset"] = asset_term

    similarity = max([text_similarity(ev.new_text, ev.known_text)]
                     + [text_similarity(ev.new_text, other) for other in ev.known_texts])
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


def _asset_term(ev: Evidence, weights: Weights, reasons: dict, ratio: float) -> float:
    """The registered objects of both reports (of one type) against each other."""
    if not (ev.use_assets and ev.new_asset and ev.known_asset and ev.new_asset[0] == ev.known_asset[0]):
        return 0.0
    same = ev.new_asset[1] == ev.known_asset[1]
    reasons["asset"] = {"type": ev.new_asset[0], "new": ev.new_asset[1], "known": ev.known_asset[1],
                        "same": same, "named": [ev.new_asset_named, ev.known_asset_named]}
    if same:
        return weights.same_asset
    if ev.new_asset_named and ev.known_asset_named:
        return weights.other_named  # two residents named two different posts
    # At least one side is only the object nearest a GPS point: it says as much as that point prefers it.
    reasons["asset"]["separation_m2"] = (None if ev.asset_separation_m2 is None
                                         else round(ev.asset_separation_m2))
    if ev.asset_separation_m2 is not None:
        return weights.other_asset * min(1.0, max(0.0, ev.asset_separation_m2) / weights.asset_separation_m2)
    return weights.other_asset * min(1.0, ratio) ** 2


def _number_term(ev: Evidence, weights: Weights, reasons: dict, ratio: float) -> float:
    """Typed numbers against each other, and against the other report's registered object."""
    new_kinds = {kind for kind, _ in ev.new_numbers}
    known_kinds = {kind for kind, _ in ev.known_numbers}
    shared = new_kinds & known_kinds
    if shared:
        new = [n for k, n in ev.new_numbers if k in shared]
        known = [n for k, n in ev.known_numbers if k in shared]
        same = any(same_number(a, b) for a in new for b in known)
        if not same and ev.new_asset_named and ev.known_asset_named and ev.new_asset == ev.known_asset:
            same = True  # "231" and "12-231" on one registered post
        reasons["typed_number"] = {"new": sorted(new), "known": sorted(known), "same": same}
        return weights.same_number if same else weights.other_named
    # One side typed a number, the other side has a registered object: does the number name it?
    for numbers, asset, named in ((ev.new_numbers, ev.known_asset, ev.new_asset_named),
                                  (ev.known_numbers, ev.new_asset, ev.known_asset_named)):
        kind = ASSET_KIND.get(asset[0]) if asset else None
        relevant = [n for k, n in numbers if k == kind]
        if relevant and asset and not named:
            match = any(number_matches_asset(n, asset[1]) for n in relevant)
            reasons["typed_number_vs_asset"] = {"numbers": sorted(relevant), "asset": asset[1],
                                                "same": match}
            # The other side's object is only the one nearest its GPS point: a mismatch counts with distance.
            return weights.number_is_asset if match else weights.number_not_asset * min(1.0, ratio) ** 2
    return 0.0
