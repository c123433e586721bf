"""The contract every channel adapter keeps (`meldingen/channels/adapter.py`), run over each platform's documented
payloads and faked at the HTTP boundary (httpx.MockTransport): nothing here knows a platform except its case.

A new platform joins the contract with one `Contract` (what its documentation says: how a delivery is signed,
which payloads it sends, where a send goes) and one line in CASES. No database: an adapter is plain code over a
`ChannelConfig`, a `WebhookRequest` and an HTTP client; only the app's configuration is read.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx
import pytest
from fake_platforms import jpeg_bytes
from flask import Flask

from meldingen.channels import messenger, twilio, webchat, whatsapp
from meldingen.channels.adapter import (
    ChannelAdapter,
    ChannelConfig,
    HeldForStaff,
    OutgoingMessage,
    Reply,
    UnknownSend,
    WebhookRequest,
)
from meldingen.channels.adapters import adapter_for, all_adapters, kinds
from meldingen.channels.base import PlatformError
from meldingen.channels.messages import InboundMessage, PayloadError
from meldingen.timeutil import utcnow

PAYLOADS = Path(__file__).parent / "payloads"
PUBLIC = "https://meldingen.example.nl"
PHOTO = jpeg_bytes()


# --- The platform at its HTTP boundary --------------------------------------------------------------------


class FakeHTTP:
    """Answers by (method, URL prefix), longest prefix first; records every request."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Callable[[httpx.Request], httpx.Response]] = {}
        self.seen: list[httpx.Request] = []

    def on(self, method: str, url: str, answer: httpx.Response | Callable[[httpx.Request], httpx.Response]) -> None:
        self.routes[(method, url)] = answer if callable(answer) else (lambda request, a=answer: a)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        url = str(request.url)
        matching = [key for key in self.routes if key[0] == request.method and url.startswith(key[1])]
        if not matching:
            return httpx.Response(404, json={"error": {"message": f"no route for {request.method} {url}"}})
        return self.routes[max(matching, key=lambda key: len(key[1]))](request)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))

    @property
    def last(self) -> httpx.Request:
        assert self.seen, "the adapter made no request"
        return self.seen[-1]


def json_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


def form_of(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode(), keep_blank_values=True).items()}


# --- What each platform's documentation says ----------------------------------------------------------------


@dataclass
class Delivery:
    """One documented body and what parsing it must give."""

    name: str
    body: bytes
    messages: list[str]  # InboundMessage kinds, in order
    statuses: list[str] = field(default_factory=list)  # DeliveryStatus.status values, in order
    content_type: str = "application/json"
    form: dict[str, str] = field(default_factory=dict)


@dataclass
class Contract:
    kind: str
    config: dict  # the app configuration that turns the platform's default channel on
    resident: str  # a resident's platform id
    deliveries: list[Delivery]
    signed: Callable[[Delivery], WebhookRequest]  # as the platform sends it
    forged: Callable[[Delivery], WebhookRequest]  # the same, with a wrong signature or secret
    # The platform's answers (send, media, receipts, lists) on a fake; None: nothing leaves the service.
    platform: Callable[[FakeHTTP], None] | None
    # Asserts the last request is the documented text send of `message` (None: nothing leaves the service).
    check_text: Callable[[httpx.Request, OutgoingMessage], None] | None
    sent_id: str  # the platform message id the send answers
    photo: str | None = None  # the delivery (by name) whose photo is fetched, when media are fetched
    check_read: Callable[[httpx.Request], None] | None = None  # the documented "mark read" request
    check_button_press: Callable[[httpx.Request], None] | None = None  # a button press acknowledged
    button_press: str | None = None  # the delivery (by name) that is a button press needing an answer
    handshake: tuple[dict, str] | None = None  # (query args, challenge) of a GET set-up handshake
    templates: dict = field(default_factory=dict)  # configuration with an approved "*" template
    # What makes a message allowed outside the window without a template (Messenger: a person's reply, sent
    # with the HUMAN_AGENT tag); empty: only templates.
    late_changes: dict = field(default_factory=dict)
    check_template: Callable[[httpx.Request], None] | None = None
    window_resident: str | None = None  # a resident the service window applies to (default: `resident`)
    window_error: httpx.Response | None = None  # the platform's own "outside the window" answer
    unknown: str = "park"  # what an unknown send settles to when the platform has nothing
    landed: Callable[[FakeHTTP, OutgoingMessage], None] | None = None  # make the platform report it has the send
    always_on: bool = False  # the default channel needs no configuration


def load(platform: str, name: str) -> bytes:
    return (PAYLOADS / platform / f"{name}.json").read_bytes()


# WhatsApp Cloud API ---------------------------------------------------------------------------------------

WA_GRAPH = "https://graph.example.test/v21.0"
WA_PHONE = "106540352242922"
WA_MEDIA = "1003383421387257"


