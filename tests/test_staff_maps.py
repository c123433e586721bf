"""Maps with streets by default: PDOK's BRT-Achtergrondkaart on every staff and resident map unless the operator
sets another or none, allowed by the staff pages' CSP; the chat's pin map starts in its municipality."""

from __future__ import annotations

import pytest

from meldingen.config import DEFAULTS
from tests.factories import make_report

pytestmark = pytest.mark.rolled_back  # one shared database, rolled back after each test

PDOK = "https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/standaard/EPSG:3857/{z}/{x}/{y}.png"
PASSWORD = "correct horse battery"


def test_the_default_base_map_is_pdoks_brt_achtergrondkaart_with_kadasters_attribution():
    assert DEFAULTS["TILE_URL"] == PDOK
    assert "Kaartgegevens" in DEFAULTS["TILE_ATTRIBUTION"] and "Kadaster" in DEFAULTS["TILE_ATTRIBUTION"]


@pytest.mark.parametrize("app_config", [{"TILE_URL": PDOK, "TILE_ATTRIBUTION": DEFAULTS["TILE_ATTRIBUTION"]}])
def test_every_map_carries_the_tiles_and_the_csp_allows_their_host(app, make_staff, app_config):
    report = make_report()
    user, _ = make_staff("head", "GM0363")
    client = app.test_client()
    client.post("/staff/login", data={"email": user.email, "password": PASSWORD})
    for path in ("/staff/map", f"/staff/reports/{report.reference}", "/staff/backlog"):
        page = client.get(path)
        assert 'data-tile-url="https://service.pdok.nl/brt/' in page.get_data(as_text=True), path
        assert "img-src 'self' data: blob: https://service.pdok.nl;" in page.headers["Content-Security-Policy"]
    assert 'data-tile-url="https://service.pdok.nl/brt/' in client.get("/chat").get_data(as_text=True)


def test_with_tiles_off_maps_show_outlines_only_and_a_report_page_has_a_small_map_of_the_spot(app, make_staff):
    report = make_report()
    user, _ = make_staff("crew", "GM0363", report.department.code)
    client = app.test_client()
    client.post("/staff/login", data={"email": user.email, "password": PASSWORD})
    page = client.get("/staff/map")
    assert 'data-tile-url=""' in page.get_data(as_text=True)
    assert "img-src 'self' data: blob:;" in page.headers["Content-Security-Policy"]
    page = client.get(f"/staff/reports/{report.reference}").get_data(as_text=True)
    assert 'id="spot-map"' in page and f'data-lat="{report.lat:.6f}"' in page and 'data-status="new"' in page


def test_the_chat_pin_map_starts_in_the_municipality_of_the_page_else_over_those_served(client):
    def bounds(query):
        page = client.get(f"/chat{query}")
        assert page.status_code == 200
        return map(float, page.get_data(as_text=True).split('data-map-bounds="')[1].split('"')[0].split(","))

    for query, (south, north, west, east) in (("?gemeente=GM0114", (52.6, 52.95, 6.7, 7.2)),  # Emmen
                                              ("?gemeente=gm0363", (52.25, 52.45, 4.7, 5.2))):  # Amsterdam
        s, w, n, e = bounds(query)
        assert south < s < n < north and west < w < e < east, query
    for query in ("", "?gemeente=GM9999", "?gemeente=<script>"):  # not all of the Netherlands
        s, w, n, e = bounds(query)
        assert 50.7 < s < n < 53.6 and 3.3 < w < e < 7.3
