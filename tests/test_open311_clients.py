"""Open311 to the letter for clients: a request merged into a known one answers the known id and says so; a photo
that cannot be had is a 400 with the reason, a photo file is stored or refused; Bearer keys; JSON for unknown .json
paths; a W3C changeset; no chat words; POST limits per key."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from meldingen.extensions import db
from meldingen.media.models import Photo
from meldingen.reports.models import Report
from tests.factories import AMSTERDAM, make_report
from tests.fake_platforms import jpeg_bytes

pytestmark = pytest.mark.rolled_back  # one shared database, rolled back after each test

BASE = "/open311/v2"
SUB = "onderhoud-stoep-straat-en-fietspad"
LOOPBACK_ALLOWED = {"OPEN311_MEDIA_ALLOW_HTTP": True, "OPEN311_MEDIA_ALLOW_PRIVATE": True}


@pytest.fixture
def app_config(request):
    return getattr(request, "param", LOOPBACK_ALLOWED)


@pytest.fixture
def key(runner):
    result = runner.invoke(args=["open311", "key", "Buurt-app", "--organisation", "GM0363"])
    assert result.exit_code == 0
    return result.output.strip()


def fields(**extra) -> dict:
    data = {"service_code": SUB, "lat": str(AMSTERDAM[0]), "long": str(AMSTERDAM[1]),
            "description": "Losse stoeptegel voor de deur"}
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def reports() -> int:
    return db.session.scalar(select(func.count()).select_from(Report))


def test_a_request_merged_into_a_known_one_answers_the_known_id_and_says_so(client, key):
    known = make_report("Losse stoeptegel voor de deur")
    response = client.post(f"{BASE}/requests.json", data=fields(api_key=key))
    assert response.status_code == 201
    [answer] = response.json
    assert answer["service_request_id"] == known.reference
    assert known.reference in answer["service_notice"] and "al gemeld" in answer["service_notice"]
    shown = client.get(f"{BASE}/requests/{answer['service_request_id']}.json").json[0]
    assert shown["status"] == "open"
    assert reports() == 2  # the new one is kept, merged: its resident's words are not lost


def test_a_request_not_merged_answers_its_own_id_without_a_merge_notice(client, key):
    response = client.post(f"{BASE}/requests.json", data=fields(api_key=key))
    [answer] = response.json
    assert answer["service_request_id"] == db.session.scalar(select(Report.reference))
    assert "al gemeld" not in (answer["service_notice"] or "")


@pytest.mark.parametrize("app_config, path, reason", [
    ({}, "/foto.jpg", "https only"),
    ({"OPEN311_MEDIA_ALLOW_HTTP": True}, "/foto.jpg", "non-public address"),
    (LOOPBACK_ALLOWED, "/page.html", "refused"),
    (LOOPBACK_ALLOWED, "/gone.jpg", "refused"),
], indirect=["app_config"])
def test_a_refused_media_url_is_a_400_with_the_reason_in_the_error_array(client, key, fake, path, reason):
    fake.route("GET", "/foto.jpg")(lambda r: Response(jpeg_bytes(), content_type="image/jpeg"))
    fake.route("GET", "/page.html")(lambda r: Response("<html></html>", content_type="text/html"))
    for fmt in ("json", "xml"):
        response = client.post(f"{BASE}/requests.{fmt}", data=fields(api_key=key, media_url=f"{fake.url}{path}"))
        assert response.status_code == 400
        text = response.get_data(as_text=True)
        assert "media_url" in text and reason in text
    assert reports() == 0


def test_a_photo_file_is_stored_with_the_request(client, key):
    response = client.post(f"{BASE}/requests.json", content_type="multipart/form-data",
                           data={**fields(api_key=key, description=None),
                                 "media": (io.BytesIO(jpeg_bytes()), "foto.jpg", "image/jpeg")})
    assert response.status_code == 201, response.json
    report = db.session.scalar(select(Report))
    [photo] = db.session.scalars(select(Photo).where(Photo.report_id == report.id)).all()
    assert photo.source == "open311"


def test_a_file_that_is_not_a_photo_is_refused_with_the_reason(client, key):
    response = client.post(f"{BASE}/requests.json", content_type="multipart/form-data",
                           data={**fields(api_key=key), "media": (io.BytesIO(b"%PDF-1.4 no photo"), "brief.pdf")})
    assert response.status_code == 400
    assert "photo file" in response.json[0]["description"] and "refused" in response.json[0]["description"]
    assert reports() == 0


def test_an_open311_key_works_as_a_bearer_token(client, key):
    created = client.post(f"{BASE}/requests.json", data=fields(), headers={"Authorization": f"Bearer {key}"})
    assert created.status_code == 201, created.json
    wrong = client.post(f"{BASE}/requests.json", data=fields(), headers={"Authorization": "Bearer o311_wrong"})
    assert wrong.status_code == 403 and "Invalid api_key" in wrong.json[0]["description"]


@pytest.mark.parametrize("path", ["/open311/v2/nothing.json", "/open311/v2/requests/x/y.json", "/open311/x.json"])
def test_an_unknown_json_path_answers_the_spec_error_array_in_json(client, path):
    response = client.get(path)
    assert response.status_code == 404 and response.mimetype == "application/json"
    assert response.json[0]["code"] == 404 and response.json[0]["description"]


def test_the_discovery_changeset_is_a_w3c_date_time(client):
    discovery = client.get(f"{BASE}/discovery.json").json
    for changeset in (discovery["changeset"], discovery["endpoints"][0]["changeset"]):
        assert "T" in changeset and datetime.fromisoformat(changeset).tzinfo is not None


def test_no_open311_answer_speaks_of_the_chat(client, key):
    created = client.post(f"{BASE}/requests.xml", data=fields(api_key=key, service_code="veeg-zwerfvuil"))
    assert created.status_code == 201
    listed = client.get(f"{BASE}/requests.json").get_data(as_text=True)
    from meldingen.categories.models import Category

    category = db.session.scalar(select(Category).where(Category.slug == "veeg-zwerfvuil"))
    assert "chat" in (category.resident_text or ""), "the sample's handling text is written for the chat"
    for text in (created.get_data(as_text=True), listed):
        assert "chat" not in text.lower()
    assert client.get(f"{BASE}/requests.json").json[0]["service_notice"]


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True, "LIMIT_OPEN311_POST_KEY": "4 per minute",
                                         "LIMIT_OPEN311_POST_IP": "2 per minute"}], indirect=True)
def test_posts_with_a_key_count_per_key_not_per_address(client, key):
    codes = [client.post(f"{BASE}/requests.json", data=fields(api_key=key, lat=str(AMSTERDAM[0] + i * 0.002)))
             .status_code for i in range(5)]
    assert codes == [201, 201, 201, 201, 429]
    without = [client.post(f"{BASE}/requests.json", data=fields()).status_code for _ in range(3)]
    assert without == [403, 403, 429]
