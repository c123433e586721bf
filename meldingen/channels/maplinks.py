"""Coordinates from a map link in a message: how a place arrives on platforms without a location message.

Messenger no longer delivers a location attachment and Signal never had one: a resident who wants to share a
place pastes (or the phone sends) a link to Google Maps, Apple Maps or OpenStreetMap. This module decides
which links count and reads the coordinates out of them; a typed address is the geocoder's business instead.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlsplit

from meldingen.channels.messages import Location, PayloadError, make_location

_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_PAIR = re.compile(r"^\s*(-?\d{1,2}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)")
_AT = re.compile(r"@(-?\d{1,2}\.\d+),(-?\d{1,3}\.\d+)")
_GOOGLE_DATA = re.compile(r"!3d(-?\d{1,2}\.\d+)!4d(-?\d{1,3}\.\d+)")
_OSM_FRAGMENT = re.compile(r"map=\d+(?:\.\d+)?/(-?\d{1,2}\.\d+)/(-?\d{1,3}\.\d+)")

_GOOGLE_HOSTS = ("google.", "maps.google.", "www.google.")
_APPLE_HOSTS = ("maps.apple.com",)
_OSM_HOSTS = ("openstreetmap.org", "www.openstreetmap.org", "osm.org")


def urls_in(text: str | None) -> list[str]:
    """The http(s) links in a text, trailing punctuation removed."""
    return [url.rstrip(".,;:!?)]") for url in _URL.findall(text or "")]


def location_from_text(text: str | None) -> Location | None:
    """The place of the first map link in `text` that names coordinates, or None."""
    for url in urls_in(text):
        found = location_from_url(url)
        if found is not None:
            return found
    return None


def location_from_url(url: str) -> Location | None:
    """Coordinates from one map link (Google Maps `q=`/`ll=`/`@lat,lon`/`!3d..!4d..`, Apple Maps `ll=`/`q=`,
    OpenStreetMap `mlat`/`mlon` or `#map=z/lat/lon`); None for any other link or one without coordinates."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if not (_is_host(host, _GOOGLE_HOSTS) or host in _APPLE_HOSTS or host in _OSM_HOSTS
            or host == "goo.gl" or host.endswith(".app.goo.gl")):
        return None
    query = {k: v[0] for k, v in parse_qs(parts.query).items() if v}
    candidates: list[tuple[str, str]] = []
    if host in _OSM_HOSTS:
        if "mlat" in query and "mlon" in query:
            candidates.append((query["mlat"], query["mlon"]))
        match = _OSM_FRAGMENT.search(parts.fragment) or _OSM_FRAGMENT.search(parts.query)
        if match:
            candidates.append((match.group(1), match.group(2)))
    for name in ("q", "ll", "query", "destination", "daddr", "center", "sll"):
        pair = _PAIR.match(unquote(query.get(name, "")))
        if pair:
            candidates.append((pair.group(1), pair.group(2)))
    path = unquote(parts.path)
    for pattern in (_GOOGLE_DATA, _AT):
        match = pattern.search(path)
        if match:
            candidates.append((match.group(1), match.group(2)))
    for lat, lon in candidates:
        try:
            return make_location(lat, lon)
        except PayloadError:
            continue
    return None


def _is_host(host: str, prefixes: tuple[str, ...]) -> bool:
    """google.nl, www.google.com, maps.google.de, …: a Google host whatever its country domain."""
    return any(host.startswith(prefix) for prefix in prefixes) and "." in host
