"""PDOK Locatieserver faked at its HTTP boundary, with responses shaped as PDOK v3_1 sends them."""

from __future__ import annotations

import httpx

WESTERDOKSDIJK_40A = {
    "bron": "BAG",
    "woonplaatscode": "3594",
    "type": "adres",
    "woonplaatsnaam": "Amsterdam",
    "wijkcode": "WK036302",
    "huis_nlt": "40A",
    "openbareruimtetype": "Weg",
    "buurtnaam": "Houthavens Oost",
    "gemeentecode": "0363",
    "rdf_seealso": "http://bag.basisregistraties.overheid.nl/bag/id/nummeraanduiding/0363200000457399",
    "weergavenaam": "Westerdoksdijk 40A, 1013AE Amsterdam",
    "straatnaam_verkort": "Westerdoksdijk",
    "id": "adr-6c6ec4c0c0d2d6cbe2b6d2b8d1a0a6c3",
    "gekoppeld_perceel": ["ASD04-F-6466"],
    "gemeentenaam": "Amsterdam",
    "buurtcode": "BU0363AF03",
    "wijknaam": "Houthavens",
    "identificatie": "0363010000758545-0363200000457399",
    "openbareruimte_id": "0363300000004014",
    "waterschapsnaam": "HH Amstel, Gooi en Vecht",
    "provinciecode": "PV27",
    "postcode": "1013AE",
    "provincienaam": "Noord-Holland",
    "centroide_ll": "POINT(4.8925727 52.3877221)",
    "nummeraanduiding_id": "0363200000457399",
    "waterschapscode": "11",
    "adresseerbaarobject_id": "0363010000758545",
    "huisnummer": 40,
    "huisletter": "A",
    "provincieafkorting": "NH",
    "centroide_rd": "POINT(121327 488989)",
    "straatnaam": "Westerdoksdijk",
    "score": 17.515045,
}

COOLSINGEL_40 = {
    "bron": "BAG",
    "type": "adres",
    "woonplaatsnaam": "Rotterdam",
    "gemeentecode": "0599",
    "gemeentenaam": "Rotterdam",
    "weergavenaam": "Coolsingel 40, 3011AD Rotterdam",
    "id": "adr-0599b1a2c3d4e5f60718293a4b5c6d7e",
    "postcode": "3011AD",
    "centroide_ll": "POINT(4.47917029 51.92302513)",
    "centroide_rd": "POINT(92764.621 437567.745)",
    "nummeraanduiding_id": "0599200000219680",
    "huisnummer": 40,
    "huis_nlt": "40",
    "straatnaam": "Coolsingel",
    "score": 14.21,
}

RAADHUISPLEIN_EMMEN = {  # an address outside the local table
    "bron": "BAG", "type": "adres", "woonplaatsnaam": "Emmen", "gemeentecode": "0114", "gemeentenaam": "Emmen",
    "weergavenaam": "Raadhuisplein 1, 7811AP Emmen", "id": "adr-0114a7f1c2e3d4b5a6978877665544332",
    "postcode": "7811AP", "centroide_ll": "POINT(6.89671 52.78474)", "centroide_rd": "POINT(256110 532542)",
    "nummeraanduiding_id": "0114200000107345", "huisnummer": 1, "huis_nlt": "1", "straatnaam": "Raadhuisplein",
    "score": 16.2,
}  # fmt: skip


def free_found(*docs) -> dict:
    docs = list(docs) or [WESTERDOKSDIJK_40A]
    return {
        "response": {
            "numFound": len(docs),
            "start": 0,
            "maxScore": max(d.get("score", 0) for d in docs),
            "numFoundExact": True,
            "docs": docs,
        }
    }


def reverse_found(doc: dict, distance: float) -> dict:
    return {"response": {"numFound": 1, "start": 0, "maxScore": 1.0, "numFoundExact": True,
                         "docs": [{**doc, "afstand": distance, "score": 1.0}]}}  # fmt: skip


NOT_FOUND = {"response": {"numFound": 0, "start": 0, "maxScore": 0.0, "numFoundExact": True, "docs": []}}


class FakePdok:
    """An httpx transport that answers like PDOK, or fails like it can: slow, 500 or garbage."""

    def __init__(self, mode: str = "found", body: dict | None = None):
        self.mode = mode
        self.body = body
        self.requests: list[httpx.Request] = []
        self.transport = httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.mode == "slow":
            raise httpx.ReadTimeout("timed out", request=request)
        if self.mode == "down":
            raise httpx.ConnectError("connection refused", request=request)
        if self.mode == "500":
            return httpx.Response(500, text="<html><body>Internal Server Error</body></html>")
        if self.mode == "garbage":
            return httpx.Response(200, text="<html>Service tijdelijk niet beschikbaar</html>")
        if self.mode == "wrong-json":
            return httpx.Response(200, json={"error": {"msg": "undefined field q", "code": 400}})
        if self.mode == "not-found":
            return httpx.Response(200, json=NOT_FOUND)
        return httpx.Response(200, json=self.body or free_found())