def _wa_request(delivery: Delivery, signature: str) -> WebhookRequest:
    return WebhookRequest("POST", f"{PUBLIC}/webhooks/whatsapp", {"X-Hub-Signature-256": signature},
                          body=delivery.body, content_type="application/json")


def _wa_platform(fake: FakeHTTP) -> None:
    fake.on("POST", f"{WA_GRAPH}/{WA_PHONE}/messages",
            lambda r: httpx.Response(200, json={"success": True} if json_of(r).get("status") == "read"
                                     else {"messages": [{"id": "wamid.OUT1"}]}))
    fake.on("GET", f"{WA_GRAPH}/{WA_MEDIA}",
            httpx.Response(200, json={"url": "https://lookaside.example.test/m/1", "mime_type": "image/jpeg"}))
    fake.on("GET", "https://lookaside.example.test/m/1",
            lambda r: httpx.Response(200, content=PHOTO, headers={"content-type": "image/jpeg"})
            if r.headers.get("authorization") == "Bearer wa-token" else httpx.Response(401))


def _wa_text(request: httpx.Request, message: OutgoingMessage) -> None:
    assert request.method == "POST" and str(request.url) == f"{WA_GRAPH}/{WA_PHONE}/messages"
    assert request.headers["authorization"] == "Bearer wa-token"
    assert json_of(request) == {"messaging_product": "whatsapp", "recipient_type": "individual", "to": message.to,
                                "type": "text", "text": {"body": message.text, "preview_url": False},
                                "biz_opaque_callback_data": message.reference}


def _wa_read(request: httpx.Request) -> None:
    assert str(request.url) == f"{WA_GRAPH}/{WA_PHONE}/messages"
    assert json_of(request) == {"messaging_product": "whatsapp", "status": "read",
                                "message_id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="}


def _wa_template(request: httpx.Request) -> None:
    body = json_of(request)
    assert body["type"] == "template" and body["template"]["name"] == "status_update"
    assert body["template"]["language"] == {"code": "nl"}


WHATSAPP = Contract(
    kind="whatsapp",
    config={"WHATSAPP_APP_SECRET": "app-secret", "WHATSAPP_VERIFY_TOKEN": "verify-me",
            "WHATSAPP_ACCESS_TOKEN": "wa-token", "WHATSAPP_PHONE_NUMBER_ID": WA_PHONE, "WHATSAPP_GRAPH_URL": WA_GRAPH},
    resident="16505551234",
    deliveries=[
        Delivery("text", load("whatsapp", "text"), ["text"]),
        Delivery("image", load("whatsapp", "image"), ["photo"]),
        Delivery("location", load("whatsapp", "location_named"), ["location"]),
        Delivery("button", load("whatsapp", "interactive_button_reply"), ["reply"]),
        Delivery("list", load("whatsapp", "interactive_list_reply"), ["reply"]),
        Delivery("voice", load("whatsapp", "voice"), ["unsupported"]),
        Delivery("statuses", load("whatsapp", "statuses"), [], ["delivered", "failed"]),
    ],
    signed=lambda d: _wa_request(d, whatsapp.sign("app-secret", d.body)),
    forged=lambda d: _wa_request(d, whatsapp.sign("not-the-secret", d.body)),
    platform=_wa_platform,
    check_text=_wa_text,
    sent_id="wamid.OUT1",
    photo="image",
    check_read=_wa_read,
    handshake=({"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"}, "1158201444"),
    templates={"WHATSAPP_TEMPLATES": {"*": {"name": "status_update", "language": "nl"}}},
    check_template=_wa_template,
    window_error=httpx.Response(400, json={"error": {"code": 131047, "message": "Re-engagement message"}}),
    unknown="park",
)


# Telegram Bot API -----------------------------------------------------------------------------------------

TG_API = "https://telegram.example.test"
TG_TOKEN = "123456:ABC-token"


def _tg_request(delivery: Delivery, secret: str) -> WebhookRequest:
    return WebhookRequest("POST", f"{PUBLIC}/webhooks/telegram", {"X-Telegram-Bot-Api-Secret-Token": secret},
                          body=delivery.body, content_type="application/json")


def _tg_platform(fake: FakeHTTP) -> None:
    base = f"{TG_API}/bot{TG_TOKEN}"
    fake.on("POST", f"{base}/sendMessage", httpx.Response(200, json={"ok": True, "result": {"message_id": 501}}))
    fake.on("POST", f"{base}/answerCallbackQuery", httpx.Response(200, json={"ok": True, "result": True}))
    fake.on("POST", f"{base}/getFile",
            httpx.Response(200, json={"ok": True, "result": {"file_id": "P-big", "file_path": "photos/file_1.jpg"}}))
    fake.on("GET", f"{TG_API}/file/bot{TG_TOKEN}/photos/file_1.jpg",
            httpx.Response(200, content=PHOTO, headers={"content-type": "image/jpeg"}))


