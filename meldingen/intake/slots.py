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
from meldingen.geo.typed import TypedAddress
from meldingen.intake.understanding import house_number_only, known_word, normalise

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
    typed: TypedAddress | None = None  # what the lookup knows of it: the street known, the number typed, …


def looks_like_address(text: str) -> bool:
    parsed = parse_address(text)
    return bool(parsed.number and (parsed.street or parsed.postcode))


def address_in_text(text: str, search) -> AddressInText | None:
    """The address typed in `text` and the words around it; None when the text holds no address at all.

    `search(text)` is the typed-address lookup (`pipeline.Prepared.match_address`, a `TypedAddress`; or
    `search_typed_address`, the found address as a dict or None). An address that is not found is still taken
    out of the words when it is one: a known street with a number it does not have ("Westerdoksdijk 999"), or a
    word that names a street ("bij de Kerkstraat 12"); then the resident is told that address was not found.
    """
    parsed = parse_address(text)
    if not (parsed.number and (parsed.street or parsed.postcode)):
        return None
    answer = search(text)
    typed = answer if isinstance(answer, TypedAddress) else TypedAddress(text, found=answer)
    found = typed.found
    address = (found or {}).get("address") or {}
    street = address.get("street") or typed.street or _street_guess(text, parsed) or (
        None if parsed.postcode else parsed.street)
    span = _address_span(text, parsed, street, address.get("city"))
    if span is None:
        return None
    cut, start, end = span
    description = _clean(text[:cut] + " " + text[end:])
    if found is None or (found.get("match") not in (None, "address")):
        # Unknown: an address with nothing else is asked about again; in a longer message the words win,
        # unless the words before the number are a street (known, or named like one).
        if not description or len(text.split()) <= ADDRESS_ONLY_WORDS and _only_a_place(description):
            return AddressInText(found=None, address_text=text.strip(), description="", typed=typed)
        if typed.street or parsed.postcode or names_a_street(street):
            return AddressInText(found=None, address_text=text[start:end].strip(" ,.;:"), description=description,
                                 typed=typed)
        return None
    return AddressInText(found=found, address_text=text[start:end].strip(" ,.;:"), description=description,
                         typed=typed)


# The endings of Dutch street names, and the English words for a street; a word typed with one of them before
# a house number is a street even when it is not in the address table ("bij de Kerkstraat 12").
_STREET_ENDINGS = (
    "straat", "laan", "weg", "plein", "kade", "gracht", "dijk", "singel", "dreef", "hof", "park", "pad", "steeg",
    "markt", "plantsoen", "boulevard", "allee", "baan", "dam", "kanaal", "wal", "haven", "ring", "zijde", "erf",
    "veld", "burgwal", "straatweg", "pier", "eiland", "hoek",
)  # fmt: skip
_ENGLISH_STREET_WORDS = {"street", "road", "avenue", "lane", "square", "st", "rd", "ave"}
_NAME_PARTICLES = {"van", "de", "der", "den", "het", "t", "'t", "ter", "ten", "la", "le"}


def names_a_street(street: str | None) -> bool:
    """Is this typed name a street by its form: "Kerkstraat", "Burgemeester de Withstraat", "Baker Street"?"""
    words = (street or "").split()
    if not words:
        return False
    last = street_key(words[-1])
    if last in _ENGLISH_STREET_WORDS:
        return len(words) > 1
    return any(last.endswith(ending) and len(last) > len(ending) for ending in _STREET_ENDINGS)


def _street_guess(text: str, parsed) -> str | None:
    """The words just before the number that may be an unknown street: the last word, and the capitalised words
    and name particles before it ("Losse tegel Kerkstraat 12" → "Kerkstraat")."""
    before = text[: _number_position(text, parsed)].replace(",", " ").split()
    if not before:
        return None
    words = [before[-1]]
    for word in reversed(before[:-1]):
        if word[:1].isupper() or word.lower() in _NAME_PARTICLES:
            words.insert(0, word)
        else:
            break
    while words and words[0].lower() in _NAME_PARTICLES | _LEAD_IN:
        words.pop(0)
    guess = " ".join(words).strip(" ,.;:")
    return guess if names_a_street(guess) else None


def _number_position(text: str, parsed) -> int:
    for match in _TOKEN.finditer(text):
        number = _NUMBER_TOKEN.match(match.group(0).strip("(,.;:"))
        if number and int(number.group(1)) == parsed.number:
            return match.start()
    return len(text)


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


# --- a place without a house number, and a house number without a place ---

