"""Facebook Messenger: payloads as Meta documents them, parsed; the handshake, the signature, and the Send API
calls as Messenger receives them (faked at the HTTP boundary with httpx.MockTransport)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from fake_chat_platform import FB_SECRET, RESIDENTS, USERS, install_send_routes, platform_config
from sqlalchemy import select

from meldingen.channels import messenger
from meldingen.channels.adapter import ChannelConfig, HeldForStaff, OutgoingMessage
from meldingen.channels.base import PlatformError
from meldingen.channels.messages import PayloadError
from meldingen.channels.models import InboundEvent
from meldingen.extensions import db
from meldingen.notify.models import OutboundMessage
from meldingen.reports.models import Report
from meldingen.reports.services import change_status
from meldingen.residents.models import Conversation, Reporter

PAYLOADS = Path(__file__).parent / "payloads" / "messenger"
PSID, PAGE = "7712345678901234", "104857600000001"
ADAPTER = messenger.MessengerAdapter()
CHANNEL = ChannelConfig("messenger", None, None, {"app_secret": "s3cret", "verify_token": "vt",
                                                  "page_access_token": "PAGE-TOKEN"}, "https://graph.test/v21.0")
NOW = datetime(2026, 6, 8, 12, 0, tzinfo=UTC)


def load(name: str):
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def test_text_message_is_read_with_its_mid_sender_and_time():
    (message,) = messenger.parse_webhook(load("text")).messages
    assert message.kind == "text" and message.text == "Er ligt een losse stoeptegel op de stoep"
    assert message.external_id.startswith("m_AG5Hz2Uq") and message.platform_user_id == PSID
    assert message.channel_address == PAGE and message.channel_kind == "messenger"
    assert message.sent_at == datetime.fromtimestamp(1749416382.987, tz=UTC)


def test_image_attachment_is_a_photo_whose_reference_is_the_cdn_url():
    (message,) = messenger.parse_webhook(load("image")).messages
    assert message.kind == "photo" and message.media[0].ref.startswith("https://scontent.xx.fbcdn.net/")


def test_quick_reply_and_postback_are_button_answers():
    (reply,) = messenger.parse_webhook(load("quick_reply")).messages
    assert (reply.kind, reply.reply_id, reply.reply_title) == ("reply", "gps:yes", "Ja")
    (postback,) = messenger.parse_webhook(load("postback")).messages
    assert (postback.kind, postback.reply_id, postback.external_id) == ("reply", "GET_STARTED", "m_postback0001")


@pytest.mark.parametrize("name", ["fallback_maps_link", "location_legacy"])
def test_a_map_link_or_the_legacy_location_attachment_is_a_place(name):
    (message,) = messenger.parse_webhook(load(name)).messages
    assert message.kind == "location"
    assert (message.location.lat, message.location.lon) == (52.3877221, 4.8925727)


@pytest.mark.parametrize("name, kind, unsupported", [("sticker", "quiet", "sticker"), ("audio", "unsupported", "voice")])
def test_stickers_are_quiet_and_voice_clips_unsupported(name, kind, unsupported):
    (message,) = messenger.parse_webhook(load(name)).messages
    assert (message.kind, message.unsupported_type) == (kind, unsupported)


def test_echo_is_no_message_but_a_sent_receipt_carrying_our_outbox_reference():
    parsed = messenger.parse_webhook(load("echo"))
    assert parsed.messages == []
    (status,) = parsed.statuses
    assert (status.platform_message_id, status.status, status.reference) == ("m_echo0001", "sent", "outbox:42")


def test_echo_without_our_reference_is_ignored():
    body = load("echo")
    del body["entry"][0]["messaging"][0]["message"]["metadata"]
    parsed = messenger.parse_webhook(body)
    assert parsed.messages == [] and parsed.statuses == []


def test_delivery_names_its_mids_and_read_is_a_watermark_of_the_resident():
    delivered = messenger.parse_webhook(load("delivery")).statuses
    assert [(s.platform_message_id, s.status) for s in delivered] == [("m_out0001", "delivered"),
                                                                      ("m_out0002", "delivered")]
    (read,) = messenger.parse_webhook(load("read")).statuses
    assert messenger.is_watermark(read) and read.status == "read"
    assert messenger.watermark_recipient(read) == PSID
    assert read.at == datetime.fromtimestamp(1749417098, tz=UTC)
    expanded = messenger.watermark_statuses(read, ["m_out0001"])
    assert [(s.platform_message_id, s.status, s.at) for s in expanded] == [("m_out0001", "read", read.at)]


def test_an_edit_is_a_text_marked_edited_keyed_like_the_message_it_corrects():
    (original,) = messenger.parse_webhook(load("text")).messages
    (edit,) = messenger.parse_webhook(load("message_edit")).messages
    assert edit.edited and edit.kind == "text" and edit.text == "Er ligt een losse stoeptegel op het fietspad"
    assert edit.external_id == f"{original.external_id}#edit1"
    assert ADAPTER.message_key(edit, None) == ADAPTER.message_key(original, None)


def test_reactions_are_not_messages():
    parsed = messenger.parse_webhook(load("reaction"))
    assert parsed.messages == [] and parsed.statuses == [] and parsed.unreadable == []


def test_a_batch_is_read_whole_and_an_unreadable_event_is_kept_apart():
    parsed = messenger.parse_webhook(load("batch"))
    assert [m.external_id for m in parsed.messages] == ["m_batch0001", "m_batch0002"]
    assert parsed.messages[1].context_id == "m_out0001"
    assert len(parsed.statuses) == 1 and messenger.is_watermark(parsed.statuses[0])
    (bad,) = parsed.unreadable
    assert bad.reason == "message.mid is missing" and bad.key.startswith("sha256:")


@pytest.mark.parametrize("body", [[], {"object": "whatsapp_business_account", "entry": []}, {"object": "page"}])
def test_a_body_that_is_not_a_page_delivery_is_refused(body):
    with pytest.raises(PayloadError):
        messenger.parse_webhook(body)


def test_signature_is_hmac_sha256_of_the_raw_body():
    raw = json.dumps(load("text")).encode()
    header = messenger.sign("s3cret", raw)
    assert messenger.verify_signature("s3cret", raw, header)
    assert not messenger.verify_signature("s3cret", raw + b" ", header)
    assert not messenger.verify_signature("other", raw, header)
    assert not messenger.verify_signature("", raw, header) and not messenger.verify_signature("s3cret", raw, None)


def test_handshake_echoes_the_challenge_only_for_the_right_token():
    args = {"hub.mode": "subscribe", "hub.verify_token": "vt", "hub.challenge": "1158201444"}
    assert messenger.verify_handshake(args, "vt") == "1158201444"
    assert messenger.verify_handshake({**args, "hub.verify_token": "nope"}, "vt") is None
    assert messenger.verify_handshake({**args, "hub.mode": "unsubscribe"}, "vt") is None
    assert messenger.verify_handshake(args, "") is None


def _graph(answer: dict | None = None, status: int = 200, seen: list | None = None) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(status, json=answer if answer is not None else
                              {"recipient_id": PSID, "message_id": "m_sent0001"})

    return httpx.Client(transport=httpx.MockTransport(handler))


def outgoing(**changes) -> OutgoingMessage:
    values = {"outbox_id": 42, "to": PSID, "text": "Waar is het probleem?", "last_inbound_at": NOW - timedelta(minutes=5)}
    values.update(changes)
    return OutgoingMessage(**values)


def test_send_inside_the_window_is_a_response_with_quick_replies_and_our_reference():
    seen: list[httpx.Request] = []
    mid = ADAPTER.send(outgoing(buttons=(("gps:yes", "Ja"), ("gps:no", "Nee, ergens anders"))), CHANNEL, now=NOW,
                       client=_graph(seen=seen))
    assert mid == "m_sent0001"
    (request,) = seen
    assert request.method == "POST" and request.url.path == "/v21.0/me/messages"
    assert request.url.params["access_token"] == "PAGE-TOKEN"
    assert json.loads(request.content) == {
        "recipient": {"id": PSID}, "messaging_type": "RESPONSE",
        "message": {"text": "Waar is het probleem?", "metadata": "outbox:42", "quick_replies": [
            {"content_type": "text", "title": "Ja", "payload": "gps:yes"},
            {"content_type": "text", "title": "Nee, ergens anders", "payload": "gps:no"}]}}


def test_outside_the_window_a_status_update_is_held_and_a_persons_reply_goes_as_human_agent():
    late = NOW - timedelta(days=2)
    with pytest.raises(HeldForStaff):
        ADAPTER.send(outgoing(last_inbound_at=late, template_key="status_changed"), CHANNEL, now=NOW,
                     client=_graph())
    seen: list[httpx.Request] = []
    ADAPTER.send(outgoing(last_inbound_at=late, template_key="staff_reply"), CHANNEL, now=NOW, client=_graph(seen=seen))
    body = json.loads(seen[0].content)
    assert body["messaging_type"] == "MESSAGE_TAG" and body["tag"] == "HUMAN_AGENT"
    with pytest.raises(HeldForStaff):  # a person, but more than 7 days later
        ADAPTER.send(outgoing(last_inbound_at=NOW - timedelta(days=8), template_key="staff_reply"), CHANNEL,
                     now=NOW, client=_graph())


def test_messengers_own_window_error_holds_the_message():
    error = {"error": {"message": "(#10) This message is sent outside of allowed window.", "type": "OAuthException",
                       "code": 10, "error_subcode": 2018278, "fbtrace_id": "AbC"}}
    with pytest.raises(HeldForStaff):
        ADAPTER.send(outgoing(), CHANNEL, now=NOW, client=_graph(error, status=400))


def test_other_errors_stay_platform_errors_retryable_when_they_may_pass():
    error = {"error": {"message": "(#2) Service temporarily unavailable", "type": "OAuthException", "code": 2}}
    with pytest.raises(PlatformError) as caught:
        ADAPTER.send(outgoing(), CHANNEL, now=NOW, client=_graph(error, status=503))
    assert caught.value.retryable


def test_mark_seen_is_a_sender_action():
    seen: list[httpx.Request] = []
    (message,) = messenger.parse_webhook(load("text")).messages
    ADAPTER.mark_read(ADAPTER.read_receipt(message), CHANNEL, timeout=5,
                      client=_graph({"recipient_id": PSID}, seen=seen))
    assert json.loads(seen[0].content) == {"recipient": {"id": PSID}, "sender_action": "mark_seen"}


def test_attachment_is_downloaded_from_the_url_messenger_sent_without_the_token():
    seen: list[httpx.Request] = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200, content=b"\xff\xd8jpeg", headers={"content-type": "image/jpeg"})

    (message,) = messenger.parse_webhook(load("image")).messages
    got = ADAPTER.fetch_media(message.media[0].ref, CHANNEL, max_bytes=1000,
                              client=httpx.Client(transport=httpx.MockTransport(handler)))
    assert got.data == b"\xff\xd8jpeg" and got.content_type == "image/jpeg"
    assert "access_token" not in str(seen[0].url) and "authorization" not in seen[0].headers


def test_default_channel_comes_from_the_environment():
    assert ADAPTER.default_channel({}) is None
    channel = ADAPTER.default_channel({"MESSENGER_APP_SECRET": "a", "MESSENGER_VERIFY_TOKEN": "v",
                                       "MESSENGER_PAGE_ACCESS_TOKEN": "t"})
    assert channel.secret("page_access_token") == "t" and channel.api_url == messenger.DEFAULT_GRAPH_URL


# --- Through the app: /webhooks/messenger, the outbox, receipts ------------------------------------------

AMSTERDAM = (52.3877221, 4.8925727)


@pytest.fixture
def app_config(fake):
    install_send_routes(fake)
    return platform_config(fake)


def post(client, body, secret: str = FB_SECRET):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post("/webhooks/messenger", data=raw, content_type="application/json",
                       headers={messenger.SIGNATURE_HEADER: messenger.sign(secret, raw)})


def events():
    return db.session.scalars(select(InboundEvent).order_by(InboundEvent.id)).all()


def test_webhook_handshake_answers_the_challenge(client):
    query = {"hub.mode": "subscribe", "hub.verify_token": "fb-verify", "hub.challenge": "CHALLENGE_ACCEPTED"}
    response = client.get("/webhooks/messenger", query_string=query)
    assert response.status_code == 200 and response.get_data(as_text=True) == "CHALLENGE_ACCEPTED"
    assert client.get("/webhooks/messenger", query_string={**query, "hub.verify_token": "x"}).status_code == 403


def test_signed_delivery_is_stored_once_and_a_wrong_signature_stores_nothing(client):
    assert post(client, load("text"), secret="wrong").status_code == 403
    assert events() == []
    assert post(client, load("text")).status_code == 200
    assert post(client, load("text")).status_code == 200  # Meta redelivers: nothing new
    (event,) = events()
    assert event.channel_kind == "messenger" and event.external_key == load("text")["entry"][0]["messaging"][0][
        "message"]["mid"]


def test_a_body_not_of_the_page_shape_gets_400(client):
    assert post(client, {"object": "instagram", "entry": []}).status_code == 400
    assert events() == []


def test_a_batch_stores_its_messages_and_keeps_the_unreadable_event(client):
    assert post(client, load("batch")).status_code == 200
    states = sorted(e.state for e in events())
    assert states.count("unreadable") == 1 and len([e for e in events() if e.external_key.startswith("m_batch")]) == 2


def _conversation(client, fake):
    resident = RESIDENTS["messenger"](client, fake, USERS["messenger"][0])
    resident.send_text("Losse stoeptegel")
    resident.send_location(*AMSTERDAM)
    return resident


def _messages():
    return db.session.scalars(select(OutboundMessage).where(OutboundMessage.template_key != "read_receipt")
                              .order_by(OutboundMessage.id)).all()


def test_delivery_and_read_watermark_receipts_reach_the_outbox(client, fake):
    resident = _conversation(client, fake)
    sent = _messages()
    assert len(sent) == 2 and all(m.state == "sent" for m in sent)
    first = sent[0].platform_message_id
    delivery = {"object": "page", "entry": [{"id": "104857600000001", "time": 1, "messaging": [
        {"sender": {"id": resident.user}, "recipient": {"id": "104857600000001"},
         "delivery": {"mids": [first], "watermark": int(time.time() * 1000)}}]}]}
    assert post(client, delivery).status_code == 200
    db.session.expire_all()
    assert [m.state for m in _messages()] == ["delivered", "sent"]
    read = {"object": "page", "entry": [{"id": "104857600000001", "time": 1, "messaging": [
        {"sender": {"id": resident.user}, "recipient": {"id": "104857600000001"}, "timestamp": 1,
         "read": {"watermark": int(time.time() * 1000) + 1000}}]}]}
    assert post(client, read).status_code == 200
    db.session.expire_all()
    assert [m.state for m in _messages()] == ["read", "read"]


def test_the_residents_message_is_marked_seen_and_replies_carry_our_reference(client, fake):
    _conversation(client, fake)
    bodies = [json.loads(s.body) for s in fake.requests_to("/fb/v21.0/me/messages")]
    assert {"recipient": {"id": USERS["messenger"][0]}, "sender_action": "mark_seen"} in bodies
    replies = [b for b in bodies if "message" in b]
    assert all(b["messaging_type"] == "RESPONSE" and b["message"]["metadata"].startswith("outbox:") for b in replies)


def test_an_edited_description_replaces_the_words_it_corrects(client, fake):
    resident = RESIDENTS["messenger"](client, fake, USERS["messenger"][0])
    resident.send_text("Er ligt een losse stoeptegel op de stoep")
    resident.edit_text(0, "Er ligt een losse stoeptegel op het fietspad")
    resident.send_location(*AMSTERDAM)
    assert db.session.scalar(select(Report)).description == "Er ligt een losse stoeptegel op het fietspad"


def test_an_echo_with_our_reference_settles_a_send_whose_answer_never_came(client, fake):
    _conversation(client, fake)
    row = _messages()[-1]
    row.state, row.platform_message_id, row.sent_at = "unknown", None, None
    db.session.commit()
    echo = load("echo")
    echo["entry"][0]["messaging"][0]["message"]["metadata"] = f"outbox:{row.id}"
    assert post(client, echo).status_code == 200
    db.session.expire_all()
    row = db.session.get(OutboundMessage, row.id)
    assert (row.state, row.platform_message_id) == ("sent", "m_echo0001")


def test_a_status_update_outside_the_window_is_held_until_the_resident_writes_again(client, fake):
    resident = _conversation(client, fake)
    reporter = db.session.scalar(select(Reporter).where(Reporter.channel_kind == "messenger"))
    reporter.last_inbound_at = reporter.last_inbound_at - timedelta(days=2)
    db.session.commit()
    report = db.session.scalar(select(Report))
    count = len(resident.replies())
    change_status(report, "in_progress", actor="crew")
    change_status(report, "done", "intern: klus 4411", actor="crew", resident_message="Tegel is teruggelegd.")
    db.session.commit()
    held = _messages()[-1]
    assert held.state == "held" and len(resident.replies()) == count
    conversation = db.session.get(Conversation, held.conversation_id)
    assert conversation.needs_person and "Messenger" in conversation.needs_person_reason
    resident.send_text(f"status {report.reference}")
    assert any("Tegel is teruggelegd." in text for text in resident.replies()[count:])


@pytest.mark.parametrize("text, expected", [
    ("https://maps.google.com/?q=52.3877221,4.8925727", (52.3877221, 4.8925727)),
    ("kijk hier https://www.google.com/maps/place/Westerdoksdijk/@52.3877,4.8925,17z/data=x", (52.3877, 4.8925)),
    ("https://www.google.nl/maps/place/X/data=!3m1!4b1!4m5!3m4!1s0x0:0x0!8m2!3d52.38772!4d4.89257",
     (52.38772, 4.89257)),
    ("https://maps.apple.com/?ll=52.3877,4.8925&q=Pin", (52.3877, 4.8925)),
    ("https://www.openstreetmap.org/?mlat=52.3877&mlon=4.8925#map=19/52.3877/4.8925", (52.3877, 4.8925)),
    ("https://www.openstreetmap.org/#map=18/52.38772/4.89257", (52.38772, 4.89257)),
    ("https://maps.google.com/maps?q=52.3877221%2C4.8925727.", (52.3877221, 4.8925727)),
])
def test_map_links_name_a_place(text, expected):
    from meldingen.channels import maplinks

    location = maplinks.location_from_text(text)
    assert location is not None and (location.lat, location.lon) == expected


@pytest.mark.parametrize("text", [
    "Westerdoksdijk 40A", "https://example.com/?q=52.38,4.89", "https://maps.google.com/?q=Westerdoksdijk+40A",
    "https://maps.google.com/?q=152.0,4.89", "",
])
def test_other_links_and_addresses_are_no_place_from_a_link(text):
    from meldingen.channels import maplinks

    assert maplinks.location_from_text(text) is None