def _tg_text(request: httpx.Request, message: OutgoingMessage) -> None:
    assert request.method == "POST" and str(request.url) == f"{TG_API}/bot{TG_TOKEN}/sendMessage"
    assert json_of(request) == {"chat_id": message.to, "text": message.text,
                                "reply_markup": {"remove_keyboard": True}}


def _tg_button_press(request: httpx.Request) -> None:
    assert str(request.url) == f"{TG_API}/bot{TG_TOKEN}/answerCallbackQuery"
    assert json_of(request) == {"callback_query_id": "4382bfdwdsb323b2d9"}


TELEGRAM = Contract(
    kind="telegram",
    config={"TELEGRAM_BOT_TOKEN": TG_TOKEN, "TELEGRAM_SECRET_TOKEN": "tg-secret", "TELEGRAM_API_URL": TG_API},
    resident="111222333",
    deliveries=[
        Delivery("text", load("telegram", "text"), ["text"]),
        Delivery("photo", load("telegram", "photo"), ["photo"]),
        Delivery("location", load("telegram", "location"), ["location"]),
        Delivery("venue", load("telegram", "venue"), ["location"]),
        Delivery("callback", load("telegram", "callback_query"), ["reply"]),
        Delivery("voice", load("telegram", "voice"), ["unsupported"]),
        Delivery("member", load("telegram", "my_chat_member"), []),
    ],
    signed=lambda d: _tg_request(d, "tg-secret"),
    forged=lambda d: _tg_request(d, "not-the-secret"),
    platform=_tg_platform,
    check_text=_tg_text,
    sent_id="501",
    photo="photo",
    button_press="callback",
    check_button_press=_tg_button_press,
    unknown="park",
)


# Twilio Messaging (SMS and WhatsApp) ----------------------------------------------------------------------

TW_API = "https://twilio.example.test"
TW_SID = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
TW_FROM = "+3197010251234"
TW_URL = f"{PUBLIC}/webhooks/twilio"


def _tw_form(name: str, **changes: str) -> Delivery:
    form = {**json.loads(load("twilio", name)), **changes}
    return Delivery(name, urlencode(form).encode(), [], content_type="application/x-www-form-urlencoded", form=form)


def _tw_delivery(name: str, messages: list[str], statuses: list[str] = (), **changes: str) -> Delivery:
    delivery = _tw_form(name, **changes)
    delivery.messages, delivery.statuses = messages, list(statuses)
    return delivery


def _tw_request(delivery: Delivery, token: str) -> WebhookRequest:
    signature = twilio.compute_signature(token, TW_URL, delivery.form)
    return WebhookRequest("POST", TW_URL, {"X-Twilio-Signature": signature}, form=delivery.form, body=delivery.body,
                          content_type=delivery.content_type)


def _tw_platform(fake: FakeHTTP) -> None:
    messages = f"{TW_API}/2010-04-01/Accounts/{TW_SID}/Messages.json"
    fake.on("POST", messages, httpx.Response(201, json={"sid": "SMout0001", "status": "queued"}))
    fake.on("GET", messages, httpx.Response(200, json={"messages": []}))
    media = f"{TW_API}/2010-04-01/Accounts/{TW_SID}/Messages/MM7a2b3c4d5e6f708192a3b4c5d6e7f809/Media/ME111"
    fake.on("GET", media, lambda r: httpx.Response(307, headers={"location": "https://cdn.example.test/ME111"})
            if r.headers.get("authorization", "").startswith("Basic ") else httpx.Response(401))
    # The CDN gets no credentials: what it is sent with them would be a leak.
    fake.on("GET", "https://cdn.example.test/ME111",
            lambda r: httpx.Response(403) if "authorization" in r.headers
            else httpx.Response(200, content=PHOTO, headers={"content-type": "image/jpeg"}))


def _tw_text(request: httpx.Request, message: OutgoingMessage) -> None:
    assert request.method == "POST"
    assert str(request.url) == f"{TW_API}/2010-04-01/Accounts/{TW_SID}/Messages.json"
    assert request.headers["authorization"].startswith("Basic ")
    assert form_of(request) == {"From": TW_FROM, "To": message.to, "Body": message.text,
                                "StatusCallback": f"{PUBLIC}/webhooks/twilio?outbox={message.outbox_id}"}


def _tw_template(request: httpx.Request) -> None:
    form = form_of(request)
    assert form["ContentSid"] == "HXstatus" and "Body" not in form and form["From"] == f"whatsapp:{TW_FROM}"


def _tw_landed(fake: FakeHTTP, message: OutgoingMessage) -> None:
    from email.utils import format_datetime

    fake.on("GET", f"{TW_API}/2010-04-01/Accounts/{TW_SID}/Messages.json", httpx.Response(200, json={"messages": [
        {"sid": "SMlanded", "body": message.text, "status": "sent", "date_created": format_datetime(utcnow())}]}))


