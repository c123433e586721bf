"""The PDOK Locatieserver client: real-shaped answers parsed, failures turned into GeocoderUnavailable."""

import httpx
import pytest
from pdok_fakes import COOLSINGEL_40, WESTERDOKSDIJK_40A, FakePdok, free_found, reverse_found

from meldingen.geo.pdok import GeocoderUnavailable, PdokClient, parse_doc


def client_for(fake: FakePdok, **kwargs) -> PdokClient:
    return PdokClient("https://pdok.test/bzk/locatieserver/search/v3_1", transport=fake.transport, **kwargs)


def test_found_address_is_parsed_from_the_free_search():
    fake = FakePdok("found", free_found(WESTERDOKSDIJK_40A, COOLSINGEL_40))
    results = client_for(fake).free("Westerdoksdijk 40A")

    first = results[0]
    assert (first.street, first.number, first.letter, first.suffix) == ("Westerdoksdijk", 40, "A", None)
    assert (first.postcode, first.city, first.municipality_code) == ("1013AE", "Amsterdam", "GM0363")
    assert (first.lat, first.lon) == (52.3877221, 4.8925727)
    assert first.bag_id == "0363200000457399"
    assert first.as_address() == {"street": "Westerdoksdijk", "number": "40A", "postcode": "1013AE", "city": "Amsterdam"}
    assert results[1].municipality_code == "GM0599"


def test_free_search_asks_for_addresses_only_at_the_configured_url():
    fake = FakePdok("found")
    client_for(fake).free("westerdoksdijk 40 a", municipality_name="Amsterdam")

    request = fake.requests[0]
    assert request.url.host == "pdok.test"
    assert request.url.path == "/bzk/locatieserver/search/v3_1/free"
    assert request.url.params["q"] == "westerdoksdijk 40 a"
    assert request.url.params.get_list("fq") == ["type:adres", 'gemeentenaam:"Amsterdam"']


def test_not_found_is_an_empty_list():
    assert client_for(FakePdok("not-found")).free("Nergensstraat 1") == []


def test_reverse_gives_the_nearest_address_with_its_distance():
    fake = FakePdok("found", reverse_found(WESTERDOKSDIJK_40A, 3.2))
    found = client_for(fake).reverse(52.38775, 4.89255, distance_m=50)

    assert found.display_name == "Westerdoksdijk 40A, 1013AE Amsterdam"
    assert found.distance_m == 3.2
    assert fake.requests[0].url.path.endswith("/reverse")
    assert fake.requests[0].url.params["distance"] == "50"


def test_reverse_with_nothing_near_is_none():
    assert client_for(FakePdok("not-found")).reverse(53.5, 4.0) is None


@pytest.mark.parametrize("mode", ["slow", "down", "500", "garbage", "wrong-json"])
def test_pdok_failing_raises_geocoder_unavailable_and_nothing_else(mode):
    client = client_for(FakePdok(mode))
    with pytest.raises(GeocoderUnavailable):
        client.free("Westerdoksdijk 40A")
    with pytest.raises(GeocoderUnavailable):
        client.reverse(52.3877, 4.8926)


def test_answers_are_cached_and_failures_are_not():
    fake = FakePdok("500")
    client = client_for(fake)
    with pytest.raises(GeocoderUnavailable):
        client.free("Westerdoksdijk 40A")
    fake.mode = "found"
    assert client.free("Westerdoksdijk 40A")[0].street == "Westerdoksdijk"
    assert client.free("  Westerdoksdijk   40A ")[0].street == "Westerdoksdijk"
    assert len(fake.requests) == 2


def test_cache_entries_expire():
    fake = FakePdok("found")
    client = client_for(fake, cache_ttl=0)
    client.free("Westerdoksdijk 40A")
    client.free("Westerdoksdijk 40A")
    assert len(fake.requests) == 2


def test_switched_off_client_makes_no_request():
    client = PdokClient("off")
    assert client.free("Westerdoksdijk 40A") == []
    assert client.reverse(52.3877, 4.8926) is None


def test_client_has_a_short_timeout_by_default():
    client = PdokClient("https://pdok.test/v3_1", transport=FakePdok().transport)
    assert client._client.timeout == httpx.Timeout(2.0)


@pytest.mark.parametrize(
    "doc",
    [
        {"weergavenaam": "no point"},
        {"centroide_ll": "POINT(nonsense)"},
        {"centroide_ll": "POINT(4.9 52.3)", "huisnummer": "veertig"},
        "not a dict",
    ],
)
def test_unusable_docs_are_skipped(doc):
    assert parse_doc(doc) is None


def test_garbage_docs_among_good_ones_are_skipped():
    fake = FakePdok("found", free_found(WESTERDOKSDIJK_40A, {"centroide_ll": None, "score": 3}))
    assert [a.street for a in client_for(fake).free("Westerdoksdijk")] == ["Westerdoksdijk"]


def test_a_server_that_never_answers_is_given_up_on_after_the_timeout():
    import socket
    import time

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)  # accepts the connection, never answers
    try:
        client = PdokClient(f"http://127.0.0.1:{server.getsockname()[1]}/v3_1", timeout=0.3)
        started = time.monotonic()
        with pytest.raises(GeocoderUnavailable, match="timed out"):
            client.free("Westerdoksdijk 40A")
        assert time.monotonic() - started < 2
        client.close()
    finally:
        server.close()
