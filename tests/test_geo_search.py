"""Typed address → point on both databases: the local BAG table first, PDOK (faked at HTTP) when it has none."""

import csv
import math
from pathlib import Path

import pytest
from pdok_fakes import RAADHUISPLEIN_EMMEN, FakePdok, free_found

from meldingen.geo.crs import to_rd
from meldingen.geo.search import search, search_address

GEODATA = Path(__file__).resolve().parent.parent / "sample_data" / "geodata"



def metres_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    (ax, ay), (bx, by) = to_rd(a[1], a[0]), to_rd(b[1], b[0])
    return math.hypot(ax - bx, ay - by)


def read_addresses() -> list[dict]:
    with open(GEODATA / "adressen_amsterdam_bag_sample.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def fake_pdok():
    return FakePdok("not-found")


@pytest.fixture
def app_config(fake_pdok):
    return {"GEOCODER_URL": "https://pdok.test/bzk/locatieserver/search/v3_1", "GEOCODER_TRANSPORT": fake_pdok.transport}


WESTERDOKSDIJK_40A = (52.3877221, 4.8925727)
VAN_DIEMENSTRAAT_420_H = (52.3904449, 4.8860492)


@pytest.mark.parametrize(
    ("typed", "point"),
    [
        ("Westerdoksdijk 40A", WESTERDOKSDIJK_40A),
        ("westerdoksdijk 40 a amsterdam", WESTERDOKSDIJK_40A),
        ("1013 AE 40A", WESTERDOKSDIJK_40A),
        ("1013AE 40-A", WESTERDOKSDIJK_40A),
        ("WESTERDOKSDIJK 40-a", WESTERDOKSDIJK_40A),
        ("Westerdoksdyk 40A", WESTERDOKSDIJK_40A),
        ("lamp kapot bij westerdoksdijk 40a", WESTERDOKSDIJK_40A),
        ("Westerdoksdijk 40A, 1013 AE Amsterdam", WESTERDOKSDIJK_40A),
        ("Van Diemenstraat 420-H", VAN_DIEMENSTRAAT_420_H),
        ("van diemenstr. 420 H", VAN_DIEMENSTRAAT_420_H),
        ("1013CR 420H", VAN_DIEMENSTRAAT_420_H),
        ("Taandwarsstraat 99", (52.3880836, 4.8884837)),
    ],
)
def test_typed_variants_of_real_addresses_resolve_within_5_m(app, fake_pdok, typed, point):
    results = search_address(typed)
    assert results, typed
    assert results[0]["source"] == "local"
    assert metres_between((results[0]["lat"], results[0]["lon"]), point) <= 5
    assert fake_pdok.requests == []  # the local table answered: PDOK was not asked


def test_every_tenth_bag_address_typed_three_ways_resolves_within_5_m(app):
    for row in read_addresses()[::10]:
        addition = row["huisletter"] + (f"-{row['huisnummertoevoeging']}" if row["huisnummertoevoeging"] else "")
        typed = [f"{row['straatnaam']} {row['huisnummer']}{addition}",
                 f"{row['straatnaam'].lower()} {row['huisnummer']} {addition.replace('-', ' ')} amsterdam"]
        if row["postcode"]:
            typed.append(f"{row['postcode'][:4]} {row['postcode'][4:]} {row['huisnummer']}{addition}")
        for text in typed:
            best = search_address(text)[0]
            assert metres_between((best["lat"], best["lon"]), (float(row["lat"]), float(row["lon"]))) <= 5, text


def test_street_alone_resolves_to_a_point_in_its_middle(app):
    best = search_address("Barentszstraat")[0]
    assert best["match"] == "street" and best["address"]["street"] == "Barentszstraat"
    doors = [(float(r["lat"]), float(r["lon"])) for r in read_addresses() if r["straatnaam"] == "Barentszstraat"]
    centre = (sum(p[0] for p in doors) / len(doors), sum(p[1] for p in doors) / len(doors))
    assert (best["lat"], best["lon"]) in doors  # a real point on the street
    ends = max(metres_between(centre, p) for p in doors)
    assert metres_between(centre, (best["lat"], best["lon"])) < ends / 2


def test_address_not_in_the_local_table_is_asked_of_pdok(app, fake_pdok):
    fake_pdok.mode, fake_pdok.body = "found", free_found(RAADHUISPLEIN_EMMEN)
    outcome = search("Raadhuisplein 1 Emmen")
    assert outcome.geocoder == "answered"
    best = outcome.results[0]
    assert best["source"] == "pdok"
    assert best["address"] == {"street": "Raadhuisplein", "number": "1", "postcode": "7811AP", "city": "Emmen"}
    assert (best["lat"], best["lon"]) == (52.78474, 6.89671)
    assert fake_pdok.requests[0].url.params["q"] == "Raadhuisplein 1 Emmen"


def test_known_street_in_another_municipality_goes_to_pdok(app, fake_pdok):
    # A Westerdoksdijk 40A typed with Rotterdam is not the Amsterdam one.
    search("Westerdoksdijk 40A Rotterdam")
    assert len(fake_pdok.requests) == 1


@pytest.mark.parametrize("mode", ["not-found", "slow", "down", "500", "garbage", "wrong-json"])
def test_unknown_address_with_pdok_silent_or_failing_gives_no_result_and_no_error(app, fake_pdok, mode):
    fake_pdok.mode = mode
    outcome = search("Nergensstraat 12 Nergenshuizen")
    assert outcome.results == []
    assert outcome.geocoder == ("answered" if mode == "not-found" else "unavailable")


def test_search_api_answers_best_first(client, fake_pdok):
    response = client.get("/api/v1/geo/search", query_string={"q": "1013AE 40-A"})
    assert response.status_code == 200
    best = response.get_json()["results"][0]
    assert best["address"] == {"street": "Westerdoksdijk", "number": "40A", "postcode": "1013AE", "city": "Amsterdam"}
    assert best["score"] == 1.0


def test_search_api_says_when_the_geocoder_was_unavailable(client, fake_pdok):
    fake_pdok.mode = "500"
    body = client.get("/api/v1/geo/search", query_string={"q": "Coolsingel 40 Rotterdam"}).get_json()
    assert body == {"results": [], "geocoder": "unavailable"}


def test_search_api_needs_a_query(client):
    assert client.get("/api/v1/geo/search").status_code == 422
