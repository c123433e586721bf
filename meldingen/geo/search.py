"""Typed address → point: the local BAG address table first, PDOK's Locatieserver when it has no answer.

"Westerdoksdijk 40A", "westerdoksdijk 40 a amsterdam", "1013 AE 40A", "1013AE 40-A", a street alone (its
middle) and misspelt streets all resolve against the local table. PDOK being slow, down or confused never
raises here: the outcome says the geocoder was unavailable and the caller marks the address unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import text

from meldingen.extensions import db
from meldingen.geo.addressparse import ParsedAddress, StreetIndex, addition_key, parse_address, street_key
from meldingen.geo.crs import to_rd
from meldingen.geo.dbcache import PerDatabaseCache
from meldingen.geo.lookup import house_number
from meldingen.geo.pdok import GeocoderUnavailable, client_for

INDEX_CHECK_SECONDS = 10.0
PDOK_SCORE_CEILING = 0.9  # a PDOK answer never outranks an exact local one


@dataclass
class SearchOutcome:
    results: list[dict] = field(default_factory=list)  # {"lat", "lon", "address", "score", "source", …}
    geocoder: str = "not needed"  # "not needed" | "answered" | "unavailable" | "off"


def search_address(query: str, limit: int = 5) -> list[dict]:
    """Candidates for a typed address, best first; [] when unknown or when PDOK is unavailable."""
    return search(query, limit).results


def search(query: str, limit: int = 5) -> SearchOutcome:
    parsed = parse_address(query)
    if parsed.is_empty:
        return SearchOutcome()
    local, exact = search_local(parsed, limit)
    if exact:
        return SearchOutcome(local)
    outcome = SearchOutcome(geocoder="answered")
    client = client_for(current_app.config)
    if not client.enabled:
        outcome.geocoder = "off"
        remote = []
    else:
        try:
            remote = _pdok_results(client.free(query, rows=limit))
        except GeocoderUnavailable:
            outcome.geocoder = "unavailable"
            remote = []
    # Remote answers first when there are any; a partial local answer (the street, not the number) after them.
    outcome.results = (remote + local)[:limit]
    return outcome


def search_local(parsed: ParsedAddress, limit: int = 5) -> tuple[list[dict], bool]:
    """Local candidates and whether the best one answers the question fully (then PDOK is not asked)."""
    index = _local_index()
    city = _known_city(parsed.city, index)
    if city is _ELSEWHERE:
        return [], False
    match = index.streets.match_parsed(parsed) if (parsed.street or parsed.street_candidates) else None
    street_keys = [match.key] if match else []
    street_score = match.score if match else 1.0

    if parsed.number is not None and (parsed.postcode or street_keys):
        rows = _rows_with_number(parsed, street_keys, city)
        if rows:
            ranked = _rank_by_addition(rows, parsed, street_score if not parsed.postcode else 1.0)
            return ranked[:limit], True
        if street_keys or parsed.postcode:  # street or postcode known, number not: offer its middle, ask PDOK
            middle = _middle(street_keys, parsed.postcode, city, score=0.5 * street_score)
            return ([middle] if middle else []), False
        return [], False
    if street_keys or parsed.postcode:
        middle = _middle(street_keys, parsed.postcode, city, score=0.9 * street_score)
        return ([middle] if middle else []), middle is not None
    return [], False


_ADDRESS_SELECT = "SELECT id, street, number, letter, suffix, postcode, city, municipality_code, lat, lon FROM addresses"


def _rows_with_number(parsed: ParsedAddress, street_keys: list[str], city: str | None):
    clauses, params = ["number = :number"], {"number": parsed.number}
    if parsed.postcode:
        clauses.append("postcode = :postcode")
        params["postcode"] = parsed.postcode
    if street_keys and not parsed.postcode:
        clauses.append("street_key = :street_key")
        params["street_key"] = street_keys[0]
    if city:
        clauses.append("city = :city")
        params["city"] = city
    sql = f"{_ADDRESS_SELECT} WHERE {' AND '.join(clauses)} ORDER BY id"
    return db.session.execute(text(sql), params).all()


def _rank_by_addition(rows, parsed: ParsedAddress, street_score: float) -> list[dict]:
    wanted = parsed.addition
    ranked = []
    for row in rows:
        have = addition_key(row.letter, row.suffix)
        if have == wanted:
            score = 1.0
        elif not wanted:
            score = 0.9  # "40" typed, only 40A/40B exist: the number is right, the door may not be
        elif have.startswith(wanted) or wanted.startswith(have):
            score = 0.85
        else:
            score = 0.7
        ranked.append(_result(row, round(score * street_score, 3)))
    # Several doors with the typed number and none exactly as typed ("plein 5": 5-1, 5-2, 5-H): the plainest
    # first (no letter before a letter, letters and suffixes in their natural order), the same on every database.
    order = {id(result): _door_order(row) for result, row in zip(ranked, rows, strict=True)}
    ranked.sort(key=lambda r: (-r["score"], order[id(r)]))
    return ranked


def door_order(letter: str | None, suffix: str | None) -> tuple:
    """The order of one number's doors, plainest first: 5, 5A, 5B, 5-1, 5-2, 5-H."""

    def natural(part: str | None) -> tuple:
        if not part:
            return (0, 0, "")
        return (1, int(part), "") if part.isdigit() else (2, 0, part.upper())

    return natural(letter), natural(suffix)


