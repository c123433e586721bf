"""PDOK Locatieserver client: typed address → BAG address with its point, and point → nearest address.

Used only when the local address table has no answer. Every call has a short timeout and its answers are
cached; when PDOK is slow, down or answers garbage, the client raises `GeocoderUnavailable` and the caller
makes the report anyway, marked "address unknown" (PDOK failing must never stop a report).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import httpx

log = logging.getLogger(__name__)

DEFAULT_URL = "https://api.pdok.nl/bzk/locatieserver/search/v3_1"
_POINT = re.compile(r"POINT\s*\(\s*(-?\d+(?:\.\d+)?)\s+(-?\d+(?:\.\d+)?)\s*\)")


class GeocoderUnavailable(Exception):
    """PDOK did not give a usable answer in time: timeout, connection error, HTTP error or garbage."""


@dataclass(frozen=True)
class PdokAddress:
    """One BAG address as PDOK returns it, in the shape the rest of Meldingen uses."""

    display_name: str
    street: str | None
    number: int | None
    letter: str | None
    suffix: str | None
    postcode: str | None
    city: str | None
    municipality_code: str | None  # "GM0363"; PDOK itself says "0363"
    lat: float
    lon: float
    score: float
    bag_id: str | None = None
    distance_m: float | None = None  # reverse geocoding only

    def as_address(self) -> dict:
        number = "" if self.number is None else str(self.number)
        number += self.letter or ""
        if self.suffix:
            number += f"-{self.suffix}"
        return {"street": self.street, "number": number or None, "postcode": self.postcode, "city": self.city}


class _TTLCache:
    """A small thread-safe LRU cache whose entries expire."""

    def __init__(self, size: int, ttl: float):
        self.size, self.ttl = size, ttl
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            stored_at, value = item
            if time.monotonic() - stored_at > self.ttl:
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._data[key] = (time.monotonic(), value)
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


class PdokClient:
    """The Locatieserver's `free` and `reverse` endpoints, with timeout, cache and fail-open errors.

    `base_url="off"` (or empty) switches it off: every call answers "nothing found" without a request.
    """

    def __init__(
        self,
        base_url: str | None = DEFAULT_URL,
        *,
        timeout: float = 2.0,
        cache_size: int = 2048,
        cache_ttl: float = 24 * 3600,
        transport: httpx.BaseTransport | None = None,
    ):
        self.base_url = (base_url or "").strip().rstrip("/")
        self.enabled = bool(self.base_url) and self.base_url.lower() != "off"
        self.timeout = timeout
        self._cache = _TTLCache(cache_size, cache_ttl)
        self._client = (
            httpx.Client(
                base_url=self.base_url,
                timeout=httpx.Timeout(timeout),
                transport=transport,
                headers={"Accept": "application/json", "User-Agent": "meldingen"},
            )
            if self.enabled
            else None
        )

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def free(self, query: str, *, rows: int = 5, municipality_name: str | None = None) -> list[PdokAddress]:
        """BAG addresses matching free text, best first; [] when nothing matches or the client is off."""
        query = " ".join((query or "").split())
        if not self.enabled or not query:
            return []
        fq = ["type:adres"]
        if municipality_name:
            fq.append(f'gemeentenaam:"{municipality_name}"')
        params = [("q", query), ("rows", str(rows)), ("fl", "*")] + [("fq", f) for f in fq]
        return self._cached_docs("/free", params)

    def reverse(self, lat: float, lon: float, *, distance_m: float = 50) -> PdokAddress | None:
        """The nearest BAG address within `distance_m` of the point, or None."""
        if not self.enabled:
            return None
        params = [
            ("lat", f"{lat:.7f}"),
            ("lon", f"{lon:.7f}"),
            ("type", "adres"),
            ("rows", "1"),
            ("distance", str(int(distance_m))),
            ("fl", "*"),
        ]
        docs = self._cached_docs("/reverse", params)
        return docs[0] if docs else None

    def _cached_docs(self, path: str, params: list[tuple[str, str]]) -> list[PdokAddress]:
        key = (path, tuple(params))
        cached = self._cache.get(key)
        if cached is not None:
            return list(cached)
        docs = self._fetch_docs(path, params)
        self._cache.put(key, tuple(docs))  # failures raise above and are not cached
        return docs

    def _fetch_docs(self, path: str, params: list[tuple[str, str]]) -> list[PdokAddress]:
        try:
            response = self._client.get(path, params=params)
            response.raise_for_status()
            payload = response.json()
        except httpx.TimeoutException as exc:
            log.warning("PDOK %s timed out after %ss", path, self.timeout)
            raise GeocoderUnavailable(f"PDOK timed out after {self.timeout}s") from exc
        except httpx.HTTPStatusError as exc:
            log.warning("PDOK %s answered HTTP %s", path, exc.response.status_code)
            raise GeocoderUnavailable(f"PDOK answered HTTP {exc.response.status_code}") from exc
        except httpx.HTTPError as exc:
            log.warning("PDOK %s unreachable: %s", path, exc)
            raise GeocoderUnavailable(f"PDOK unreachable: {exc.__class__.__name__}") from exc
        except ValueError as exc:  # JSON decode error
            log.warning("PDOK %s answered something that is not JSON", path)
            raise GeocoderUnavailable("PDOK answered something that is not JSON") from exc
        try:
            docs = payload["response"]["docs"]
            if not isinstance(docs, list):
                raise TypeError("docs is not a list")
        except (KeyError, TypeError) as exc:
            log.warning("PDOK %s answered JSON without response.docs", path)
            raise GeocoderUnavailable("PDOK answered JSON without response.docs") from exc
        return [address for address in (parse_doc(doc) for doc in docs) if address is not None]


def parse_doc(doc) -> PdokAddress | None:
    """One `response.docs[]` entry as a PdokAddress; None when it lacks a usable point."""
    if not isinstance(doc, dict):
        return None
    point = _POINT.match(str(doc.get("centroide_ll") or ""))
    if point is None:
        return None
    lon, lat = float(point.group(1)), float(point.group(2))
    municipality = doc.get("gemeentecode")
    if municipality:
        municipality = str(municipality)
        if municipality.isdigit():
            municipality = f"GM{int(municipality):04d}"
    try:
        number = int(doc["huisnummer"]) if doc.get("huisnummer") not in (None, "") else None
        score = float(doc.get("score") or 0.0)
        distance = float(doc["afstand"]) if doc.get("afstand") is not None else None
    except (TypeError, ValueError):
        return None
    return PdokAddress(
        display_name=str(doc.get("weergavenaam") or ""),
        street=doc.get("straatnaam") or None,
        number=number,
        letter=doc.get("huisletter") or None,
        suffix=doc.get("huisnummertoevoeging") or None,
        postcode=doc.get("postcode") or None,
        city=doc.get("woonplaatsnaam") or None,
        municipality_code=municipality or None,
        lat=lat,
        lon=lon,
        score=score,
        bag_id=doc.get("nummeraanduiding_id") or None,
        distance_m=distance,
    )


_clients: dict[tuple, PdokClient] = {}
_clients_lock = threading.Lock()


def client_for(config) -> PdokClient:
    """The process-wide client for an app config (one per base URL and timeout, so the cache is shared)."""
    # GEOCODER_TRANSPORT lets tests put an httpx.MockTransport at PDOK's HTTP boundary.
    key = (
        config.get("GEOCODER_URL", DEFAULT_URL),
        float(config.get("GEOCODER_TIMEOUT", 2.0)),
        config.get("GEOCODER_TRANSPORT"),
    )
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = PdokClient(key[0], timeout=key[1], transport=key[2])
        return client
