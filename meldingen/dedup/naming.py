"""What a resident names in a report: the number on the object's sticker ("mast 12-045", "paal nr 3187",
"lichtmast 231") and a container's fraction ("glasbak", "papiercontainer"). Pure functions over text.

A typed number is the strongest evidence of which object a report is about: stronger than a GPS point that is
often 10–30 m off. A fraction tells apart containers that stand side by side.
"""

from __future__ import annotations

import functools
import re

from meldingen.geo.fractions import fractions_in_text

# Object words a resident puts before the number on the object: "paal 23", "lichtmast 12-045", "container
# 1234", "boom nr. 8812". A bare "nummer 12" is left alone: that is usually a house number.
_KINDS = {
    "light": ("lantaarnpaal", "lantarenpaal", "lichtmast", "lichtpaal", "lantaarn", "lamppost", "lichtpunt",
              "mastnummer", "paalnummer", "lantaarnpaalnummer", "lichtmastnummer", "paal", "mast", "lamp",
              "lamp post", "light post", "light pole", "lamp pole", "street light", "streetlight", "pole"),
    "container": ("containernummer", "afvalcontainer", "ondergrondse container", "container", "kliko",
                  "glasbak", "glascontainer", "papierbak", "papiercontainer", "plasticcontainer", "pmd-container",
                  "restafvalcontainer", "kledingcontainer", "textielcontainer", "gft-container"),
    "tree": ("boomnummer", "boom", "tree"),
    "bin": ("prullenbak", "afvalbak", "litter bin"),
}
_KEYWORD_KIND = {word: kind for kind, words in _KINDS.items() for word in words}
# The kind of number that names a registered object of a type (asset types as in the asset register).
ASSET_KIND = {"street_light": "light", "clock": "light", "traffic_light": "light", "container": "container",
              "tree": "tree", "litter_bin": "bin"}
# A number followed by one of these counts something ("lamp 3 dagen uit", "paal 2 meter verderop").
_UNITS = (r"dag|dagen|days?|weken|weeks?|week|uur|hours?|minuten|min|meter|m|km|keer|times|x|jaar|years?|"
          r"maanden|months?|avonden|nachten|nights?|stuks")
_NUMBER_RE = re.compile(
    r"\b(" + "|".join(sorted((re.escape(w).replace(r"\ ", r"\s*") for w in _KEYWORD_KIND), key=len, reverse=True))
    + r")\s*(?:nr\.?|nummer|number|no\.?|#)?\s*[:.]?\s*([a-z]{0,3}\d[\d./-]*[a-z]?)\b"
    + rf"(?!\s*(?:{_UNITS})\b)",
    re.IGNORECASE,
)


def normalise_number(value: str) -> str:
    """'12-045', '12.045' and '12045' are the same number; so are '0231' and '231'."""
    compact = re.sub(r"[^0-9a-z]", "", value.lower())
    return compact.lstrip("0") or "0"


@functools.lru_cache(maxsize=8192)
def typed_numbers(text: str | None) -> frozenset[tuple[str, str]]:
    """The (kind, number) pairs a resident typed: {("light", "12045")} for "lichtmast 12-045 is kapot"."""
    found = set()
    for keyword, number in _NUMBER_RE.findall(text or ""):
        kind = _KEYWORD_KIND.get(re.sub(r"\s+", " ", keyword.lower()))
        if kind is not None:
            found.add((kind, normalise_number(number)))
    return frozenset(found)


def same_number(a: str, b: str) -> bool:
    """Two typed numbers name one object: equal once normalised, or one is the other's tail of at least three
    characters ("12045" and "045" on a sticker that reads "12-045")."""
    if a == b:
        return True
    short, long_ = sorted((a, b), key=len)
    return len(short) >= 3 and long_.endswith(short)


def number_matches_asset(number: str, asset_id: str | None) -> bool:
    """A typed number names a registered object when it is its id, or the id's trailing number(s)."""
    if not asset_id:
        return False
    full = normalise_number(asset_id)
    if number == full:
        return True
    digits = re.findall(r"\d+", asset_id)
    tail = "".join(digits[-2:]).lstrip("0") if len(digits) >= 2 else ""
    last = digits[-1].lstrip("0") if digits else ""
    return len(number) >= 2 and number in (tail, last)


def numbers_of_kind(numbers: frozenset[tuple[str, str]], asset_type: str | None) -> list[str]:
    """The typed numbers that could name an object of this asset type."""
    kind = ASSET_KIND.get(asset_type or "")
    return sorted(n for k, n in numbers if k == kind) if kind else []


def is_named_asset(text: str | None, asset: tuple | None) -> bool:
    """The report's words name its registered object by number (so the object was chosen by that number)."""
    if not asset:
        return False
    return any(number_matches_asset(n, asset[1]) for n in numbers_of_kind(typed_numbers(text), asset[0]))


def report_fractions(text: str | None, category_name: str | None = None) -> frozenset[str]:
    """The container fractions a report is about: from the resident's words, else from its category's name
    ("Container voor plastic afval is vol" → plastic)."""
    return fractions_in_text(text) or fractions_in_text(category_name)
