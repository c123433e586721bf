"""Residents on every platform, for conversation tests: they post the platform's own webhook payloads to the
app and read the replies the app sent to a fake platform API on loopback (or, for the website chat, polled).

`RESIDENTS[kind](client, fake, user)` gives a resident with send_text / send_photo / send_location /
send_voice / press / redeliver_last and replies(); `platform_config(kind, fake)` the app configuration.
"""

from __future__ import annotations

import io
import itertools
import json
import time
from urllib.parse import parse_qs

from fake_platforms import jpeg_bytes
from werkzeug.wrappers import Response

from meldingen.channels import messenger, twilio, whatsapp

WA_SECRET, WA_PHONE_ID = "wa-app-secret", "1098765"
TG_TOKEN, TG_SECRET = "123456:ABC-def", "tg-secret"
TW_SID, TW_TOKEN, TW_FROM, PUBLIC = "AC" + "b" * 32, "tw-token", "+3197010251234", "https://meldingen.example.nl"
FB_SECRET, FB_PAGE, FB_TOKEN = "fb-app-secret", "104857600000001", "fb-page-token"
SIGNAL_NUMBER = "+31970102512"
KINDS = ("whatsapp", "telegram", "twilio", "webchat", "messenger", "signal")

_ids = itertools.count(1)


def platform_config(fake) -> dict:
    return {
        "WHATSAPP_APP_SECRET": WA_SECRET, "WHATSAPP_VERIFY_TOKEN": "verify", "WHATSAPP_ACCESS_TOKEN": "wa-token",
        "WHATSAPP_PHONE_NUMBER_ID": WA_PHONE_ID, "WHATSAPP_GRAPH_URL": f"{fake.url}/v21.0",
        "TELEGRAM_BOT_TOKEN": TG_TOKEN, "TELEGRAM_SECRET_TOKEN": TG_SECRET, "TELEGRAM_API_URL": fake.url,
        "TWILIO_ACCOUNT_SID": TW_SID, "TWILIO_AUTH_TOKEN": TW_TOKEN, "TWILIO_FROM": TW_FROM,
        "TWILIO_API_URL": fake.url, "PUBLIC_URL": PUBLIC,
        "MESSENGER_APP_SECRET": FB_SECRET, "MESSENGER_VERIFY_TOKEN": "fb-verify",
        "MESSENGER_PAGE_ACCESS_TOKEN": FB_TOKEN, "MESSENGER_GRAPH_URL": f"{fake.url}/fb/v21.0",
        "SIGNAL_API_URL": f"{fake.url}/signal", "SIGNAL_NUMBER": SIGNAL_NUMBER,
        "NOTIFY_PACING_SECONDS": {"whatsapp": 0, "telegram": 0, "twilio": 0, "messenger": 0, "signal": 0},
    }


def install_send_routes(fake) -> None:
    """The platforms' send endpoints, answering like the real ones."""
    counter = itertools.count(1)
    fake.route("POST", f"/v21.0/{WA_PHONE_ID}/messages")(
        lambda r: Response(json.dumps({"messaging_product": "whatsapp", "messages": [{"id": f"wamid.OUT{next(counter)}"}]}),
                           content_type="application/json"))
    fake.route("POST", f"/bot{TG_TOKEN}/sendMessage")(
        lambda r: Response(json.dumps({"ok": True, "result": {"message_id": 5000 + next(counter)}}),
                           content_type="application/json"))
    fake.route("POST", f"/bot{TG_TOKEN}/answerCallbackQuery")(
        lambda r: Response(json.dumps({"ok": True, "result": True}), content_type="application/json"))
    fake.route("POST", f"/2010-04-01/Accounts/{TW_SID}/Messages.json")(
        lambda r: Response(json.dumps({"sid": f"SM{next(counter):032d}", "status": "queued"}), status=201,
                           content_type="application/json"))
    fake.route("POST", "/fb/v21.0/me/messages")(
        lambda r: Response(json.dumps({"recipient_id": json.loads(r.get_data())["recipient"]["id"],
                                       **({} if "sender_action" in json.loads(r.get_data())
                                          else {"message_id": f"m_OUT{next(counter)}"})}),
                           content_type="application/json"))
    install_signal_bridge(fake)