def _door_order(row) -> tuple:
    return door_order(row.letter, row.suffix), row.id


def _middle(street_keys: list[str], postcode: str | None, city: str | None, score: float) -> dict | None:
    """The address nearest to the centre of a street's (or a postcode's) addresses: a point on the street."""
    clauses, params = [], {}
    if street_keys:
        clauses.append("street_key = :street_key")
        params["street_key"] = street_keys[0]
    if postcode:
        clauses.append("postcode = :postcode")
        params["postcode"] = postcode
    if city:
        clauses.append("city = :city")
        params["city"] = city
    rows = db.session.execute(text(f"{_ADDRESS_SELECT} WHERE {' AND '.join(clauses)} ORDER BY id"), params).all()
    if not rows:
        return None
    points = [to_rd(row.lon, row.lat) for row in rows]
    cx = sum(p[0] for p in points) / len(points)
    cy = sum(p[1] for p in points) / len(points)
    best = min(range(len(rows)), key=lambda i: ((points[i][0] - cx) ** 2 + (points[i][1] - cy) ** 2, rows[i].id))
    row = rows[best]
    result = _result(row, round(score, 3))
    result["address"] = {
        "street": row.street if street_keys else None,
        "number": None,
        "postcode": postcode,
        "city": row.city,
    }
    result["match"] = "street" if street_keys else "postcode"
    return result


def _result(row, score: float) -> dict:
    return {
        "lat": row.lat,
        "lon": row.lon,
        "address": {
            "street": row.street,
            "number": house_number(row.number, row.letter, row.suffix),
            "postcode": row.postcode,
            "city": row.city,
        },
        "score": score,
        "source": "local",
        "match": "address",
        "municipality_code": row.municipality_code,
    }


def _pdok_results(found) -> list[dict]:
    if not found:
        return []
    top = max(a.score for a in found) or 1.0
    return [
        {
            "lat": a.lat,
            "lon": a.lon,
            "address": a.as_address(),
            "score": round(PDOK_SCORE_CEILING * (a.score / top if top else 1.0), 3),
            "source": "pdok",
            "match": "address",
            "municipality_code": a.municipality_code,
        }
        for a in found
    ]


# --- the local index of street and place names ---------------------------------------------------------------

_ELSEWHERE = object()  # a typed place that is a municipality with no local addresses: ask PDOK


@dataclass
class _LocalIndex:
    streets: StreetIndex
    cities: dict[str, str]  # key → city as stored
    municipality_names: set[str]  # keys of all municipality names (from the areas table)


def _known_city(typed: str | None, index: _LocalIndex):
    """The stored city for a typed place; _ELSEWHERE for a municipality we hold no addresses of; else None."""
    if not typed:
        return None
    words = typed.split()
    for size in range(len(words), 0, -1):  # "amsterdam graag" → "amsterdam"
        key = street_key(" ".join(words[:size]))
        if key in index.cities:
            return index.cities[key]
        if key in index.municipality_names:
            return _ELSEWHERE
    return None


def _build_local_index() -> _LocalIndex:
    streets = db.session.scalars(text("SELECT DISTINCT street FROM addresses")).all()
    cities = db.session.scalars(text("SELECT DISTINCT city FROM addresses")).all()
    municipalities = db.session.scalars(text("SELECT name FROM areas WHERE level = 'municipality'")).all()
    return _LocalIndex(
        streets=StreetIndex(streets),
        cities={street_key(c): c for c in cities if c},
        municipality_names={street_key(m) for m in municipalities if m},
    )


def _local_signature() -> tuple:
    addresses = db.session.execute(text("SELECT count(*), max(id) FROM addresses")).one()
    areas = db.session.execute(text("SELECT count(*), max(id) FROM areas WHERE level = 'municipality'")).one()
    return tuple(addresses) + tuple(areas)


# Built from the addresses and the municipalities: the geo imports invalidate it when they change either.
_local_cache = PerDatabaseCache(_build_local_index, _local_signature, check_seconds=INDEX_CHECK_SECONDS)


def _local_index() -> _LocalIndex:
    return _local_cache.get()


def invalidate_address_index() -> None:
    _local_cache.invalidate()


def known_street(typed: str, min_score: float = 0.85) -> str | None:
    """The street of the address table that `typed` names (a typo forgiven), or None."""
    matches = _local_index().streets.match(typed, limit=1)
    return matches[0].name if matches and matches[0].score >= min_score else None
