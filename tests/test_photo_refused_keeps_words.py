"""A refused photo keeps everything else in its message, and the resident hears why in their own language."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import select
from werkzeug.wrappers import Response

from meldingen.channels import telegram, twilio, whatsapp
from meldingen.channels.models import InboundEvent
from meldingen.extensions import db
from meldingen.media.models import Photo
from meldingen.notify.models import OutboundMessage
from meldingen.reports.models import Report
from meldingen.residents.models import Conversation

TG_TOKEN = "123456:ABC-def"
TW_SID, TW_TOKEN = "AC" + "b" * 32, "twilio-auth-token"
PUBLIC = "https://meldingen.example.nl"
MEDIA_ID = "2003383421387256"
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"
CAPTION = "Er ligt glas op het fietspad bij Zoutkeetsgracht 2"


@pytest.fixture
def app_config(fake):
    return {"WHATSAPP_APP_SECRET": "s", "WHATSAPP_ACCESS_TOKEN": "wa-token", "WHATSAPP_GRAPH_URL": f"{fake.url}/v21",
            "TELEGRAM_BOT_TOKEN": TG_TOKEN, "TELEGRAM_SECRET_TOKEN": "tg-secret", "TELEGRAM_API_URL": fake.url,
            "TWILIO_ACCOUNT_SID": TW_SID, "TWILIO_AUTH_TOKEN": TW_TOKEN, "TWILIO_FROM": "whatsapp:+14155238886",
            "TWILIO_API_URL": fake.url, "PUBLIC_URL": PUBLIC}


def whatsapp_image(caption: str) -> bytes:
    message = {"from": "31687654321", "id": "wamid.REFUSED1", "timestamp": "1749416400", "type": "image",
               "image": {"caption": caption, "mime_type": "image/jpeg", "id": MEDIA_ID}}
    return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp",
                                       "metadata": {"display_phone_number": "15550783881",
                                                    "phone_number_id": "106540352242922"},
                                       "contacts": [{"profile": {"name": "Fatima"}, "wa_id": "31687654321"}],
                                       "messages": [message]}}]}]}).encode()


def deliver_whatsapp(client, fake, caption: str, media: bytes = PDF):
    fake.route("GET", f"/v21/{MEDIA_ID}")(lambda r: Response(json.dumps({"url": f"{fake.url}/lookaside/1"}),
                                                             mimetype="application/json"))
    fake.route("GET", "/lookaside/1")(lambda r: Response(media, mimetype="image/jpeg"))
    fake.route("POST", "/v21/106540352242922/messages")(lambda r: Response(json.dumps(
        {"messages": [{"id": "wamid.OUT"}]}), mimetype="application/json"))
    body = whatsapp_image(caption)
    response = client.post("/webhooks/whatsapp", data=body, content_type="application/json",
                           headers={"X-Hub-Signature-256": whatsapp.sign("s", body)})
    assert response.status_code == 200


def replies() -> list[OutboundMessage]:
    """What the resident is told (read receipts aside)."""
    return db.session.scalars(select(OutboundMessage).where(OutboundMessage.template_key != "read_receipt")
                              .order_by(OutboundMessage.id)).all()


def test_whatsapp_photo_that_is_no_image_still_delivers_its_caption_and_address_and_a_report_is_made(client, fake):
    deliver_whatsapp(client, fake, CAPTION)
    assert db.session.scalars(select(Photo)).all() == []
    event = db.session.scalar(select(InboundEvent))
    assert event.state == "done" and event.payload["media_refusals"] == ["not_image"]
    (report,) = db.session.scalars(select(Report)).all()  # caption = words + typed address: enough for a report
    assert "glas op het fietspad" in report.description
    assert (report.address_street, report.address_number) == ("Zoutkeetsgracht", "2")
    refusal = replies()[0]
    assert refusal.template_key == "photo_rejected_words_kept"
    assert "het bestand is geen foto" in refusal.body and "Uw tekst hebben we wel ontvangen" in refusal.body
    assert "not an image" not in refusal.body and "(the" not in refusal.body


def test_english_resident_is_told_in_english(client, fake):
    deliver_whatsapp(client, fake, "There is broken glass on the cycle path, please come")
    refusal = replies()[0]
    assert refusal.body.startswith("We cannot use this photo: the file is not a photo.")
    conversation = db.session.scalar(select(Conversation))
    assert conversation.draft["description"] == ["There is broken glass on the cycle path, please come"]


def test_photo_without_words_that_is_refused_gets_the_plain_reason_and_nothing_else(client, fake):
    from tests.test_media_large_photos import jpeg_declaring

    deliver_whatsapp(client, fake, "", media=jpeg_declaring(65_000, 65_000))
    (refusal,) = replies()
    assert refusal.template_key == "photo_rejected"
    assert refusal.body.startswith("Deze foto kunnen we niet gebruiken: de foto is te groot om te openen.")
    assert not (db.session.scalar(select(Conversation)).draft or {}).get("description")


def test_telegram_photo_whose_file_is_no_image_keeps_its_caption(client, fake):
    fake.route("POST", f"/bot{TG_TOKEN}/getFile")(lambda r: Response(json.dumps(
        {"ok": True, "result": {"file_path": "photos/f.jpg"}}), mimetype="application/json"))
    fake.route("GET", f"/file/bot{TG_TOKEN}/photos/f.jpg")(lambda r: Response(PDF, mimetype="image/jpeg"))
    fake.route("POST", f"/bot{TG_TOKEN}/sendMessage")(lambda r: Response(json.dumps(
        {"ok": True, "result": {"message_id": 99}}), mimetype="application/json"))
    update = {"update_id": 900000300, "message": {
        "message_id": 31, "date": 1749416390, "caption": "Graffiti op de brug bij het station",
        "chat": {"id": 444555666, "type": "private", "first_name": "Joost"},
        "photo": [{"file_id": "F-large", "file_unique_id": "U-large", "width": 1280, "height": 960}]}}
    response = client.post("/webhooks/telegram", json=update, headers={telegram.SECRET_HEADER: "tg-secret"})
    assert response.status_code == 200
    conversation = db.session.scalar(select(Conversation))
    assert conversation.draft["description"] == ["Graffiti op de brug bij het station"]
    assert "het bestand is geen foto" in replies()[0].body


def test_twilio_photo_over_the_size_limit_keeps_its_body(app, client, fake):
    app.config["MAX_PHOTO_BYTES"] = 1000
    path = f"/2010-04-01/Accounts/{TW_SID}/Messages/MM1/Media/ME1"
    fake.route("GET", path)(lambda r: Response(b"\xff\xd8\xff" + b"\x00" * 5000, mimetype="image/jpeg"))
    fake.route("POST", f"/2010-04-01/Accounts/{TW_SID}/Messages.json")(lambda r: Response(json.dumps(
        {"sid": "SMout"}), mimetype="application/json"))
    form = {"MessageSid": "MM1", "AccountSid": TW_SID, "From": "whatsapp:+31611122233",
            "To": "whatsapp:+14155238886", "Body": "Omgewaaide boom over de stoep", "NumMedia": "1",
            "MediaUrl0": fake.url + path, "MediaContentType0": "image/jpeg"}
    signature = twilio.compute_signature(TW_TOKEN, f"{PUBLIC}/webhooks/twilio", form)
    assert client.post("/webhooks/twilio", data=form, headers={"X-Twilio-Signature": signature}).status_code == 200
    conversation = db.session.scalar(select(Conversation))
    assert conversation.draft["description"] == ["Omgewaaide boom over de stoep"]
    assert "het bestand is te groot" in replies()[0].body


def test_website_chat_photo_that_is_refused_keeps_the_words_sent_with_it(client):
    headers = {"X-Chat-Session": client.post("/chat/api/sessions").get_json()["session"]}
    response = client.post("/chat/api/messages", headers=headers, content_type="multipart/form-data",
                           data={"id": "msg-0009-abc", "text": "Kapotte bank in het park",
                                 "file": (io.BytesIO(PDF), "bank.jpg")})
    assert response.status_code == 200
    assert response.get_json() == {"stored": True, "photo_refused": "not_image"}
    conversation = db.session.scalar(select(Conversation))
    assert conversation.draft["description"] == ["Kapotte bank in het park"]
    assert "het bestand is geen foto" in replies()[0].body
