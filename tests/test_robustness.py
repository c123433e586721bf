"""No 500s from anything a user or a platform can send: odd input to every public endpoint gets a 4xx or 2xx."""

import pytest


@pytest.fixture
def backend():
    """Input handling does not depend on the database: SQLite only, to keep the suite quick."""
    return "sqlite"


ODD_VALUES = ["", " ", "0", "-0", "nan", "NaN", "inf", "-inf", "1e309", "52,37", "ＭＡＸ", "\x00", "%00",
              "<script>alert(1)</script>", "' OR 1=1 --", "9" * 400, "☃" * 50, "52.3731;4.89"]


@pytest.mark.parametrize("value", ODD_VALUES)
def test_geo_lookup_never_fails_with_a_500(client, value):
    for query in (f"lat={value}&lon=4.89", f"lat=52.37&lon={value}", f"lat={value}", "", f"lat={value}&lon={value}"):
        response = client.get("/api/v1/geo/lookup", query_string=query)
        assert response.status_code < 500, (query, response.status_code)


@pytest.mark.parametrize("value", ODD_VALUES + ["Westerdoksdijk 40A" * 200, "1013AE" * 50, "M-" + "Z" * 100])
def test_geo_search_never_fails_with_a_500(client, value):
    response = client.get("/api/v1/geo/search", query_string={"q": value})
    assert response.status_code < 500


@pytest.mark.parametrize("body", [b"", b"{", b"[]", b"null", b'{"text": 5}', b'{"text": null}',
                                  b'{"text": "' + b"a" * 200_000 + b'"}', "\u00ff\u00fe".encode("latin-1")])
def test_json_endpoints_refuse_bad_bodies_with_a_4xx(client, auth, make_staff, body):
    _, token = make_staff("head", "GM0363")
    headers = {**auth(token), "Content-Type": "application/json"}
    for url in ("/api/v1/classify", "/api/v1/reports", "/api/v1/routing-rules"):
        response = client.post(url, data=body, headers=headers)
        assert response.status_code < 500, (url, body[:20], response.status_code)


@pytest.mark.parametrize("path", ["/open311/v2/requests.json", "/open311/v2/requests.xml",
                                  "/open311/v2/services/%00.json", "/open311/v2/requests/M-%3Cx%3E.json",
                                  "/open311/v2/tokens/..%2F..%2Fetc.xml", "/open311/v2/discovery.yaml"])
def test_open311_odd_paths_and_queries(client, path):
    for query in ("", "start_date=gisteren", "status=maybe", "lat=x&long=y&radius=-1", "page=-5", "page_size=9e9"):
        response = client.get(path, query_string=query)
        assert response.status_code < 500, (path, query, response.status_code)


@pytest.mark.parametrize("url", ["/webhooks/whatsapp", "/webhooks/telegram", "/webhooks/twilio"])
@pytest.mark.parametrize("body", [b"", b"{}", b"garbage", b"\xff\xfe\x00", b'{"entry": [null]}'])
def test_webhooks_refuse_unsigned_garbage_without_a_500(client, url, body):
    response = client.post(url, data=body, headers={"Content-Type": "application/json"})
    assert response.status_code in (400, 403, 404)


def test_unknown_report_reference_shapes_are_404s(client, auth, make_staff):
    _, token = make_staff("head", "GM0363")
    for reference in ("M-XXXXXX", "x" * 300, "%00", "M-2222222222", "..%2F"):
        response = client.get(f"/api/v1/reports/{reference}", headers=auth(token))
        assert response.status_code == 404
