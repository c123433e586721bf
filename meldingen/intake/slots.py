"""Which slots one message fills: a typed address inside a sentence places the report and the rest of the
sentence describes it ("Lantaarnpaal kapot bij Westerdoksdijk 40A" → "Lantaarnpaal kapot" at Westerdoksdijk
40A); a house number alone corrects the number of the place already known ("nee, bij nummer 12").

Reading the address is `meldingen.geo.addressparse`'s job and finding it `meldingen.geo.search`'s (through the
pipeline's `search_typed_address`); this module only decides which words of the message the address took.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from meldingen.geo.addressparse import parse_address, street_key
from meldingen.intake.understanding import normalise

# Words that lead into a place and belong to it, not to the description ("kapot *bij de* Kerkstraat 4").
_LEAD_IN = {
    "bij", "op", "aan", "in", "voor", "naast", "tegenover", "achter", "langs", "nabij", "hoek", "thv", "ter",
    "hoogte", "van", "de", "het", "adres", "t.h.v.", "near", "at", "on", "outside", "opposite", "by", "front",
    "of", "the", "corner", "address", "is", "located",
}  # fmt: skip
_TOKEN = re.compile(r"\S+")
_NUMBER_TOKEN = re.compile(r"^(\d{1,5})")
STREET_SIMILARITY = 80
# An address that is not found is taken for an address (and asked about) only when the message is no more.
ADDRESS_ONLY_WORDS = 5


@dataclass(frozen=True)
class AddressInText:
    found: dict | None  # the search result (lat, lon, address …) or None when the address is unknown
    address_text: str  # the words that are the address, as typed
    description: str  # the rest of the message, "" when the message was only the address


def looks_like_address(text: str) -> bool:
    parsed = parse_address(text)
    return bool(parsed.number and (parsed.street or parsed.postcode))


def address_in_text(text: str, search) -> AddressInText | None:
    """The address typed in `text` and the words around it; None when the text holds no address at all.

    `search(text)` is the typed-address search (`pipeline.Prepared.search_typed_address`): a dict or None.
    """
    parsed = parse_address(text)
    if not (parsed.number and (parsed.street or parsed.postcode)):
        return None
    found = search(text)
    address = (found or {}).get("address") or {}
    street = address.get("street") or parsed.street
    span = _address_span(text, parsed, street, address.get("city"))
    if span is None:
        return None
    cut, start, end = span
    description = _clean(text[:cut] + " " + text[end:])
    if found is None or (found.get("match") not in (None, "address")):
        # Unknown: an address with nothing else is asked about again; in a longer message the words win.
        if not description or len(text.split()) <= ADDRESS_ONLY_WORDS and _only_a_place(description):
            return AddressInText(found=None, address_text=text.strip(), description="")
        return None
    return AddressInText(found=found, address_text=text[start:end].strip(" ,.;:"), description=description)


def _address_span(text: str, parsed, street: str | None, city: str | None) -> tuple[int, int, int] | None:
    """(where the words of the place start, lead-in included; where the address starts; where it ends)."""
    tokens = [(m.start(), m.end(), m.group(0)) for m in _TOKEN.finditer(text)]
    number_at = None
    for index, (_, _, token) in enumerate(tokens):
        match = _NUMBER_TOKEN.match(token.strip("(,.;:"))
        if match and int(match.group(1)) == parsed.number:
            rest = token.strip("(,.;:")[len(match.group(1)):].lower()
            if rest in ("e", "ste", "de") and index + 1 < len(tokens) and tokens[index + 1][2][:1].isalpha() \
                    and index + 1 != len(tokens) - 1:
                continue  # "1e Breeuwersstraat": an ordinal, part of the street
            number_at = index
            break
    if number_at is None:
        return None
    end_index = number_at
    following = tokens[end_index + 1:end_index + 3]
    additions = {(parsed.letter or "").lower(), (parsed.suffix or "").lower()} - {""}
    if following and following[0][2].strip(",.;:-").lower() in additions:
        end_index += 1
    end_index = _extend_over_postcode_and_city(tokens, end_index, parsed, city)

    start_index = number_at
    if street:
        target = street_key(street)
        best, best_k = 0.0, 0
        for k in range(1, min(6, number_at) + 1):
            run = " ".join(t[2] for t in tokens[number_at - k:number_at])
            score = fuzz.ratio(street_key(run), target)
            if score > best:
                best, best_k = score, k
        if best >= STREET_SIMILARITY:
            start_index = number_at - best_k
    if parsed.postcode and start_index == number_at:
        for index in range(number_at - 1, max(-1, number_at - 3), -1):
            if re.fullmatch(r"[1-9]\d{3}[a-zA-Z]{0,2},?", tokens[index][2]):
                start_index = index
    if start_index == number_at and not parsed.postcode:
        return None  # the street is not in the words before the number: this is not an address
    cut_index = start_index
    while cut_index > 0 and tokens[cut_index - 1][2].strip(",.:;").lower() in _LEAD_IN:
        cut_index -= 1
    return tokens[cut_index][0], tokens[start_index][0], tokens[end_index][1]


def _extend_over_postcode_and_city(tokens, end_index: int, parsed, city: str | None) -> int:
    """The postcode and the town after the number belong to the address: the town found, or (when the address
    is unknown) a capitalised word or two after the number ("Kerkstraat 12, Emmen"), not "ligt glas"."""
    index = end_index
    wanted = set()
    if parsed.postcode:
        wanted |= {parsed.postcode.lower(), parsed.postcode[:4], parsed.postcode[4:].lower()}
    if city:
        wanted |= {w.lower() for w in city.split()}
    elif parsed.city and all(w[:1].isupper() for w in parsed.city.split()):
        wanted |= {w.lower() for w in parsed.city.split()}
    while index + 1 < len(tokens) and tokens[index + 1][2].strip(",.;:").lower() in wanted:
        index += 1
    return index


def _clean(text: str) -> str:
    text = " ".join(text.split())
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = text.strip(" ,;:-–")
    return text if any(c.isalpha() for c in text) else ""


def _only_a_place(description: str) -> bool:
    return all(word in _LEAD_IN for word in normalise(description).split())
