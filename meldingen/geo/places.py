"""Name a point for a resident: an address or area inside the service area, the municipality elsewhere in the
Netherlands, and the nearest known city abroad ("in Seattle, VS") — never raw coordinates.

Abroad is answered offline from `sample_data/places/` (a compact table of cities and countries; see its
SOURCES.md): the nearest city by great-circle distance, "in" within IN_CITY_KM, "bij"/"near" within NEAR_KM,
and beyond that only "far outside the Netherlands", because a city that far away names nothing.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PLACES_DIR = Path(__file__).resolve().parent.parent.parent / "sample_data" / "places"
IN_CITY_KM = 25.0
NEAR_KM = 150.0
EARTH_RADIUS_KM = 6371.0

# Kinds of place name, from most to least precise.
ADDRESS = "address"  # an address in the service area
SERVED_AREA = "served_area"  # in the service area, no address near
MUNICIPALITY = "municipality"  # in the Netherlands, in a municipality this service point does not serve
ABROAD = "abroad"  # outside the Netherlands, near a known city
FAR = "far"  # outside the Netherlands, far from any city we know

_WORDS = {
    "nl": {"in": "in", "near": "bij", "municipality": "in de gemeente {name}", "far": "ver buiten Nederland",
           "at": "bij"},
    "en": {"in": "in", "near": "near", "municipality": "in the municipality of {name}",
           "far": "far outside the Netherlands", "at": "at"},
}


@dataclass(frozen=True)
class City:
    name_en: str
    name_nl: str
    country: str
    lat: float
    lon: float


@dataclass(frozen=True)
class PlaceName:
    kind: str
    text: str  # with its preposition, to follow "Uw foto is gemaakt …": "in Seattle, VS", "bij Antwerpen, België"
    served: bool  # inside this service point's area: the place can be used for a report
    label: str = ""  # the name alone: "Seattle, VS", "Zoutkeetsgracht 2, Amsterdam"

    def __str__(self) -> str:
        return self.text


@lru_cache(maxsize=1)
def _cities() -> tuple[City, ...]:
    with (PLACES_DIR / "world_cities.csv").open(encoding="utf-8", newline="") as handle:
        return tuple(City(row["name_en"], row["name_nl"], row["country"], float(row["lat"]), float(row["lon"]))
                     for row in csv.DictReader(handle))


@lru_cache(maxsize=1)
def _countries() -> dict[str, dict[str, str]]:
    with (PLACES_DIR / "countries.csv").open(encoding="utf-8", newline="") as handle:
        return {row["code"]: {"nl": row["name_nl"], "en": row["name_en"]} for row in csv.DictReader(handle)}


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def nearest_city(lat: float, lon: float) -> tuple[City, float]:
    """The nearest city in the table and its distance in km (a few hundred rows: a scan is microseconds)."""
    return min(((city, distance_km(lat, lon, city.lat, city.lon)) for city in _cities()), key=lambda c: c[1])


def name_abroad(lat: float, lon: float, language: str = "nl") -> PlaceName:
    """"in Seattle, VS" / "near Antwerp, Belgium" / "far outside the Netherlands"."""
    words = _WORDS.get(language, _WORDS["nl"])
    city, km = nearest_city(lat, lon)
    if km > NEAR_KM:
        return PlaceName(FAR, words["far"], served=False, label=words["far"])
    lang = "en" if language == "en" else "nl"
    country = _countries().get(city.country, {}).get(lang, city.country)
    city_name = city.name_en if lang == "en" else city.name_nl
    preposition = words["in"] if km <= IN_CITY_KM else words["near"]
    return PlaceName(ABROAD, f"{preposition} {city_name}, {country}", served=False, label=f"{city_name}, {country}")


def name_place(lat: float, lon: float, language: str = "nl") -> PlaceName:
    """The plainest true name of the point for a resident, and whether it lies in the service area."""
    from meldingen.geo.lookup import lookup_point

    words = _WORDS.get(language, _WORDS["nl"])
    place = lookup_point(lat, lon)
    if not place.in_netherlands:
        return name_abroad(lat, lon, language)
    if place.organisation is None:
        name = place.municipality_name or place.areas.get("municipality")
        return PlaceName(MUNICIPALITY, words["municipality"].format(name=name), served=False, label=str(name))
    if place.address:
        address = place.address
        street = " ".join(str(p) for p in (address.get("street"), address.get("number")) if p)
        city = f", {address['city']}" if address.get("city") else ""
        return PlaceName(ADDRESS, f"{words['at']} {street}{city}", served=True, label=f"{street}{city}")
    names = [place.area_names.get(level) for level in ("neighbourhood", "district", "municipality")]
    parts = [n for n in names if n]
    label = ", ".join(dict.fromkeys(parts[:1] + parts[-1:])) if parts else words["far"]
    return PlaceName(SERVED_AREA, f"{words['in']} {label}", served=True, label=label)
