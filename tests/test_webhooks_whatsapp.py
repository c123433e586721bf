"""POST/GET /webhooks/whatsapp on a real app and database: verify, store once, answer 200, work after."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import pytest
from fake_platforms import jpeg_bytes
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from meldingen.channels import whatsapp
from meldingen.channels.models import Channel, InboundEvent
from meldingen.extensions import db
from meldingen.media.models import Photo
from meldingen.notify.models import OutboundMessage
from meldingen.residents.models import Reporter

PAYLOADS = Path(__file__).parent / "payloads" / "whatsapp"
SECRET = "whatsapp-app-secret"


@pytest.fixture
def app_config(fake):
    return {"WHATSAPP_APP_SECRET": SECRET, "WHATSAPP_VERIFY_TOKEN": "verify-me", "WHATSAPP_ACCESS_TOKEN": "wa-token",
            "WHATSAPP_GRAPH_URL": f"{fake.url}/v21.0"}


def body_of(name: str) -> bytes:
    return (PAYLOADS / f"{name}.json").read_bytes()


def post(client, body: bytes, secret: str = SECRET, signature: str | None = "sign"):
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        headers[whatsapp.SIGNATURE_HEADER] = whatsapp.sign(secret, body)
    elif signature is not None:
        headers[whatsapp.SIGNATURE_HEADER] = signature
    return client.post("/webhooks/whatsapp", data=body, headers=headers)


def events():
    return db.session.scalars(select(InboundEvent).order_by(InboundEvent.id)).all()


def test_handshake_answers_the_challenge_as_plain_text(client):
    response = client.get("/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444")
    assert response.status_code == 200 and response.data == b"1158201444"
    assert response.mimetype == "text/plain"


def test_handshake_with_the_wrong_token_is_forbidden(client):
    response = client.get("/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1")
    assert response.status_code == 403


def test_signed_text_is_stored_with_the_normalised_message_and_answered_200(client):
    response = post(client, body_of("text"))
    assert response.status_code == 200
    (event,) = events()
    assert event.channel_kind == "whatsapp" and event.external_key.startswith("wamid.")
    assert event.payload["message"]["text"].endswith("gevaarlijk! é")
    assert event.payload["raw"]["object"] == "whatsapp_business_account"
    assert event.state == "done"  # the sync job backend ran the work after the answer was decided


@pytest.mark.parametrize("signature", [None, "", "sha256=00", "sha256=" + "a" * 64])
def test_missing_or_wrong_signature_is_forbidden_and_stores_nothing(client, signature):
    assert post(client, body_of("text"), signature=signature).status_code == 403
    assert events() == []


def test_signature_with_another_apps_secret_is_forbidden(client):
    assert post(client, body_of("text"), secret="someone-else").status_code == 403
    assert events() == []


def test_body_changed_after_signing_is_forbidden(client):
    body = body_of("text")
    signature = whatsapp.sign(SECRET, body)
    tampered = body.replace(b"Losse", b"Vaste")
    assert post(client, tampered, signature=signature).status_code == 403


def test_replayed_delivery_changes_nothing(client):
    body = body_of("text")
    assert post(client, body).status_code == 200
    assert post(client, body).status_code == 200
    assert len(events()) == 1


def test_duplicate_deliveries_in_parallel_threads_store_one_event(app):
    body = body_of("location_pin")
    barrier = threading.Barrier(8)
    statuses = []

    def deliver():
        client = app.test_client()
        barrier.wait()
        statuses.append(post(client, body).status_code)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert statuses == [200] * 8
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(InboundEvent)) == 1


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"object": "page", "entry": []}',
                                  b'{"object": "whatsapp_business_account", "entry": {}}'])
def test_body_not_of_the_platform_shape_gets_400_and_is_logged(client, body, caplog):
    with caplog.at_level(logging.WARNING, logger="meldingen.web.webhooks"):
        assert post(client, body).status_code == 400
    assert "not of the platform's shape" in caplog.text
    assert events() == []


def test_batch_with_one_malformed_message_is_answered_200_and_the_valid_text_reaches_the_intake(client, caplog):
    from meldingen.residents.models import Conversation

    body = body_of("batch_malformed_interactive")
    with caplog.at_level(logging.WARNING, logger="meldingen.channels.inbound"):
        assert post(client, body).status_code == 200
    by_key = {e.external_key: e for e in events()}
    assert by_key["wamid.VALIDTEXT1"].state == "done"
    skipped = by_key["unreadable:wamid.MALFORMED1"]
    assert skipped.state == "unreadable" and skipped.error == "interactive is not an object"
    assert skipped.payload["raw"]["id"] == "wamid.MALFORMED1"  # the item as Meta sent it, for a person to read
    assert "could not be read" in caplog.text
    (conversation,) = db.session.scalars(select(Conversation)).all()
    assert conversation.draft["description"] == ["Er ligt een omgevallen boom op het fietspad"]
    # Meta re-sends the same body: 200 again, nothing stored twice.
    assert post(client, body).status_code == 200
    assert len(events()) == 2


def test_batch_stores_every_message_of_every_entry(client):
    assert post(client, body_of("batch")).status_code == 200
    keys = [e.external_key for e in events()]
    assert keys[:3] == ["wamid.B1", "wamid.B2", "wamid.B3"]
    assert keys[3] == "status:wamid.S1:read"


@pytest.mark.parametrize("name", ["image_caption", "location_named", "interactive_button_reply",
                                  "interactive_list_reply", "template_button", "voice", "sticker",
                                  "unsupported_poll", "reaction", "document_pdf", "unknown_type"])
def test_every_message_type_is_stored_without_crashing(client, fake, name):
    fake.route("GET", "/v21.0/1003383421387256")(lambda r: Response(json.dumps({"url": f"{fake.url}/media/1"}),
                                                                    mimetype="application/json"))
    fake.route("GET", "/media/1")(lambda r: Response(jpeg_bytes(), mimetype="image/jpeg"))
    assert post(client, body_of(name)).status_code == 200
    (event,) = events()
    assert event.state == "done"


def make_outbound(platform_id: str, state: str = "sent") -> OutboundMessage:
    reporter = Reporter(channel_kind="whatsapp", platform_id="16505551234")
    db.session.add(reporter)
    db.session.flush()
    outbound = OutboundMessage(idempotency_key=f"test:{platform_id}", channel_kind="whatsapp",
                               reporter_id=reporter.id, body="Bedankt", state=state,
                               platform_message_id=platform_id)
    db.session.add(outbound)
    db.session.commit()
    return outbound


def test_statuses_are_recorded_against_the_message_we_sent(client):
    delivered = make_outbound("wamid.SENT1")
    assert post(client, body_of("statuses")).status_code == 200
    db.session.refresh(delivered)
    assert delivered.state == "delivered" and delivered.state_at is not None


def test_failed_status_keeps_the_platform_error(client):
    reporter = Reporter(channel_kind="whatsapp", platform_id="x")
    db.session.add(reporter)
    db.session.flush()
    failed = OutboundMessage(idempotency_key="t2", channel_kind="whatsapp", reporter_id=reporter.id, body="b",
                             state="sent", platform_message_id="wamid.SENT2")
    db.session.add(failed)
    db.session.commit()
    post(client, body_of("statuses"))
    db.session.refresh(failed)
    assert failed.state == "failed" and failed.last_error.startswith("131047")


def test_a_late_receipt_never_moves_a_message_backwards(client):
    read = make_outbound("wamid.SENT1", state="read")
    post(client, body_of("statuses"))  # "delivered" arrives after "read"
    db.session.refresh(read)
    assert read.state == "read"


def test_image_is_fetched_with_the_access_token_and_stored_as_a_photo(client, fake):
    photo = jpeg_bytes(80, 60)
    fake.route("GET", "/v21.0/1003383421387256")(lambda r: Response(json.dumps(
        {"messaging_product": "whatsapp", "url": f"{fake.url}/whatsapp_business/attachments/", "mime_type": "image/jpeg",
         "file_size": len(photo), "id": "1003383421387256"}), mimetype="application/json"))
    fake.route("GET", "/whatsapp_business/attachments/")(lambda r: Response(photo, mimetype="image/jpeg"))
    assert post(client, body_of("image_caption")).status_code == 200
    (stored,) = db.session.scalars(select(Photo)).all()
    assert (stored.width, stored.height, stored.source) == (80, 60, "whatsapp")
    fetches = [s for s in fake.seen if s.method == "GET"]  # the read receipt (a POST) comes after
    assert [s.headers.get("Authorization") for s in fetches] == ["Bearer wa-token", "Bearer wa-token"]
    (event,) = events()
    assert event.payload["photo_ids"] == [stored.id]


def test_a_second_number_stored_in_the_database_is_routed_by_phone_number_id(client):
    channel = Channel(kind="whatsapp", name="Tweede nummer", address="222222222222222",
                      secrets={"app_secret": "second-secret"})
    db.session.add(channel)
    db.session.commit()
    body = body_of("batch")
    assert post(client, body, secret="second-secret").status_code == 200
    by_key = {e.external_key: e.channel_id for e in events()}
    assert by_key["wamid.B3"] == channel.id


def test_a_channel_switched_off_here_refuses_its_deliveries_at_once(client):
    """Stored channels are cached for a few seconds per process; a change this process commits drops the cache."""
    channel = Channel(kind="whatsapp", name="Tweede nummer", address="222222222222222",
                      secrets={"app_secret": "second-secret"})
    db.session.add(channel)
    db.session.commit()
    assert post(client, body_of("text"), secret="second-secret").status_code == 200  # now cached
    channel.active = False
    db.session.commit()
    assert post(client, body_of("batch"), secret="second-secret").status_code == 403


def test_a_channel_changed_by_another_process_is_seen_once_the_cache_expires(app, client, monkeypatch):
    from sqlalchemy import update

    from meldingen import cache

    channel = Channel(kind="whatsapp", name="Tweede nummer", address="222222222222222",
                      secrets={"app_secret": "second-secret"})
    db.session.add(channel)
    db.session.commit()
    assert post(client, body_of("text"), secret="second-secret").status_code == 200
    # Another process switches it off (a connection of its own: nothing this process's session commits).
    with db.engine.begin() as other:
        other.execute(update(Channel).where(Channel.id == channel.id).values(active=False))
    assert post(client, body_of("image_caption"), secret="second-secret").status_code == 200  # still cached
    later = cache._clock() + cache.DEFAULT_SECONDS + 1
    monkeypatch.setattr(cache, "_clock", lambda: later)
    assert post(client, body_of("batch"), secret="second-secret").status_code == 403