TWILIO = Contract(
    kind="twilio",
    config={"TWILIO_ACCOUNT_SID": TW_SID, "TWILIO_AUTH_TOKEN": "tw-token", "TWILIO_FROM": TW_FROM,
            "TWILIO_API_URL": TW_API, "PUBLIC_URL": PUBLIC},
    resident="+31612345678",
    deliveries=[
        _tw_delivery("sms_text", ["text"]),
        _tw_delivery("whatsapp_image", ["photo"],
                     MediaUrl0=f"{TW_API}/2010-04-01/Accounts/{TW_SID}/Messages/MM7a2b3c4d5e6f708192a3b4c5d6e7f809"
                               "/Media/ME111"),
        _tw_delivery("whatsapp_location_named", ["location"]),
        _tw_delivery("whatsapp_button", ["reply"]),
        _tw_delivery("whatsapp_voice", ["unsupported"]),
        _tw_delivery("status_delivered", [], ["delivered"]),
        _tw_delivery("status_failed", [], ["undelivered"]),
    ],
    signed=lambda d: _tw_request(d, "tw-token"),
    forged=lambda d: _tw_request(d, "not-the-token"),
    platform=_tw_platform,
    check_text=_tw_text,
    sent_id="SMout0001",
    photo="whatsapp_image",
    templates={"TWILIO_TEMPLATES": {"*": {"content_sid": "HXstatus"}}},
    check_template=_tw_template,
    window_resident="whatsapp:+31612345678",
    window_error=httpx.Response(400, json={"code": 63016, "message": "outside the allowed window"}),
    unknown="resend",  # Twilio's list is asked: a message it does not have did not land
    landed=_tw_landed,
)


# The website chat -----------------------------------------------------------------------------------------

CHAT_KEY = "contract-secret-key"


def _chat(body: dict) -> bytes:
    return json.dumps(body).encode()


def _chat_request(delivery: Delivery, token: str) -> WebhookRequest:
    return WebhookRequest("POST", f"{PUBLIC}/chat/api/messages", {"X-Chat-Session": token}, body=delivery.body,
                          content_type="application/json")


WEBCHAT = Contract(
    kind="webchat",
    config={},
    resident="webchat-session-1",
    deliveries=[
        Delivery("text", _chat({"id": "client-0001", "text": "Losse tegel"}), ["text"]),
        Delivery("photo", _chat({"id": "client-0002", "photos": ["tok-1"], "text": "zie foto"}), ["photo"]),
        Delivery("location", _chat({"id": "client-0003", "location": {"lat": 52.37, "lon": 4.89}}), ["location"]),
        Delivery("reply", _chat({"id": "client-0004", "reply": {"id": "confirm-yes", "title": "Ja"}}), ["reply"]),
    ],
    signed=lambda d: _chat_request(d, webchat.issue_session_token(CHAT_KEY, "webchat-session-1")),
    forged=lambda d: _chat_request(d, webchat.issue_session_token("another-key", "webchat-session-1")),
    platform=None,
    check_text=None,
    sent_id="webchat-7",
    unknown="resend",  # nothing left the service
    always_on=True,
)


# Facebook Messenger (Messenger Platform, a Page) -------------------------------------------------------------

FB_GRAPH = "https://graph.example.test/v21.0"
FB_PSID = "7712345678901234"


def _fb_request(delivery: Delivery, signature: str) -> WebhookRequest:
    return WebhookRequest("POST", f"{PUBLIC}/webhooks/messenger", {"X-Hub-Signature-256": signature},
                          body=delivery.body, content_type="application/json")


def _fb_platform(fake: FakeHTTP) -> None:
    fake.on("POST", f"{FB_GRAPH}/me/messages",
            lambda r: httpx.Response(200, json={"recipient_id": FB_PSID} if "sender_action" in json_of(r)
                                     else {"recipient_id": FB_PSID, "message_id": "m_OUT1"}))
    # The CDN URL Messenger sent: signed by Meta, fetched without the page token.
    fake.on("GET", "https://scontent.xx.fbcdn.net/",
            lambda r: httpx.Response(403) if "access_token" in str(r.url) or "authorization" in r.headers
            else httpx.Response(200, content=PHOTO, headers={"content-type": "image/jpeg"}))


def _fb_text(request: httpx.Request, message: OutgoingMessage) -> None:
    assert request.method == "POST" and str(request.url) == f"{FB_GRAPH}/me/messages?access_token=fb-page-token"
    assert json_of(request) == {"recipient": {"id": message.to}, "messaging_type": "RESPONSE",
                                "message": {"text": message.text, "metadata": message.reference}}


def _fb_read(request: httpx.Request) -> None:
    assert str(request.url).startswith(f"{FB_GRAPH}/me/messages")
    assert json_of(request) == {"recipient": {"id": FB_PSID}, "sender_action": "mark_seen"}


