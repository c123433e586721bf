"""/chat/api: the website chat's own API — signed sessions, messages stored once, photos checked at upload."""

from __future__ import annotations

import io

from fake_platforms import jpeg_bytes
from sqlalchemy import select

from meldingen.channels.models import InboundEvent
from meldingen.extensions import db
from meldingen.media.models import Photo
from meldingen.notify.models import OutboundMessage
from meldingen.residents.models import Reporter


def session(client) -> dict:
    response = client.post("/chat/api/sessions")
    assert response.status_code == 201
    return {"X-Chat-Session": response.get_json()["session"]}


def events():
    return db.session.scalars(select(InboundEvent).order_by(InboundEvent.id)).all()


def test_text_is_stored_once_under_the_browsers_message_id(client):
    headers = session(client)
    for _ in range(2):
        response = client.post("/chat/api/messages", json={"id": "msg-0001-abc", "text": "Kuil in de weg"},
                               headers=headers)
        assert response.status_code == 200
    (event,) = events()
    assert event.channel_kind == "webchat" and event.external_key.endswith(":msg-0001-abc")


def test_without_or_with_a_forged_session_is_forbidden(client):
    assert client.post("/chat/api/messages", json={"id": "msg-0001-abc", "text": "x"}).status_code == 403
    forged = {"X-Chat-Session": "mysession.c2lnbmF0dXJl"}
    assert client.post("/chat/api/messages", json={"id": "msg-0001-abc", "text": "x"}, headers=forged).status_code == 403
    assert events() == []


def test_message_not_of_our_shape_gets_400(client):
    assert client.post("/chat/api/messages", json={"text": "geen id"}, headers=session(client)).status_code == 400


def test_photo_is_checked_at_upload_and_linked_to_the_message(client):
    headers = session(client)
    response = client.post("/chat/api/messages", headers=headers, content_type="multipart/form-data",
                           data={"id": "msg-0002-abc", "text": "zie foto", "file": (io.BytesIO(jpeg_bytes()), "a.jpg")})
    assert response.status_code == 200
    (photo,) = db.session.scalars(select(Photo)).all()
    (event,) = events()
    assert event.payload["photo_ids"] == [photo.id] and photo.source == "webchat"
    refused = client.post("/chat/api/messages", headers=headers, content_type="multipart/form-data",
                          data={"id": "msg-0003-abc", "file": (io.BytesIO(b"%PDF-1.4"), "a.jpg")})
    # Refused, but not lost: the message is stored and the resident hears why through the chat.
    assert refused.status_code == 200 and refused.get_json() == {"stored": True, "photo_refused": "not_image"}


def test_replies_sent_to_this_session_are_listed(client):
    headers = session(client)
    session_id = headers["X-Chat-Session"].rsplit(".", 1)[0]
    reporter = Reporter(channel_kind="webchat", platform_id=session_id)
    other = Reporter(channel_kind="webchat", platform_id="someone-else")
    db.session.add_all([reporter, other])
    db.session.flush()
    db.session.add_all([
        OutboundMessage(idempotency_key="r1", channel_kind="webchat", reporter_id=reporter.id, body="Bedankt",
                        state="sent"),
        OutboundMessage(idempotency_key="r2", channel_kind="webchat", reporter_id=other.id, body="Niet voor jou",
                        state="sent"),
    ])
    db.session.commit()
    messages = client.get("/chat/api/messages", headers=headers).get_json()["messages"]
    assert [m["text"] for m in messages] == ["Bedankt"]
    assert client.get(f"/chat/api/messages?after={messages[0]['id']}", headers=headers).get_json()["messages"] == []