def install_signal_bridge(fake) -> None:
    """signal-cli-rest-api as the app sees it: envelopes wait in `fake.signal_inbox` until received (and are
    then gone, as on the bridge), sends are answered with their timestamp, receipts with 204."""
    fake.signal_inbox = []
    sent_at = itertools.count(int(time.time() * 1000))

    def receive(request):
        waiting, fake.signal_inbox[:] = list(fake.signal_inbox), []
        return Response(json.dumps(waiting), content_type="application/json")

    fake.route("GET", f"/signal/v1/receive/{SIGNAL_NUMBER}")(receive)
    fake.route("POST", "/signal/v2/send")(
        lambda r: Response(json.dumps({"timestamp": str(next(sent_at))}), status=201, content_type="application/json"))
    fake.route("POST", f"/signal/v1/receipts/{SIGNAL_NUMBER}")(lambda r: Response("", status=204))


def sent_messages(fake) -> list[dict]:
    """Every message the app sent to any platform: {"kind", "to", "text", "raw"}."""
    out = []
    for seen in fake.seen:
        if seen.path == f"/v21.0/{WA_PHONE_ID}/messages":
            body = json.loads(seen.body)
            if body.get("status") == "read":
                continue
            kind = body.get("type")
            text = (body["text"]["body"] if kind == "text" else body["interactive"]["body"]["text"]
                    if kind == "interactive" else f"TEMPLATE:{body['template']['name']}")
            out.append({"kind": "whatsapp", "to": body["to"], "text": text, "raw": body})
        elif seen.path == f"/bot{TG_TOKEN}/sendMessage":
            body = json.loads(seen.body)
            out.append({"kind": "telegram", "to": str(body["chat_id"]), "text": body["text"], "raw": body})
        elif seen.path == f"/2010-04-01/Accounts/{TW_SID}/Messages.json" and seen.method == "POST":
            form = {k: v[0] for k, v in parse_qs(seen.body.decode()).items()}
            out.append({"kind": "twilio", "to": form["To"], "text": form.get("Body") or
                        f"TEMPLATE:{form.get('ContentSid')}", "raw": form})
        elif seen.path == "/fb/v21.0/me/messages":
            body = json.loads(seen.body)
            if "sender_action" in body:
                continue
            out.append({"kind": "messenger", "to": body["recipient"]["id"], "text": body["message"]["text"],
                        "raw": body})
        elif seen.path == "/signal/v2/send":
            body = json.loads(seen.body)
            for recipient in body["recipients"]:
                out.append({"kind": "signal", "to": recipient, "text": body["message"], "raw": body})
    return out


class Resident:
    kind = ""

    def __init__(self, client, fake, user: str):
        self.client, self.fake, self.user = client, fake, user
        self.last_post = None

    def _post(self, *args, **kwargs):
        self.last_post = (args, kwargs)
        response = self.client.post(*args, **kwargs)
        assert response.status_code in (200, 201), response.data
        return response

    def redeliver_last(self):
        args, kwargs = self.last_post
        return self.client.post(*args, **kwargs)

    def replies(self) -> list[str]:
        return [m["text"] for m in sent_messages(self.fake) if m["kind"] == self.kind and m["to"] == self.address]

    def sent(self) -> list[dict]:
        return [m for m in sent_messages(self.fake) if m["kind"] == self.kind and m["to"] == self.address]

    @property
    def address(self) -> str:
        return self.user


class WhatsAppResident(Resident):
    kind = "whatsapp"

    def _deliver(self, message: dict):
        message = {"from": self.user, "id": f"wamid.IN{next(_ids)}", "timestamp": str(int(time.time())), **message}
        body = {"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp", "metadata": {"display_phone_number": "3197010251234",
                                                          "phone_number_id": WA_PHONE_ID},
            "contacts": [{"profile": {"name": "Bewoner"}, "wa_id": self.user}], "messages": [message]}}]}]}
        raw = json.dumps(body).encode()
        return self._post("/webhooks/whatsapp", data=raw, content_type="application/json",
                          headers={whatsapp.SIGNATURE_HEADER: whatsapp.sign(WA_SECRET, raw)})

    def send_text(self, text):
        return self._deliver({"type": "text", "text": {"body": text}})

    def send_photo(self, caption=None, data=None):
        media_id = f"MEDIA{next(_ids)}"
        payload = data or jpeg_bytes()
        self.fake.route("GET", f"/v21.0/{media_id}")(lambda r: Response(json.dumps(
            {"url": f"{self.fake.url}/lookaside/{media_id}", "mime_type": "image/jpeg", "id": media_id}),
            content_type="application/json"))
        self.fake.route("GET", f"/lookaside/{media_id}")(lambda r: Response(payload, content_type="image/jpeg"))
        image = {"id": media_id, "mime_type": "image/jpeg"}
        if caption:
            image["caption"] = caption
        return self._deliver({"type": "image", "image": image})

    def send_location(self, lat, lon, name=None, address=None):
        location = {"latitude": lat, "longitude": lon}
        if name:
            location.update(name=name, address=address or name)
        return self._deliver({"type": "location", "location": location})

    def send_voice(self):
        return self._deliver({"type": "audio", "audio": {"id": "VOICE1", "mime_type": "audio/ogg; codecs=opus",
                                                         "voice": True}})

    def press(self, reply_id, title):
        return self._deliver({"type": "interactive", "interactive": {
            "type": "button_reply", "button_reply": {"id": reply_id, "title": title}}})


