"""Reports made with a typed address or a point: PDOK faked at its HTTP boundary; the report is always made."""

import pytest
from pdok_fakes import RAADHUISPLEIN_EMMEN, FakePdok, free_found

from meldingen.reports.models import Report


@pytest.fixture
def fake_pdok():
    return FakePdok("found", free_found(RAADHUISPLEIN_EMMEN))


@pytest.fixture
def app_config(fake_pdok):
    return {"GEOCODER_URL": "https://pdok.test/bzk/locatieserver/search/v3_1", "GEOCODER_TRANSPORT": fake_pdok.transport}


def post_report(client, auth, token, **body):
    body.setdefault("description", "Overal zwerfvuil op de stoep")
    body.setdefault("category", "veeg-zwerfvuil")
    return client.post("/api/v1/reports", json=body, headers=auth(token))


def test_typed_local_address_places_the_report_without_pdok(client, auth, make_staff, fake_pdok):
    _, token = make_staff("agent", "DSP")
    response = post_report(client, auth, token, address="westerdoksdijk 40 a")
    assert response.status_code == 201, response.get_json()
    report = response.get_json()
    assert report["address"]["street"] == "Westerdoksdijk" and report["address"]["number"] == "40A"
    assert report["areas"]["municipality"] == "GM0363" and report["organisation"] == "GM0363"
    assert fake_pdok.requests == []


def test_address_found_by_pdok_places_the_report_in_its_municipality(client, auth, make_staff, fake_pdok):
    _, token = make_staff("agent", "DSP")
    response = post_report(client, auth, token, address="Raadhuisplein 1, Emmen")
    assert response.status_code == 201, response.get_json()
    report = response.get_json()
    assert report["areas"]["municipality"] == "GM0114"
    assert report["organisation"] == "GM0114"
    assert len(fake_pdok.requests) == 1


@pytest.mark.parametrize("mode", ["not-found", "slow", "down", "500", "garbage", "wrong-json"])
def test_report_is_still_made_when_pdok_cannot_place_the_address(app, client, auth, make_staff, fake_pdok, mode):
    fake_pdok.mode = mode
    _, token = make_staff("agent", "DSP")
    response = post_report(client, auth, token, address="Raadhuisplein 1, Emmen")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["address"] is None and body["location"] is None
    report = app.extensions["sqlalchemy"].session.scalar(Report.__table__.select().where(
        Report.reference == body["reference"]).with_only_columns(Report.address_unknown))  # fmt: skip
    assert report is True


def test_point_in_rotterdam_is_refused_with_the_name_rotterdam(client, auth, make_staff):
    _, token = make_staff("agent", "DSP")
    response = post_report(client, auth, token, location={"lat": 51.9225, "lon": 4.47917})
    assert response.status_code == 422
    assert "Rotterdam" in response.get_json()["message"]


def test_lookup_api_gives_areas_address_and_organisation(client):
    body = client.get("/api/v1/geo/lookup", query_string={"lat": "52.3877221", "lon": "4.8925727"}).get_json()
    assert body["areas"]["municipality"] == "GM0363"
    assert body["organisation"] == "GM0363"
    assert body["address"] == {"street": "Westerdoksdijk", "number": "40A", "postcode": "1013AE",
                               "city": "Amsterdam", "distance_m": 0.0}  # fmt: skip
    assert body["asset"] is None and body["served"] is True


def test_lookup_api_names_the_municipality_that_is_not_served(client):
    body = client.get("/api/v1/geo/lookup", query_string={"lat": 51.9225, "lon": 4.47917}).get_json()
    assert body["areas"]["municipality"] == "GM0599" and body["area_names"]["municipality"] == "Rotterdam"
    assert body["organisation"] is None and body["served"] is False and body["in_netherlands"] is True


def test_lookup_api_outside_the_netherlands(client):
    body = client.get("/api/v1/geo/lookup", query_string={"lat": 50.8467, "lon": 4.3525}).get_json()
    assert body["in_netherlands"] is False and body["areas"]["municipality"] is None


def test_lookup_of_zero_zero_answers_outside_the_netherlands_as_the_document_allows(client):
    """(0, 0) is a real point (the Gulf of Guinea): the schema allows it, so the question gets its answer; only a
    report placed there is refused (a device without a position sends it)."""
    response = client.get("/api/v1/geo/lookup", query_string={"lat": "0", "lon": "0"})
    assert response.status_code == 200
    assert response.get_json()["in_netherlands"] is False and response.get_json()["served"] is False


@pytest.mark.parametrize("query", [{"lat": "abc", "lon": "4.9"}, {"lat": "95", "lon": "4"}])
def test_lookup_api_refuses_what_is_not_a_point(client, query):
    response = client.get("/api/v1/geo/lookup", query_string=query)
    assert response.status_code in (400, 422)  # 422: not a number or out of range by the schema; 400: no point
    body = response.get_json()
    assert body.get("message") or body.get("errors")


def test_the_report_carries_the_nearest_asset_of_its_categorys_type(app, tmp_path):
    """A broken light is about the nearest street light, not the container beside it; a loose tile has none."""
    from meldingen.geo.imports import import_assets
    from tests.factories import make_report

    (tmp_path / "a.csv").write_text("id,lat,lon,kind\nC-1,52.38772,4.89257,container\nL-7,52.38780,4.89270,light\n")
    import_assets(tmp_path / "a.csv", "container", "id")
    (tmp_path / "l.csv").write_text("id,lat,lon\nL-7,52.38780,4.89270\n")
    import_assets(tmp_path / "l.csv", "street_light", "id")
    light = make_report("Lamp kapot", point=(52.3877221, 4.8925727), category="straatverlichting-openbare-klok")
    assert (light.asset_type, light.asset_external_id) == ("street_light", "L-7")
    tile = make_report("Losse tegel", point=(52.3877221, 4.8925727))
    assert tile.asset_type is None