def _fb_human_agent(request: httpx.Request) -> None:
    body = json_of(request)
    assert body["messaging_type"] == "MESSAGE_TAG" and body["tag"] == "HUMAN_AGENT"


MESSENGER = Contract(
    kind="messenger",
    config={"MESSENGER_APP_SECRET": "fb-secret", "MESSENGER_VERIFY_TOKEN": "fb-verify",
            "MESSENGER_PAGE_ACCESS_TOKEN": "fb-page-token", "MESSENGER_GRAPH_URL": FB_GRAPH},
    resident=FB_PSID,
    deliveries=[
        Delivery("text", load("messenger", "text"), ["text"]),
        Delivery("edit", load("messenger", "message_edit"), ["text"]),
        Delivery("image", load("messenger", "image"), ["photo"]),
        Delivery("maps_link", load("messenger", "fallback_maps_link"), ["location"]),
        Delivery("location", load("messenger", "location_legacy"), ["location"]),
        Delivery("quick_reply", load("messenger", "quick_reply"), ["reply"]),
        Delivery("postback", load("messenger", "postback"), ["reply"]),
        Delivery("audio", load("messenger", "audio"), ["unsupported"]),
        Delivery("sticker", load("messenger", "sticker"), ["quiet"]),
        Delivery("echo", load("messenger", "echo"), [], ["sent"]),
        Delivery("delivery", load("messenger", "delivery"), [], ["delivered", "delivered"]),
        Delivery("read", load("messenger", "read"), [], ["read"]),
    ],
    signed=lambda d: _fb_request(d, messenger.sign("fb-secret", d.body)),
    forged=lambda d: _fb_request(d, messenger.sign("not-the-secret", d.body)),
    platform=_fb_platform,
    check_text=_fb_text,
    sent_id="m_OUT1",
    photo="image",
    check_read=_fb_read,
    handshake=({"hub.mode": "subscribe", "hub.verify_token": "fb-verify", "hub.challenge": "CHALLENGE_ACCEPTED"},
               "CHALLENGE_ACCEPTED"),
    late_changes={"template_key": "staff_reply"},  # a person's reply: HUMAN_AGENT, up to 7 days
    check_template=_fb_human_agent,
    window_error=httpx.Response(400, json={"error": {
        "message": "(#10) This message is sent outside of allowed window.", "type": "OAuthException", "code": 10,
        "error_subcode": 2018278}}),
    unknown="park",  # the page's echo carries our reference and settles it before; without one, a person
)


# Signal through signal-cli-rest-api (polled: a delivery is one received item) -----------------------------

SG_API = "https://signal-bridge.example.test"
SG_NUMBER = "+31970102512"


def _sg_item(name: str, index: int = 0) -> bytes:
    return json.dumps(json.loads(load("signal", name))[index]).encode()


def _sg_request(delivery: Delivery) -> WebhookRequest:
    """What the poll received from the bridge (nothing is pushed: there is no signature to forge)."""
    return WebhookRequest("GET", f"{SG_API}/v1/receive/{SG_NUMBER}", body=delivery.body,
                          content_type="application/json")


def _sg_platform(fake: FakeHTTP) -> None:
    fake.on("POST", f"{SG_API}/v2/send", httpx.Response(201, json={"timestamp": "1749416650000"}))
    fake.on("POST", f"{SG_API}/v1/receipts/{SG_NUMBER}", httpx.Response(204))
    fake.on("GET", f"{SG_API}/v1/attachments/tB4kOxXwz9H3jS6Ll0bq.jpg",
            httpx.Response(200, content=PHOTO, headers={"content-type": "image/jpeg"}))


def _sg_text(request: httpx.Request, message: OutgoingMessage) -> None:
    assert request.method == "POST" and str(request.url) == f"{SG_API}/v2/send"
    assert json_of(request) == {"message": message.text, "number": SG_NUMBER, "recipients": [message.to]}


def _sg_read(request: httpx.Request) -> None:
    assert str(request.url) == f"{SG_API}/v1/receipts/{SG_NUMBER}"
    assert json_of(request) == {"receipt_type": "read", "recipient": "+31612345678", "timestamp": 1749416382987}