class TelegramResident(Resident):
    kind = "telegram"

    def __init__(self, client, fake, user: str):
        super().__init__(client, fake, user)
        self.message_ids: list[int] = []  # of the messages sent, for edits

    def _deliver(self, message: dict, field: str = "message"):
        update_id = next(_ids) + 700000000
        message = {"message_id": update_id % 100000, "from": {"id": int(self.user), "is_bot": False,
                                                                "first_name": "Bewoner"},
                   "chat": {"id": int(self.user), "type": "private", "first_name": "Bewoner"},
                   "date": int(time.time()), **message}
        if field == "message":
            self.message_ids.append(message["message_id"])
        return self._post("/webhooks/telegram", data=json.dumps({"update_id": update_id, field: message}),
                          content_type="application/json", headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET})

    def send_text(self, text):
        return self._deliver({"text": text})

    def edit_text(self, index: int, text: str):
        """Edit the index-th message this resident sent: Telegram's edited_message, same message_id."""
        now = int(time.time())
        return self._deliver({"message_id": self.message_ids[index], "text": text, "date": now - 5,
                              "edit_date": now}, field="edited_message")

    def send_photo(self, caption=None, data=None):
        file_id = f"FILE{next(_ids)}"
        payload = data or jpeg_bytes()
        self.fake.routes[("POST", f"/bot{TG_TOKEN}/getFile")] = lambda r: Response(json.dumps(
            {"ok": True, "result": {"file_id": json.loads(r.get_data())["file_id"],
                                    "file_path": f"photos/{json.loads(r.get_data())['file_id']}.jpg"}}),
            content_type="application/json")
        self.fake.route("GET", f"/file/bot{TG_TOKEN}/photos/{file_id}.jpg")(
            lambda r: Response(payload, content_type="image/jpeg"))
        message = {"photo": [{"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 64, "height": 48}]}
        if caption:
            message["caption"] = caption
        return self._deliver(message)

    def send_location(self, lat, lon, name=None, address=None):
        if name:
            return self._deliver({"location": {"latitude": lat, "longitude": lon},
                                  "venue": {"location": {"latitude": lat, "longitude": lon}, "title": name,
                                            "address": address or name}})
        return self._deliver({"location": {"latitude": lat, "longitude": lon}})

    def send_voice(self):
        return self._deliver({"voice": {"file_id": "V1", "file_unique_id": "v1", "duration": 3}})

    def press(self, reply_id, title):
        update_id = next(_ids) + 700000000
        query = {"id": f"cq{update_id}", "from": {"id": int(self.user), "is_bot": False, "first_name": "Bewoner"},
                 "message": {"message_id": 1, "chat": {"id": int(self.user), "type": "private"}, "date": 1,
                             "text": "?"}, "chat_instance": "1", "data": reply_id}
        return self._post("/webhooks/telegram", data=json.dumps({"update_id": update_id, "callback_query": query}),
                          content_type="application/json", headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET})


class TwilioResident(Resident):
    kind = "twilio"

    def _deliver(self, fields: dict):
        form = {"MessageSid": f"SM{next(_ids):032d}", "AccountSid": TW_SID, "From": self.user, "To": TW_FROM,
                "NumMedia": "0", "ApiVersion": "2010-04-01", **fields}
        url = f"{PUBLIC}/webhooks/twilio"
        return self._post("/webhooks/twilio", data=form,
                          headers={"X-Twilio-Signature": twilio.compute_signature(TW_TOKEN, url, form)})

    def send_text(self, text):
        return self._deliver({"Body": text})

    def send_photo(self, caption=None, data=None):
        path = f"/2010-04-01/Accounts/{TW_SID}/Messages/MM{next(_ids)}/Media/ME1"
        payload = data or jpeg_bytes()
        self.fake.route("GET", path)(lambda r: Response(payload, content_type="image/jpeg"))
        return self._deliver({"Body": caption or "", "NumMedia": "1", "MediaUrl0": f"{self.fake.url}{path}",
                              "MediaContentType0": "image/jpeg"})

    def send_location(self, lat, lon, name=None, address=None):
        fields = {"Latitude": str(lat), "Longitude": str(lon), "Body": ""}
        if name:
            fields.update(Label=name, Address=address or name)
        return self._deliver(fields)

    def send_voice(self):
        path = f"/2010-04-01/Accounts/{TW_SID}/Messages/MM{next(_ids)}/Media/ME1"
        return self._deliver({"NumMedia": "1", "MediaUrl0": f"{self.fake.url}{path}",
                              "MediaContentType0": "audio/ogg"})

    def press(self, reply_id, title):
        return self._deliver({"ButtonPayload": reply_id, "ButtonText": title})


class WebchatResident(Resident):
    kind = "webchat"

    def __init__(self, client, fake, user):
        super().__init__(client, fake, user)
        token = client.post("/chat/api/sessions").get_json()["session"]
        self.headers = {"X-Chat-Session": token}
        self.session_id = token.rpartition(".")[0]

    @property
    def address(self) -> str:
        return self.session_id

    def _json(self, body):
        return self._post("/chat/api/messages", json={"id": f"msg-{next(_ids):08d}", **body}, headers=self.headers)

    def send_text(self, text):
        return self._json({"text": text})

    def send_photo(self, caption=None, data=None):
        form = {"id": f"msg-{next(_ids):08d}", "file": (io.BytesIO(data or jpeg_bytes()), "foto.jpg")}
        if caption:
            form["text"] = caption
        self.last_post = None
        response = self.client.post("/chat/api/messages", data=form, headers=self.headers,
                                    content_type="multipart/form-data")
        assert response.status_code == 200, response.data
        return response

    def send_location(self, lat, lon, name=None, address=None):
        location = {"lat": lat, "lon": lon}
        if name:
            location.update(name=name, address=address or name)
        return self._json({"location": location})

    def send_voice(self):
        raise NotImplementedError("the website chat has no voice messages")

    def press(self, reply_id, title):
        return self._json({"reply": {"id": reply_id, "title": title}})

    def replies(self) -> list[str]:
        response = self.client.get("/chat/api/messages", headers=self.headers)
        return [m["text"] for m in response.get_json()["messages"]]


class MessengerResident(Resident):
    """A resident writing to the municipality's Facebook Page: signed page deliveries, as Meta sends them."""

    kind = "messenger"

    def __init__(self, client, fake, user: str):
        super().__init__(client, fake, user)
        self.mids: list[str] = []  # of the messages sent, for edits

    def _deliver(self, message: dict, field: str = "message"):
        now = int(time.time() * 1000)
        if field == "message":
            message = {"mid": f"m_IN{next(_ids)}", **message}
            self.mids.append(message["mid"])
        body = {"object": "page", "entry": [{"id": FB_PAGE, "time": now, "messaging": [
            {"sender": {"id": self.user}, "recipient": {"id": FB_PAGE}, "timestamp": now, field: message}]}]}
        raw = json.dumps(body).encode()
        return self._post("/webhooks/messenger", data=raw, content_type="application/json",
                          headers={messenger.SIGNATURE_HEADER: messenger.sign(FB_SECRET, raw)})

    def send_text(self, text):
        return self._deliver({"text": text})

    def edit_text(self, index: int, text: str):
        """Edit the index-th message this resident sent: Messenger's message_edit event."""
        return self._deliver({"mid": self.mids[index], "text": text, "num_edit": 1}, field="message_edit")

    def send_photo(self, caption=None, data=None):
        path = f"/fbcdn/v/t1.15752-9/{next(_ids)}_n.jpg"
        payload = data or jpeg_bytes()
        self.fake.route("GET", path)(lambda r: Response(payload, content_type="image/jpeg"))
        message = {"attachments": [{"type": "image", "payload": {"url": f"{self.fake.other_host_url}{path}?oh=1"}}]}
        if caption:
            message["text"] = caption
        return self._deliver(message)

    def send_location(self, lat, lon, name=None, address=None):
        """Messenger has no location message any more: the resident shares a map link."""
        url = f"https://maps.google.com/?q={lat},{lon}"
        return self._deliver({"text": url, "attachments": [{"type": "fallback", "payload": {
            "url": url, "title": name or "Google Maps"}}]})

    def send_voice(self):
        return self._deliver({"attachments": [{"type": "audio", "payload": {
            "url": f"{self.fake.other_host_url}/fbcdn/audioclip-{next(_ids)}.mp4"}}]})

    def press(self, reply_id, title):
        return self._deliver({"text": title, "quick_reply": {"payload": reply_id}})


class SignalResident(Resident):
    """A resident writing to the municipality's Signal number: envelopes wait at the fake bridge until the
    app's poll (the periodic task, run here at once) receives them."""

    kind = "signal"

    def __init__(self, client, fake, user: str):
        super().__init__(client, fake, user)
        self.sent_timestamps: list[int] = []  # of the messages sent, for edits

    def _deliver(self, data_message: dict):
        timestamp = int(time.time() * 1000) * 100 + next(_ids)  # unique per message, as Signal's are per sender
        item = {"envelope": {"source": self.user, "sourceNumber": self.user,
                             "sourceUuid": f"uuid-{self.user}", "sourceName": "Bewoner", "sourceDevice": 1,
                             "timestamp": timestamp,
                             "dataMessage": {"timestamp": timestamp, "message": None, "expiresInSeconds": 0,
                                             "viewOnce": False, **data_message}},
                "account": SIGNAL_NUMBER}
        self.last_post = item
        self.sent_timestamps.append(timestamp)
        return self._poll(item)

    def edit_text(self, index: int, text: str):
        """Edit the index-th message this resident sent: Signal's editMessage naming its timestamp."""
        timestamp = int(time.time() * 1000) * 100 + next(_ids)
        item = {"envelope": {"source": self.user, "sourceNumber": self.user, "sourceDevice": 1,
                             "timestamp": timestamp,
                             "editMessage": {"targetSentTimestamp": self.sent_timestamps[index], "dataMessage": {
                                 "timestamp": timestamp, "message": text, "expiresInSeconds": 0}}},
                "account": SIGNAL_NUMBER}
        self.last_post = item
        return self._poll(item)

    def _poll(self, item):
        from meldingen.jobs import run_task

        self.fake.signal_inbox.append(item)
        return run_task(self.client.application, "channels.poll", {})

    def redeliver_last(self):
        return self._poll(self.last_post)

    def send_text(self, text):
        return self._deliver({"message": text})

    def _attachment(self, content_type: str, data: bytes) -> dict:
        attachment_id = f"att{next(_ids)}.jpg"
        self.fake.route("GET", f"/signal/v1/attachments/{attachment_id}")(
            lambda r: Response(data, content_type=content_type))
        return {"contentType": content_type, "filename": None, "id": attachment_id, "size": len(data)}

    def send_photo(self, caption=None, data=None):
        return self._deliver({"message": caption, "attachments": [self._attachment("image/jpeg",
                                                                                   data or jpeg_bytes())]})

    def send_location(self, lat, lon, name=None, address=None):
        """Signal's "Location": a map image and a Google Maps link in the text."""
        text = f"{address or name or ''}\n\nhttps://maps.google.com/maps?q={lat}%2C{lon}".lstrip()
        return self._deliver({"message": text, "attachments": [self._attachment("image/jpeg", jpeg_bytes())]})

    def send_voice(self):
        return self._deliver({"attachments": [self._attachment("audio/aac", b"voice")]})

    def press(self, reply_id, title):
        """Signal has no buttons: the resident types the choice."""
        return self.send_text(title)


RESIDENTS = {"whatsapp": WhatsAppResident, "telegram": TelegramResident, "twilio": TwilioResident,
             "webchat": WebchatResident, "messenger": MessengerResident, "signal": SignalResident}
USERS = {"whatsapp": ("31612345678", "31687654321"), "telegram": ("111222333", "444555666"),
         "twilio": ("+31612345678", "whatsapp:+31687654321"), "webchat": ("a", "b"),
         "messenger": ("7712345678901234", "7799999999999999"), "signal": ("+31612345678", "+31687654321")}
