"""POST /webhooks/twilio: X-Twilio-Signature over the public URL, messages and status callbacks, media safely."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import pytest
from fake_platforms import jpeg_bytes
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from meldingen.channels import twilio
from meldingen.channels.models import InboundEvent
from meldingen.extensions import db
from meldingen.media.models import Photo
from meldingen.notify.models import OutboundMessage
from meldingen.residents.models import Reporter

PAYLOADS = Path(__file__).parent / "payloads" / "twilio"
PUBLIC = "https://meldingen.example.nl"
SID, TOKEN = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "twilio-auth-token"


@pytest.fixture
def app_config(fake):
    return {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_FROM": "whatsapp:+14155238886",
            "TWILIO_API_URL": fake.url, "PUBLIC_URL": PUBLIC}


def load(name: str) -> dict:
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def post(client, form: dict, signed_url: str = f"{PUBLIC}/webhooks/twilio", token: str = TOKEN,
         signature: str | None = "sign", path: str = "/webhooks/twilio"):
    headers = {}
    if signature == "sign":
        headers["X-Twilio-Signature"] = twilio.compute_signature(token, signed_url, form)
    elif signature is not None:
        headers["X-Twilio-Signature"] = signature
    return client.post(path, data=form, headers=headers)


def events():
    return db.session.scalars(select(InboundEvent).order_by(InboundEvent.id)).all()


def test_signed_sms_is_stored_and_answered_with_empty_twiml(client):
    response = post(client, load("sms_text"))
    assert response.status_code == 200 and response.mimetype == "text/xml" and b"<Response>" in response.data
    (event,) = events()
    assert event.external_key == "SM1f0e8ae6ade43cb3c0ce4525424e404f"
    assert event.payload["message"]["text"] == "Lantaarnpaal kapot Dorpsstraat 3"


def test_signature_over_the_url_with_port_443_is_accepted(client):
    assert post(client, load("sms_text"), signed_url=f"{PUBLIC}:443/webhooks/twilio").status_code == 200


def test_signature_covers_the_query_string(client):
    form = load("sms_text")
    assert post(client, form, signed_url=f"{PUBLIC}/webhooks/twilio?channel=2",
                 path="/webhooks/twilio?channel=2").status_code == 200
    assert post(client, {**form, "MessageSid": "SM2"}, signed_url=f"{PUBLIC}/webhooks/twilio",
                path="/webhooks/twilio?channel=2").status_code == 403


@pytest.mark.parametrize("how", ["missing", "wrong token", "wrong url", "tampered"])
def test_bad_signatures_are_forbidden_and_store_nothing(client, how):
    form = load("sms_text")
    if how == "missing":
        response = post(client, form, signature=None)
    elif how == "wrong token":
        response = post(client, form, token="other")
    elif how == "wrong url":
        response = post(client, form, signed_url="https://elsewhere.example/webhooks/twilio")
    else:
        signature = twilio.compute_signature(TOKEN, f"{PUBLIC}/webhooks/twilio", form)
        response = post(client, {**form, "Body": "iets anders"}, signature=signature)
    assert response.status_code == 403
    assert events() == []


def test_json_body_is_verified_by_its_body_sha256(client):
    body = json.dumps(load("status_delivered")).encode()
    path = f"/webhooks/twilio?bodySHA256={hashlib.sha256(body).hexdigest()}"
    signature = twilio.compute_signature(TOKEN, PUBLIC + path, {})
    ok = client.post(path, data=body, content_type="application/json", headers={"X-Twilio-Signature": signature})
    assert ok.status_code == 200
    bad = client.post(path, data=body + b" ", content_type="application/json",
                      headers={"X-Twilio-Signature": signature})
    assert bad.status_code == 403


def test_replays_and_parallel_duplicates_store_one_event(app):
    form = load("whatsapp_location_named")
    barrier = threading.Barrier(6)
    codes = []

    def deliver():
        client = app.test_client()
        barrier.wait()
        codes.append(post(client, form).status_code)

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    assert codes == [200] * 6
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(InboundEvent)) == 1


def test_form_not_of_the_platform_shape_gets_400(client):
    assert post(client, {"Body": "hallo"}).status_code == 400


def test_message_with_fields_that_cannot_be_read_is_kept_with_its_reason_and_answered_200(client):
    form = {**load("sms_text"), "NumMedia": "1"}  # MediaUrl0 missing
    response = post(client, form)
    assert response.status_code == 200 and b"<Response>" in response.data
    (event,) = events()
    assert event.external_key == f"unreadable:{form['MessageSid']}" and event.state == "unreadable"
    # Kept as sent, after the one normalisation at the door (the sample's NUL is taken out, issue 14).
    assert event.error == "MediaUrl0 is missing" and event.payload["raw"]["Body"] == form["Body"].replace("\x00", "")


@pytest.mark.parametrize("name", ["whatsapp_location_pin", "whatsapp_button", "whatsapp_voice"])
def test_other_messages_are_stored(client, name):
    assert post(client, load(name)).status_code == 200
    assert len(events()) == 1


def test_status_callbacks_are_recorded_against_the_message_we_sent(client):
    reporter = Reporter(channel_kind="twilio", platform_id="+31612345678")
    db.session.add(reporter)
    db.session.flush()
    sent = OutboundMessage(idempotency_key="t1", channel_kind="twilio", reporter_id=reporter.id, body="b",
                           state="sent", platform_message_id="SMout0001")
    failed = OutboundMessage(idempotency_key="t2", channel_kind="twilio", reporter_id=reporter.id, body="b",
                             state="sent", platform_message_id="SMout0002")
    db.session.add_all([sent, failed])
    db.session.commit()
    assert post(client, load("status_delivered")).status_code == 200
    assert post(client, load("status_failed")).status_code == 200
    assert post(client, load("status_delivered")).status_code == 200  # repeated callback
    db.session.refresh(sent)
    db.session.refresh(failed)
    assert sent.state == "delivered" and failed.state == "failed" and failed.last_error.startswith("63016")
    assert len(events()) == 2


def test_media_are_fetched_with_credentials_on_twilio_and_without_on_the_cdn_redirect(client, fake):
    form = load("whatsapp_image")
    for index, name in enumerate(("ME111", "ME222")):
        path = f"/2010-04-01/Accounts/{SID}/Messages/MM7a2b3c4d5e6f708192a3b4c5d6e7f809/Media/{name}"
        form[f"MediaUrl{index}"] = fake.url + path
        fake.route("GET", path)(lambda r, n=name: Response(status=307, headers={
            "Location": f"{fake.other_host_url}/cdn/{n}"}))
        fake.route("GET", f"/cdn/{name}")(lambda r: Response(jpeg_bytes(), mimetype="image/jpeg"))
    assert post(client, form).status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Photo)) == 2
    on_twilio = [s for s in fake.requests_to("/2010-04-01/") if "/Media/" in s.path]
    on_cdn = fake.requests_to("/cdn/")
    assert len(on_twilio) == 2 and all(s.headers.get("Authorization", "").startswith("Basic ") for s in on_twilio)
    assert len(on_cdn) == 2 and not any("Authorization" in s.headers for s in on_cdn)


def test_media_url_on_another_host_is_never_fetched_with_credentials(client, fake):
    form = load("whatsapp_image")
    form["NumMedia"] = "1"
    form["MediaUrl0"] = f"{fake.other_host_url}/2010-04-01/Accounts/{SID}/Messages/MM1/Media/ME1"
    del form["MediaUrl1"], form["MediaContentType1"]
    assert post(client, form).status_code == 200
    assert not [s for s in fake.seen if "/Media/" in s.path]  # the intake's reply may go out; no media fetch
    (event,) = events()
    assert "not on the Twilio API host" in event.payload["media_errors"][0]
