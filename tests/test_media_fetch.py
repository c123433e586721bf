"""Media from a fake WhatsApp Graph API on loopback, through the worker, into stored photos; and staff uploads."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from fake_platforms import jpeg_bytes
from PIL import Image
from sqlalchemy import select
from test_media_images import jpeg_with_gps_and_orientation, png_declaring
from werkzeug.wrappers import Response

from meldingen.channels import whatsapp
from meldingen.channels.models import InboundEvent
from meldingen.extensions import db
from meldingen.media.models import Photo

BODY = (Path(__file__).parent / "payloads" / "whatsapp" / "image_caption.json").read_bytes()
MEDIA_ID = "1003383421387256"


@pytest.fixture
def app_config(fake):
    return {"WHATSAPP_APP_SECRET": "s", "WHATSAPP_ACCESS_TOKEN": "wa-token", "WHATSAPP_GRAPH_URL": f"{fake.url}/v21",
            "MAX_PHOTO_BYTES": 200_000}


def serve_media(fake, data: bytes, content_type: str = "image/jpeg", expire_first: bool = False):
    calls = {"n": 0}

    def meta(request):
        calls["n"] += 1
        return Response(json.dumps({"url": f"{fake.url}/lookaside/{calls['n']}", "mime_type": content_type}),
                        mimetype="application/json")

    def media(request):
        if request.headers.get("Authorization") != "Bearer wa-token":
            return Response("unauthorised", status=401)
        if expire_first and request.path.endswith("/1"):
            return Response("URL expired", status=404)
        return Response(data, mimetype=content_type)

    fake.route("GET", f"/v21/{MEDIA_ID}")(meta)
    for n in (1, 2, 3):
        fake.route("GET", f"/lookaside/{n}")(media)


def deliver(client):
    response = client.post("/webhooks/whatsapp", data=BODY, content_type="application/json",
                           headers={"X-Hub-Signature-256": whatsapp.sign("s", BODY)})
    assert response.status_code == 200
    return db.session.scalar(select(InboundEvent))


def stored_photos():
    return db.session.scalars(select(Photo)).all()


def test_phone_photo_arrives_upright_without_exif_and_with_its_gps(app, client, fake):
    serve_media(fake, jpeg_with_gps_and_orientation(6))
    deliver(client)
    (photo,) = stored_photos()
    stored = (Path(app.config["MEDIA_DIR"]) / photo.path).read_bytes()
    image = Image.open(io.BytesIO(stored))
    assert image.size == (100, 200) and not image.getexif()
    assert photo.gps_lat == pytest.approx(52.373, abs=1e-3) and photo.gps_lon == pytest.approx(4.893, abs=1e-3)
    thumbnail = Image.open(io.BytesIO((Path(app.config["MEDIA_DIR"]) / photo.thumbnail_path).read_bytes()))
    assert thumbnail.format == "JPEG"


def test_expired_media_url_is_asked_for_again(client, fake):
    serve_media(fake, jpeg_bytes(), expire_first=True)
    event = deliver(client)
    assert len(stored_photos()) == 1 and event.payload["media_errors"] == []
    assert len(fake.requests_to(f"/v21/{MEDIA_ID}")) == 2


def test_unknown_media_id_is_recorded_and_the_message_still_handled(client, fake):
    fake.route("GET", f"/v21/{MEDIA_ID}")(lambda r: Response(json.dumps(
        {"error": {"message": "Unsupported get request.", "code": 100}}), status=404, mimetype="application/json"))
    event = deliver(client)
    assert stored_photos() == [] and event.state == "done"
    assert "Unsupported get request" in event.payload["media_errors"][0]


def test_platform_down_is_retried_later(app, client, fake):
    fake.route("GET", f"/v21/{MEDIA_ID}")(lambda r: Response("busy", status=503))
    event = deliver(client)
    assert event.state == "pending"  # not done: a retry is scheduled
    assert app.extensions["meldingen_jobs_delayed"][-1][1] == "channels.process_event"


@pytest.mark.parametrize("data, reason", [
    (b"%PDF-1.7 not a photo", "not an image"),
    (png_declaring(40_000, 40_000), "pixels"),
    (b"\xff\xd8\xff" + b"\x00" * 300_000, "over the limit"),
])
def test_what_is_not_an_acceptable_image_is_refused_and_recorded(client, fake, data, reason):
    serve_media(fake, data)
    event = deliver(client)
    assert stored_photos() == []
    assert reason in event.payload["media_errors"][0]


def test_heic_document_is_converted(client, fake):
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "green").save(out, format="HEIF")
    serve_media(fake, out.getvalue(), content_type="image/heic")
    deliver(client)
    (photo,) = stored_photos()
    assert photo.content_type == "image/jpeg" and (photo.width, photo.height) == (40, 30)


# --- Staff uploads and serving ------------------------------------------------------------------------------


@pytest.fixture
def report_reference(client, make_staff, auth):
    _, token = make_staff("head")  # a role that may add photos (agents may not, as on the pages)
    response = client.post("/api/v1/reports", json={"description": "Losse stoeptegel",
                                                    "location": {"lat": 52.3731, "lon": 4.8926}}, headers=auth(token))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["reference"], token


def upload(client, reference, token, data: bytes, auth, name="foto.jpg"):
    return client.post(f"/api/v1/reports/{reference}/photos", headers=auth(token),
                       data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_staff_upload_answers_urls_served_only_to_staff_who_may_see_the_report(client, report_reference, auth,
                                                                               make_staff):
    reference, token = report_reference
    response = upload(client, reference, token, jpeg_with_gps_and_orientation(6), auth)
    assert response.status_code == 201
    urls = response.get_json()
    served = client.get(urls["url"], headers=auth(token))
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    image = Image.open(io.BytesIO(served.data))
    served.close()
    assert image.size == (100, 200) and not image.getexif()
    thumbnail = client.get(urls["thumbnail_url"], headers=auth(token))
    thumbnail.close()
    assert thumbnail.status_code == 200
    assert client.get(urls["url"]).status_code == 401
    _, outsider = make_staff("agent", organisation="GM0344")
    assert client.get(urls["url"], headers=auth(outsider)).status_code == 404
    report = client.get(f"/api/v1/reports/{reference}", headers=auth(token)).get_json()
    assert report["photos"] == [urls]


@pytest.mark.parametrize("data, status", [
    (b"%PDF-1.4 named like a photo", 415),
    (b"\xff\xd8\xff" + b"\x00" * 300_000, 413),
    (png_declaring(40_000, 40_000), 400),
])
def test_staff_upload_refuses_with_a_reason(client, report_reference, auth, data, status):
    reference, token = report_reference
    response = upload(client, reference, token, data, auth)
    assert response.status_code == status
    assert response.get_json()["message"]


def test_staff_upload_to_a_report_they_cannot_see_is_404(client, report_reference, auth, make_staff):
    reference, _ = report_reference
    _, outsider = make_staff("head", organisation="GM0344")
    assert upload(client, reference, outsider, jpeg_bytes(), auth).status_code == 404