SIGNAL = Contract(
    kind="signal",
    config={"SIGNAL_API_URL": SG_API, "SIGNAL_NUMBER": SG_NUMBER},
    resident="+31612345678",
    deliveries=[
        Delivery("text", _sg_item("text"), ["text"]),
        Delivery("photo", _sg_item("photo"), ["photo"]),
        Delivery("shared_location", _sg_item("shared_location"), ["location"]),
        Delivery("quote", _sg_item("quote"), ["text"]),
        Delivery("edit", _sg_item("edit"), ["text"]),
        Delivery("voice", _sg_item("voice"), ["unsupported"]),
        Delivery("reaction", _sg_item("reaction"), ["quiet"]),
        Delivery("receipts", _sg_item("receipts"), [], ["delivered", "delivered"]),
        Delivery("typing", _sg_item("typing_and_sync"), []),
        Delivery("sync", _sg_item("typing_and_sync", 1), []),
        Delivery("group", _sg_item("group"), []),
    ],
    signed=_sg_request,
    forged=_sg_request,
    platform=_sg_platform,
    check_text=_sg_text,
    sent_id="+31612345678:1749416650000",
    photo="photo",
    check_read=_sg_read,
    unknown="park",  # the bridge cannot tell what it sent: a person judges
)


# One line per adapter.
CASES = [
    WHATSAPP,
    TELEGRAM,
    TWILIO,
    WEBCHAT,
    MESSENGER,
    SIGNAL,
]


# --- The contract ------------------------------------------------------------------------------------------


@pytest.fixture(params=CASES, ids=lambda case: case.kind)
def case(request) -> Contract:
    return request.param


@pytest.fixture
def flask_app(case):
    """The app's configuration is all an adapter reads of the app."""
    app = Flask("contract")
    app.config.update(SECRET_KEY=CHAT_KEY, PLATFORM_TIMEOUT=5, **case.config)
    with app.app_context():
        yield app


@pytest.fixture
def adapter(case, flask_app) -> ChannelAdapter:
    return adapter_for(case.kind)


@pytest.fixture
def channel(adapter, flask_app) -> ChannelConfig:
    found = adapter.default_channel(flask_app.config)
    assert found is not None
    return found


@pytest.fixture
def fake(case) -> FakeHTTP:
    fake = FakeHTTP()
    if case.platform is not None:
        case.platform(fake)
    return fake


def delivery(case: Contract, name: str) -> Delivery:
    return next(d for d in case.deliveries if d.name == name)


def parsed_messages(adapter: ChannelAdapter, case: Contract, name: str) -> list[InboundMessage]:
    return adapter.parse(adapter.read_payload(case.signed(delivery(case, name)))).messages


def outgoing(case: Contract, *, to: str | None = None, hours_ago: float = 1, **changes) -> OutgoingMessage:
    values = {"outbox_id": 7, "to": to or case.resident, "text": "Dank u, uw melding is M-1234.",
              "last_inbound_at": utcnow() - timedelta(hours=hours_ago), **changes}
    return OutgoingMessage(**values)


def test_every_adapter_keeps_the_contract_and_is_a_channel_kind():
    assert sorted(c.kind for c in CASES) == sorted(kinds())
    assert len({a.webhook.endpoint for a in all_adapters() if a.webhook}) == sum(1 for a in all_adapters()
                                                                                 if a.webhook)


def test_identity_and_default_channel(case, adapter, channel, flask_app):
    assert adapter.kind == case.kind and adapter.name
    assert channel.kind == case.kind and channel.channel_id is None
    assert set(adapter.secret_names) <= set(channel.secrets)
    if not case.always_on:
        assert adapter.default_channel({}) is None
    if adapter.webhook is not None:
        assert adapter.webhook.path.startswith("/webhooks/") and adapter.webhook.endpoint
        assert adapter.acknowledgement().status == 200


def test_verify_accepts_a_good_signature_and_refuses_a_bad_one(case, adapter, channel):
    if adapter.capabilities.polled:  # nothing is pushed to a polled platform's channel: nothing verifies
        assert adapter.webhook is None and adapter.verify(case.signed(case.deliveries[0]), [channel]) == []
        return
    for documented in case.deliveries:
        assert adapter.verify(case.signed(documented), [channel]) == [channel], documented.name
        assert adapter.verify(case.forged(documented), [channel]) == [], documented.name
    unsigned = WebhookRequest("POST", case.signed(case.deliveries[0]).url, {}, body=case.deliveries[0].body)
    assert adapter.verify(unsigned, [channel]) == []


def test_handshake(case, adapter, channel):
    if case.handshake is None:
        assert adapter.handshake(WebhookRequest("GET", PUBLIC, args={"hub.challenge": "1"}), [channel]) is None
        return
    args, challenge = case.handshake
    answer = adapter.handshake(WebhookRequest("GET", PUBLIC, args=args), [channel])
    assert answer is not None and answer.status == 200 and answer.body == challenge
    wrong = {k: ("wrong" if "token" in k else v) for k, v in args.items()}
    assert adapter.handshake(WebhookRequest("GET", PUBLIC, args=wrong), [channel]) is None


