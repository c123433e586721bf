"""Large machine answers go out compressed where the client accepts it, and the crew map's pins answer 304 when
they have not changed (issue 25: the map GeoJSON went out uncompressed, no-store, without an ETag)."""

from __future__ import annotations

import gzip
import json

import pytest

from tests.factories import make_report

pytestmark = pytest.mark.rolled_back

PASSWORD = "correct horse battery"


@pytest.fixture
def crew_client(app, make_staff):
    from meldingen.extensions import db

    for number in range(30):  # 30 places some 200 m apart: no two are one problem
        point = (52.372 + 0.002 * (number // 6), 4.880 + 0.003 * (number % 6))
        make_report(f"Losse stoeptegel nummer {number} bij de ingang van het park, graag snel maken", point=point)
    db.session.commit()
    user, _ = make_staff("head")  # sees every open report of the organisation
    client = app.test_client()
    assert client.post("/staff/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return client


def test_the_map_pins_go_out_compressed_and_answer_304_when_unchanged(crew_client):
    first = crew_client.get("/staff/map/reports.geojson", headers={"Accept-Encoding": "gzip"})
    assert first.status_code == 200
    assert first.headers["Content-Encoding"] == "gzip"
    pins = json.loads(gzip.decompress(first.get_data()))
    assert len(pins["features"]) >= 30
    assert "no-store" not in first.headers["Cache-Control"] and "private" in first.headers["Cache-Control"]
    etag = first.headers["ETag"]
    again = crew_client.get("/staff/map/reports.geojson", headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""


def test_the_map_pins_change_their_etag_when_a_pin_changes(crew_client):
    from meldingen.extensions import db

    etag = crew_client.get("/staff/map/reports.geojson").headers["ETag"]
    make_report("Lantaarnpaal kapot, het is hier heel donker 's avonds")
    db.session.commit()
    after = crew_client.get("/staff/map/reports.geojson", headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["ETag"] != etag


def test_without_accept_encoding_the_answer_is_plain(crew_client):
    response = crew_client.get("/staff/map/reports.geojson")
    assert "Content-Encoding" not in response.headers
    assert json.loads(response.get_data())["type"] == "FeatureCollection"


def test_pages_are_never_compressed(crew_client):
    """A page holds a CSRF token next to what the user typed: compressing it would invite BREACH."""
    response = crew_client.get("/staff/map", headers={"Accept-Encoding": "gzip, br"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "Content-Encoding" not in response.headers
