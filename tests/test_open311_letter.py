"""Open311 GeoReport v2 to the letter: optional description with media, media_url fetched like a chat photo,
address_id kept, jurisdiction_id checked, JSON bodies, "long" named as such, the spec's error body for a wrong
method, and FixMyStreet's servicerequestupdates extension."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from fake_platforms import jpeg_bytes
from sqlalchemy import select
from werkzeug.wrappers import Response

from meldingen.extensions import db
from meldingen.media.models import Photo
from meldingen.reports.models import Report
from meldingen.reports.services import change_status
from tests.factories import AMSTERDAM

pytestmark = pytest.mark.rolled_back  # one shared database, rolled back after each test

BASE = "/open311/v2"
SUB = "onderhoud-stoep-straat-en-fietspad"


@pytest.fixture
def app_config(request):
    """Tests fetch from a loopback server over http, which production refuses (see the test that says so)."""
    return getattr(request, "param", {"OPEN311_MEDIA_ALLOW_HTTP": True, "OPEN311_MEDIA_ALLOW_PRIVATE": True})


def post(client, token, fmt="json", **fields):
    data = {"api_key": token, "service_code": SUB, "lat": str(AMSTERDAM[0]), "long": str(AMSTERDAM[1]),
            "description": "Losse stoeptegel bij de ingang"}
    data.update(fields)
    return client.post(f"{BASE}/requests.{fmt}", data={k: v for k, v in data.items() if v is not None})


def report_of(response) -> Report:
    assert response.status_code == 201, response.data
    return db.session.scalar(select(Report).where(Report.reference == response.json[0]["service_request_id"]))


def test_description_may_be_left_out_when_a_photo_is_sent_by_media_url(client, make_staff, fake):
    fake.route("GET", "/foto.jpg")(lambda r: Response(jpeg_bytes(), content_type="image/jpeg"))
    _, token = make_staff("agent", "GM0363")
    report = report_of(post(client, token, description=None, media_url=f"{fake.url}/foto.jpg"))
    photos = db.session.scalars(select(Photo).where(Photo.report_id == report.id)).all()
    assert len(photos) == 1 and photos[0].source == "open311"

    refused = post(client, token, description=None)
    assert refused.status_code == 400 and "description" in refused.json[0]["description"]


def test_media_url_that_is_not_an_image_is_a_400_with_the_reason_and_makes_no_report(client, make_staff, fake):
    fake.route("GET", "/page.html")(lambda r: Response("<html></html>", content_type="text/html"))
    _, token = make_staff("agent", "GM0363")
    response = post(client, token, media_url=f"{fake.url}/page.html")
    assert response.status_code == 400
    assert "media_url" in response.json[0]["description"] and "refused" in response.json[0]["description"]
    assert db.session.scalars(select(Report)).all() == []


@pytest.mark.parametrize("url", ["http://[::1", "ftp://example.nl/x.jpg", "http:///x.jpg", "http://x:port/y"])
def test_malformed_media_url_is_a_400_naming_media_url(client, make_staff, url):
    _, token = make_staff("agent", "GM0363")
    response = post(client, token, media_url=url)
    assert response.status_code == 400 and "media_url" in response.json[0]["description"]


@pytest.mark.parametrize("app_config", [{}], indirect=True)
def test_media_url_on_loopback_or_plain_http_is_not_fetched_in_production(client, make_staff, fake):
    fake.route("GET", "/foto.jpg")(lambda r: Response(jpeg_bytes(), content_type="image/jpeg"))
    _, token = make_staff("agent", "GM0363")
    response = post(client, token, media_url=f"{fake.url}/foto.jpg")
    assert response.status_code == 400 and "https only" in response.json[0]["description"]
    assert fake.requests_to("/foto.jpg") == []
    assert db.session.scalars(select(Report)).all() == []


def test_media_check_refuses_private_addresses_and_allows_public_ones():
    from meldingen.open311.media import MediaURLRefused, check_fetchable

    for url in ("https://127.0.0.1/x.jpg", "https://10.1.2.3/x.jpg", "https://[::1]/x.jpg",
                "https://169.254.169.254/latest", "https://localhost/x.jpg"):
        with pytest.raises(MediaURLRefused):
            check_fetchable(url, allow_http=False, allow_private=False)
    check_fetchable("https://8.8.8.8/x.jpg", allow_http=False, allow_private=False)


def test_address_id_is_kept_and_returned(client, make_staff):
    _, token = make_staff("agent", "GM0363")
    report = report_of(post(client, token, address_id="0363200000123456"))
    got = client.get(f"{BASE}/requests/{report.reference}.json").json[0]
    assert got["address_id"] == "0363200000123456"
    root = ET.fromstring(client.get(f"{BASE}/requests/{report.reference}.xml").data)
    assert root.findtext("request/address_id") == "0363200000123456"


def test_jurisdiction_id_must_be_one_the_service_point_serves(client, make_staff):
    _, token = make_staff("agent", "GM0363")
    assert post(client, token, jurisdiction_id="GM0363").status_code == 201
    assert post(client, token, jurisdiction_id="").status_code == 201  # empty is the same as absent
    refused = post(client, token, jurisdiction_id="sfgov.org")
    assert refused.status_code == 404 and "GM0363" in refused.json[0]["description"]
    assert client.get(f"{BASE}/services.json", query_string={"jurisdiction_id": "sfgov.org"}).status_code == 404
    assert client.get(f"{BASE}/services.json", query_string={"jurisdiction_id": "gm0363"}).status_code == 200


def test_a_json_body_is_read_like_a_form_with_its_api_key(client, make_staff):
    _, token = make_staff("agent", "GM0363")
    response = client.post(f"{BASE}/requests.json", json={
        "api_key": token, "service_code": SUB, "lat": AMSTERDAM[0], "long": AMSTERDAM[1],
        "description": "Losse stoeptegel"})
    assert response.status_code == 201, response.json
    assert client.post(f"{BASE}/requests.json", json=[1]).status_code == 400


@pytest.mark.parametrize("long", ["abc", "500", "nan"])
def test_a_bad_long_is_named_long(client, make_staff, long):
    _, token = make_staff("agent", "GM0363")
    response = post(client, token, long=long)
    assert response.status_code == 400
    assert "long" in response.json[0]["description"] and "lon " not in response.json[0]["description"]


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_a_wrong_method_answers_the_spec_error_body_with_allow(client, fmt):
    response = client.put(f"{BASE}/requests.{fmt}")
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    if fmt == "xml":
        root = ET.fromstring(response.data)
        assert root.tag == "errors" and root.findtext("error/code") == "405"
    else:
        assert response.json[0]["code"] == 405


def test_servicerequestupdates_lists_status_changes_in_public_words_only(client, make_staff):
    staff, token = make_staff("agent", "GM0363")
    report = report_of(post(client, token))
    change_status(report, "in_progress", "intern: ploeg 3", actor=staff.email, actor_id=staff.id)
    change_status(report, "done", "intern: klaar, bon 4411", actor=staff.email, actor_id=staff.id,
                  resident_message="De tegel ligt weer vast. Vragen: 06-12345678")
    db.session.commit()

    updates = client.get(f"{BASE}/servicerequestupdates.json").json
    mine = [u for u in updates if u["service_request_id"] == report.reference]
    assert [u["external_status_code"] for u in mine][-2:] == ["in_progress", "done"]
    # The status's public name, and the message to residents redacted; never the internal note.
    assert mine[-2]["status"] == "open" and mine[-2]["description"] == "In behandeling"
    assert mine[-1]["status"] == "closed"
    assert mine[-1]["description"] == "Afgehandeld: De tegel ligt weer vast. Vragen: [telefoonnummer]"
    assert "ploeg 3" not in str(updates) and "4411" not in str(updates) and "12345678" not in str(updates)
    assert all(u["update_id"] and u["updated_datetime"] for u in mine)

    root = ET.fromstring(client.get(f"{BASE}/servicerequestupdates.xml").data)
    assert root.tag == "service_requests_updates" and root.find("request_update/update_id") is not None
    assert client.get(f"{BASE}/servicerequestupdates.json",
                      query_string={"start_date": "2026-01-01T00:00:00Z"}).status_code == 400
    assert client.get(f"{BASE}/servicerequestupdates.json", query_string={
        "start_date": "0001-01-01T00:00:00+14:00", "end_date": "0001-01-02T00:00:00Z"}).status_code == 400