def test_parse_gives_the_documented_messages_and_receipts(case, adapter):
    for documented in case.deliveries:
        parsed = adapter.parse(adapter.read_payload(case.signed(documented)))
        assert [m.kind for m in parsed.messages] == documented.messages, documented.name
        assert [s.status for s in parsed.statuses] == documented.statuses, documented.name
        assert not parsed.unreadable, documented.name
        for message in parsed.messages:
            assert message.channel_kind == case.kind and message.external_id and message.platform_user_id
            assert message.sent_at.tzinfo is not None
            assert InboundMessage.from_dict(json.loads(json.dumps(message.to_dict()))) == message


def test_parse_refuses_what_is_not_the_platforms_shape(adapter):
    for foreign in (["a", "list"], "text", {"object": "something else"}):
        with pytest.raises(PayloadError):
            adapter.parse(foreign)


def test_send_text_hits_the_documented_endpoint(case, adapter, channel, fake):
    message = outgoing(case)
    assert adapter.send(message, channel, now=utcnow(), client=fake.client()) == case.sent_id
    if case.check_text is None:
        assert fake.seen == [] and not adapter.capabilities.leaves_service
    else:
        case.check_text(fake.last, message)


def test_buttons_are_sent_or_said_in_words(case, adapter, channel, fake):
    buttons = ({"id": "confirm-yes", "title": "Ja"}, {"id": "confirm-no", "title": "Nee, aanpassen"})
    formatted = adapter.format_reply(Reply("Klopt dit?", buttons), lambda key: f"<{key}>")
    message = outgoing(case, text=formatted.text, buttons=tuple((b["id"], b["title"]) for b in formatted.buttons))
    adapter.send(message, channel, now=utcnow(), client=fake.client())
    sent = fake.last.content if fake.seen else b""
    if adapter.capabilities.buttons:
        assert formatted.text == "Klopt dit?" and formatted.buttons == buttons
        assert not adapter.capabilities.leaves_service or (b"confirm-yes" in sent and b"confirm-no" in sent)
    else:  # no buttons: the choices are numbered in the text, and the answer "2" is read by the buttons kept
        assert "1. Ja" in formatted.text and "2. Nee, aanpassen" in formatted.text and "<choose_number>" in formatted.text
        assert formatted.buttons == buttons and b"confirm-yes" not in sent


def test_location_request(case, adapter, channel, fake):
    formatted = adapter.format_reply(Reply("Waar is het?", location_request=True), lambda key: f"<{key}>")
    json.dumps(dict(formatted.payload))  # kept on the outbox row
    message = outgoing(case, text=formatted.text, location_request=True,
                       location_label=formatted.payload.get("location_label"))
    assert adapter.send(message, channel, now=utcnow(), client=fake.client()) == case.sent_id
    if adapter.capabilities.location_request and adapter.capabilities.leaves_service:
        assert b"location" in fake.last.content


def test_service_window_and_templates(case, adapter, channel, fake, flask_app):
    window = adapter.capabilities.service_window
    resident = case.window_resident or case.resident
    late = outgoing(case, to=resident, hours_ago=48)
    if window is None:
        assert adapter.send(late, channel, now=utcnow(), client=fake.client()) == case.sent_id
        return
    assert window < timedelta(hours=48)
    with pytest.raises(HeldForStaff):
        adapter.send(late, channel, now=utcnow(), client=fake.client())
    flask_app.config.update(case.templates)
    late = dataclasses.replace(late, **case.late_changes)
    assert adapter.send(late, channel, now=utcnow(), client=fake.client()) == case.sent_id
    case.check_template(fake.last)
    # The platform's own "outside the window" error holds the message too (its clock and ours disagreed).
    refusing = FakeHTTP()
    refusing.on("POST", "https://", case.window_error)
    with pytest.raises(HeldForStaff):
        adapter.send(outgoing(case, to=resident), channel, now=utcnow(), client=refusing.client())


def test_platform_errors_say_whether_to_try_again(case, adapter, channel):
    if not adapter.capabilities.leaves_service:
        return
    for status, retryable in ((503, True), (429, True), (400, False)):
        failing = FakeHTTP()
        failing.on("POST", "https://", httpx.Response(status, json={"error": {"message": "no"}}))
        with pytest.raises(PlatformError) as caught:
            adapter.send(outgoing(case), channel, now=utcnow(), client=failing.client())
        assert caught.value.retryable is retryable and not caught.value.uncertain
    def timeout(request):
        raise httpx.ReadTimeout("no answer", request=request)
    hanging = FakeHTTP()
    hanging.on("POST", "https://", timeout)
    with pytest.raises(PlatformError) as caught:
        adapter.send(outgoing(case), channel, now=utcnow(), client=hanging.client())
    assert caught.value.uncertain  # it may have landed: never simply sent again


