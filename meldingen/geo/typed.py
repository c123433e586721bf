"""Typed address → the address a report holds: the one whose street and number (and letter or suffix) the
resident typed, never a neighbour that shares its point on the map (a building's doors often share one).

`match_typed_address(text)` is the one way in, for the chat intake and, through the pipeline, for the API and
Open311: the search (`geo.search`, local table first, PDOK second) gives candidates; a candidate is the match
only when its number is the typed number and its street (or postcode) the typed one. A number that exists only
with letters or suffixes ("Zoutkeetsplein 5": 5-1, 5-2, 5-3, 5-H) matches its plainest door (the search orders
them). When nothing matches, the answer still says what it knows: the street (known, but not that number) or
nothing, so the resident can be told which address was not found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from meldingen.geo.addressparse import ParsedAddress, addition_key, parse_address, street_key
from meldingen.geo.search import door_order, search

STREET_SIMILARITY = 0.8  # a PDOK street "Westerdoksdijk" is the typed "westerdoksdyk"
_LEADING_NUMBER = re.compile(r"^\s*(\d{1,5})")
_DOOR = re.compile(r"^\s*\d{1,5}\s?([A-Za-z]?)(?:-(\w+))?")


@dataclass(frozen=True)
class TypedAddress:
    """What a typed address came to."""

    text: str
    found: dict | None = None  # the matched search result (lat, lon, address, source, …); None: not found
    street: str | None = None  # the known street the text names, also when the number is not found
    postcode: str | None = None  # the postcode typed ("1013AD")
    city: str | None = None
    number: str | None = None  # the house number as typed: "14", "40A", "5-1"
    geocoder_unavailable: bool = False

    @property
    def names_a_place(self) -> bool:
        """A known street or a postcode: a house number alone can complete it."""
        return bool(self.street or self.postcode)

    @property
    def looked_for(self) -> str:
        """What was looked for, for the resident: "Houtmankade 14", "1013 AD 8", else the text as typed."""
        if self.street and self.number:
            return f"{self.street} {self.number}" + (f", {self.city}" if self.city else "")
        if self.postcode and self.number:
            return f"{self.postcode[:4]} {self.postcode[4:]} {self.number}"
        return " ".join(self.text.split())

    def with_number(self, number: str) -> str:
        """The typed text for the same street (or postcode) with another house number."""
        if self.street:
            return f"{self.street} {number}" + (f", {self.city}" if self.city else "")
        return f"{self.postcode} {number}"


def match_typed_address(text: str) -> TypedAddress:
    """The address the resident typed, found or not (see the module's description)."""
    parsed = parse_address(text)
    if parsed.is_empty:
        return TypedAddress(text)
    outcome = search(text, limit=5)
    candidates = [result for result in outcome.results if is_typed_address(parsed, result)]
    found = min(candidates, key=lambda r: _preference(parsed, r, candidates.index(r))) if candidates else None
    street = None
    for result in outcome.results:  # the local table knows the street: the number is what is missing
        address = result.get("address") or {}
        if result.get("source") == "local" and address.get("street"):
            street = address["street"]
            break
    if found is not None:
        street = (found.get("address") or {}).get("street") or street
    city = (found.get("address") or {}).get("city") if found is not None else None
    return TypedAddress(
        text=text, found=found, street=street, postcode=parsed.postcode,
        city=city if parsed.city else None, number=typed_number(parsed),
        geocoder_unavailable=found is None and outcome.geocoder == "unavailable",
    )


def typed_number(parsed: ParsedAddress) -> str | None:
    if parsed.number is None:
        return None
    number = f"{parsed.number}{parsed.letter or ''}"
    return f"{number}-{parsed.suffix}" if parsed.suffix else number


def is_typed_address(parsed: ParsedAddress, result: dict) -> bool:
    """Is this search result the address typed: a whole address, the typed number, the typed street or
    postcode? (A street's middle, or PDOK's nearest guess with another number, is not.)"""
    if result.get("match") != "address" or parsed.number is None:
        return False
    address = result.get("address") or {}
    number = _LEADING_NUMBER.match(str(address.get("number") or ""))
    if number is None or int(number.group(1)) != parsed.number:
        return False
    if result.get("source") == "local":
        return True  # the local search selects by the matched street (or postcode) and the typed number
    if parsed.postcode and parsed.postcode == address.get("postcode"):
        return True
    return _names_street(parsed, address.get("street"))  # a mistyped postcode does not undo the street typed


def _preference(parsed: ParsedAddress, result: dict, position: int) -> tuple:
    """The door typed first, then the local table's answers in the search's order (the closest addition, then
    the plainest door), then PDOK's, plainest door first (5 before 5-1 before 5-H; PDOK's order is its own)."""
    door = _DOOR.match(str((result.get("address") or {}).get("number") or ""))
    letter, suffix = (door.group(1) or "", door.group(2) or "") if door else ("", "")
    exact = addition_key(letter, suffix) == parsed.addition
    local = result.get("source") == "local"
    return (not exact, not local, position if local else 0, door_order(letter, suffix), position)


def _names_street(parsed: ParsedAddress, street: str | None) -> bool:
    if not street:
        return False
    wanted = street_key(street)
    typed = [parsed.street] if parsed.street else []
    typed += list(parsed.street_candidates)
    for candidate in typed:
        key = street_key(candidate)
        if key and (key == wanted or SequenceMatcher(None, key, wanted, autojunk=False).ratio() >= STREET_SIMILARITY):
            return True
    return False
