"""POST /webhooks/telegram: the secret token, updates stored once, photos fetched, button presses answered."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from fake_platforms import jpeg_bytes
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from meldingen.channels.models import InboundEvent
from meldingen.extensions import db
from meldingen.media.models import Photo

PAYLOADS = Path(__file__).parent / "payloads" / "telegram"
TOKEN = "123456:ABC-def"


@pytest.fixture
def app_config(fake):
    return {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_SECRET_TOKEN": "tg_secret-1", "TELEGRAM_API_URL": fake.url}


def post(client, body, secret: str | None = "tg_secret-1"):
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post("/webhooks/telegram", data=data, headers=headers, content_type="application/json")


def load(name: str):
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def events():
    return db.session.scalars(select(InboundEvent).order_by(InboundEvent.id)).all()


def test_text_update_is_stored_under_bot_and_update_id(client):
    response = post(client, load("text"))
    assert response.status_code == 200 and response.get_json() == {}
    (event,) = events()
    assert event.external_key == "123456:900000001"
    assert event.payload["message"]["text"] == "Volle container bij de Albert Heijn"


@pytest.mark.parametrize("secret", [None, "", "tg_secret-2"])
def test_wrong_or_missing_secret_token_is_forbidden(client, secret):
    assert post(client, load("text"), secret=secret).status_code == 403
    assert events() == []


def test_redelivered_update_changes_nothing(client):
    post(client, load("text"))
    post(client, load("text"))
    assert len(events()) == 1


def test_parallel_duplicates_store_one_event(app):
    barrier = threading.Barrier(6)
    codes = []

    def deliver():
        client = app.test_client()
        barrier.wait()
        codes.append(post(client, load("location")).status_code)

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    assert codes == [200] * 6
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(InboundEvent)) == 1


@pytest.mark.parametrize("body", [b"{", b"[]", b'{"message": {}}', b'{"update_id": "x", "message": {}}'])
def test_body_not_of_the_platform_shape_gets_400(client, body):
    assert post(client, body).status_code == 400
    assert events() == []


def test_update_whose_message_cannot_be_read_is_kept_with_its_reason_and_answered_200(client):
    body = {"update_id": 900000077, "message": {"message_id": 5, "date": 1749416383, "text": "zonder chat"}}
    response = post(client, body)
    assert response.status_code == 200 and response.get_json() == {}
    (event,) = events()
    assert event.external_key == "123456:unreadable:900000077" and event.state == "unreadable"
    assert event.error == "message.chat is not an object" and event.payload["raw"] == body
    assert post(client, body).status_code == 200 and len(events()) == 1


@pytest.mark.parametrize("name", ["venue", "voice", "sticker", "poll", "animation", "edited_live_location",
                                  "my_chat_member"])
def test_other_updates_are_stored_without_crashing(client, name):
    assert post(client, load(name)).status_code == 200
    assert len(events()) == 1


def test_photo_is_fetched_by_get_file_of_the_largest_size(client, fake):
    fake.route("POST", f"/bot{TOKEN}/getFile")(lambda r: Response(json.dumps(
        {"ok": True, "result": {"file_id": json.loads(r.get_data())["file_id"], "file_path": "photos/file_7.jpg"}}),
        mimetype="application/json"))
    fake.route("GET", f"/file/bot{TOKEN}/photos/file_7.jpg")(lambda r: Response(jpeg_bytes(), mimetype="image/jpeg"))
    assert post(client, load("photo_caption")).status_code == 200
    assert json.loads(fake.requests_to(f"/bot{TOKEN}/getFile")[0].body) == {"file_id": "AgACAgQAAxkBAAIBlarge"}
    assert db.session.scalar(select(func.count()).select_from(Photo)) == 1


def test_album_items_are_separate_events_sharing_the_media_group(client, fake):
    fake.route("POST", f"/bot{TOKEN}/getFile")(lambda r: Response(json.dumps(
        {"ok": True, "result": {"file_path": "photos/a.jpg"}}), mimetype="application/json"))
    fake.route("GET", f"/file/bot{TOKEN}/photos/a.jpg")(lambda r: Response(jpeg_bytes(), mimetype="image/jpeg"))
    for update in load("album"):
        assert post(client, update).status_code == 200
    groups = {e.payload["message"]["media_group_id"] for e in events()}
    assert groups == {"13579246801357924"} and len(events()) == 2


def test_button_press_is_answered_so_the_spinner_stops(client, fake):
    fake.route("POST", f"/bot{TOKEN}/answerCallbackQuery")(lambda r: Response('{"ok": true, "result": true}',
                                                                             mimetype="application/json"))
    assert post(client, load("callback_query")).status_code == 200
    (answer,) = fake.requests_to(f"/bot{TOKEN}/answerCallbackQuery")
    assert json.loads(answer.body) == {"callback_query_id": "4382bfdwdsb323b2d9"}
    assert events()[0].payload["message"]["reply_id"] == "confirm-no"


def test_expired_or_missing_file_is_recorded_not_fatal(client, fake):
    fake.route("POST", f"/bot{TOKEN}/getFile")(lambda r: Response(json.dumps(
        {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"}), status=400,
        mimetype="application/json"))
    assert post(client, load("photo")).status_code == 200
    (event,) = events()
    assert event.state == "done" and "invalid file_id" in event.payload["media_errors"][0]