# Words after which a street is named without its number: "grofvuil *bij de* houtmankade".
_PLACE_WORDS = {
    "bij", "op", "aan", "in", "voor", "naast", "tegenover", "achter", "langs", "nabij", "hoek", "thv", "hoogte",
    "near", "at", "on", "by", "opposite", "outside", "along", "corner", "adres", "address",
}  # fmt: skip
# Words that name a kind of place, not a street, however often a town has a street of that name ("in de weg").
_NOT_A_STREET = {
    "weg", "straat", "stoep", "fietspad", "hoek", "park", "plein", "brug", "speeltuin", "bos", "station", "centrum",
    "kade", "gracht", "dijk", "haven", "markt", "school", "bushalte", "parkeerplaats", "stad", "dorp", "wijk",
    "buurt", "water", "sloot", "tuin", "street", "road", "pavement", "sidewalk", "square", "bridge",
}  # fmt: skip
_ARTICLES = {"de", "het", "t", "'t", "the", "van", "of"}
_POSTCODE_WORDS = re.compile(r"(?i)\b(?:postcode|post code|postal code|zip|pc)\b[:\s]*")
# Words around a house number given on its own ("huisnr 14", "het is nummer 8"), beyond the correction's.
_NUMBER_WORDS = {"huisnr", "hnr", "house", "huis", "adres", "address", "its", "s", "nummertje", "nmr", "nm"}
_LONG_NUMBER_WORDS = frozenset({"nummer", "huisnummer", "number", "huisnr"})  # "numer 14", "huisnumer 7"


@dataclass(frozen=True)
class PlaceHint:
    """A street (known to the address table) or a postcode typed without a house number."""

    street: str | None
    postcode: str | None
    description: str  # the rest of the message

    def as_dict(self) -> dict:
        return {"street": self.street, "postcode": self.postcode}


def place_without_number(text: str, known_street) -> PlaceHint | None:
    """"Er ligt grofvuil bij de houtmankade" → the Houtmankade, "Er ligt grofvuil"; "postcode 1013 AD" → 1013AD.
    `known_street(words)` is the address table's street for some words, or None (`geo.search.known_street`).
    Only words that follow a place word ("bij", "op", "aan de", …) or make up the whole message are tried."""
    parsed = parse_address(text)
    if parsed.postcode and parsed.number is None:
        rest = _POSTCODE_WORDS.sub(" ", text)
        rest = re.sub(r"(?i)\b" + parsed.postcode[:4] + r"\s?" + parsed.postcode[4:] + r"\b", " ", rest)
        description = _clean(rest)
        return PlaceHint(None, parsed.postcode, "" if _only_a_place(description) else description)
    tokens = [(m.start(), m.end(), m.group(0)) for m in _TOKEN.finditer(text)]
    for index in range(len(tokens)):
        before = [t[2].strip(",.;:!?").lower() for t in tokens[max(0, index - 2):index]]
        if index > 0 and not (before[-1:] and before[-1] in _PLACE_WORDS
                              or len(before) == 2 and before[0] in _PLACE_WORDS and before[1] in _ARTICLES):
            continue
        for size in range(min(4, len(tokens) - index), 0, -1):
            words = " ".join(t[2] for t in tokens[index:index + size]).strip(" ,.;:!?")
            if not any(c.isalpha() for c in words) or words.lower() in _ARTICLES | _PLACE_WORDS | _NOT_A_STREET:
                continue
            if index == 0 and index + size < len(tokens) and not tokens[index + size - 1][2].endswith((",", ":")):
                continue  # at the start only a street that is the whole message or set apart ("Silodam, …")
            if index + size < len(tokens) and tokens[index + size][2][:1].isdigit():
                continue  # "Silodam 5 is vies": a street with its number is an address, not a hint
            street = known_street(words)
            if street is None:
                continue
            cut = index
            while cut > 0 and tokens[cut - 1][2].strip(",.:;").lower() in _LEAD_IN:
                cut -= 1
            description = _clean(text[:tokens[cut][0]] + " " + text[tokens[index + size - 1][1]:])
            return PlaceHint(street, None, "" if _only_a_place(description) else description)
    return None


def completed_address(place: dict, number: str) -> str:
    """The address typed in two messages: the street (or postcode) of a place hint with a house number."""
    return TypedAddress("", street=place.get("street"), postcode=place.get("postcode")).with_number(number)


def number_only(text: str) -> str | None:
    """A house number given on its own: "nr 14", "nummer 8", "huisnummer 7", "14", "op 14", "bij nummer 14a",
    "huisnr. 12-2" → "14", "8", "7", "14", "14", "14A", "12-2"; None when the words say more."""
    plain = re.sub(r"(?<=[a-z])(?=\d)", " ", normalise(text))  # "nr14"
    kept = [word for word in plain.split()
            if word not in _NUMBER_WORDS and (word[:1].isdigit() or known_word(word, _LONG_NUMBER_WORDS) is None)]
    return house_number_only(" ".join(kept)) if kept else None