def test_fetch_media(case, adapter, channel, fake):
    if adapter.capabilities.media_uploaded:  # the refs are our own photo tokens, stored at upload
        with pytest.raises(NotImplementedError):
            adapter.fetch_media("tok-1", channel, max_bytes=10**6, client=fake.client())
        return
    (message,) = parsed_messages(adapter, case, case.photo)
    download = adapter.fetch_media(message.media[0].ref, channel, max_bytes=10**6, client=fake.client())
    assert download.data == PHOTO and download.content_type == "image/jpeg"
    with pytest.raises(PlatformError) as caught:
        adapter.fetch_media(message.media[0].ref, channel, max_bytes=100, client=fake.client())
    assert caught.value.code == "too_large" and not caught.value.retryable


def test_mark_read_where_the_platform_has_read_receipts(case, adapter, channel, fake):
    (message,) = parsed_messages(adapter, case, case.deliveries[0].name)
    receipt = adapter.read_receipt(message)
    if not adapter.capabilities.read_receipts:
        assert receipt is None
        return
    json.dumps(receipt)  # kept on the outbox row
    adapter.mark_read(receipt, channel, timeout=1.0, client=fake.client())
    case.check_read(fake.last)


def test_button_press_is_acknowledged_where_the_platform_waits_for_it(case, adapter, channel, fake):
    for documented in case.deliveries:
        for message in parsed_messages(adapter, case, documented.name):
            before = len(fake.seen)
            adapter.answer_button_press(message, channel, client=fake.client())
            if documented.name == case.button_press:
                case.check_button_press(fake.last)
            else:
                assert len(fake.seen) == before, documented.name


def test_settle_an_unknown_send(case, adapter, channel, fake):
    message = outgoing(case)
    unknown = UnknownSend(message.outbox_id, message.to, message.text, utcnow() - timedelta(minutes=5),
                          "timeout calling the platform")
    settled = adapter.settle_unknown(unknown, channel, client=fake.client())
    assert settled.outcome == case.unknown and settled.reason
    if settled.outcome == "park":
        assert settled.ask_person  # only a person can tell: on the stuck list as "outcome unknown"
    if adapter.capabilities.delivery_receipts:
        assert adapter.capabilities.leaves_service  # receipts get their wait before this is asked
    if case.landed is not None:
        case.landed(fake, message)
        settled = adapter.settle_unknown(unknown, channel, client=fake.client())
        assert settled.outcome == "sent" and settled.platform_message_id
        broken = FakeHTTP()
        broken.on("GET", "https://", httpx.Response(503, json={"message": "down"}))
        assert adapter.settle_unknown(unknown, channel, client=broken.client()).outcome == "check_failed"
        assert adapter.settle_unknown(unknown, None, client=fake.client()).outcome == "park"


def test_message_key_is_the_platforms_own_and_stable(case, adapter):
    for documented in case.deliveries:
        raw = adapter.read_payload(case.signed(documented))
        for message in adapter.parse(raw).messages:
            key = adapter.message_key(message, raw if isinstance(raw, dict) else None)
            assert key and key == adapter.message_key(message, raw if isinstance(raw, dict) else None)


def test_staff_see_the_platform_and_never_the_whole_id(case, adapter):
    assert adapter.display_name(case.resident)
    masked = adapter.masked_id(case.resident)
    assert masked is None or (case.resident not in masked and masked.strip("…•+ 0123456789") == "")


def test_capabilities_agree_with_what_the_adapter_does(case, adapter):
    caps = adapter.capabilities
    assert caps.buttons >= 0 and caps.max_text_length > 0 and caps.pacing_seconds >= 0
    assert not caps.templates or caps.service_window is not None
    assert caps.leaves_service or caps.concurrency is None
    assert (adapter.webhook is None) or not caps.polled


# --- Through the service's own webhook route (with its database) ---------------------------------------------


@pytest.fixture
def app_config(case):
    return {**case.config, "SECRET_KEY": CHAT_KEY}


def test_the_webhook_route_verifies_stores_once_and_answers(case, app, client):
    from sqlalchemy import func, select

    from meldingen.channels.models import InboundEvent
    from meldingen.extensions import db

    adapter = adapter_for(case.kind)
    if adapter.webhook is None:
        pytest.skip(f"{case.kind} has no platform webhook")

    def post(request: WebhookRequest):
        path = request.url.removeprefix(PUBLIC)
        return client.post(path, data=request.body, headers=dict(request.headers), content_type=request.content_type)

    def stored() -> int:
        return db.session.scalar(select(func.count()).select_from(InboundEvent))

    answer = adapter.acknowledgement()
    for documented in case.deliveries:
        assert post(case.forged(documented)).status_code == 403, documented.name
        before = stored()
        response = post(case.signed(documented))
        assert response.status_code == answer.status and response.mimetype == answer.content_type, documented.name
        assert response.get_data(as_text=True) == answer.body
        after = stored()
        assert after > before, documented.name
        assert post(case.signed(documented)).status_code == 200 and stored() == after, documented.name
    assert post(case.signed(Delivery("foreign", b'["not", "the", "platform"]', [],
                                     content_type="application/json"))).status_code in (400, 403)
