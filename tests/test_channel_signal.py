"""Signal through signal-cli-rest-api: received envelopes as the bridge answers them, parsed; and the bridge's
REST calls as it receives them (faked at the HTTP boundary with httpx.MockTransport)."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timezone
from pathlib import Path

import httpx
import pytest
from fake_chat_platform import RESIDENTS, SIGNAL_NUMBER, USERS, install_send_routes, platform_config
from fake_platforms import jpeg_bytes
from sqlalchemy import select
from werkzeug.wrappers import Response

from meldingen.channels import signal_cli
from meldingen.channels.adapter import ChannelConfig, OutgoingMessage, Reply
from meldingen.channels.base import PlatformError
from meldingen.channels.messages import PayloadError
from meldingen.channels.models import InboundEvent
from meldingen.extensions import db
from meldingen.jobs import run_task
from meldingen.notify.models import OutboundMessage
from meldingen.reports.models import Report

PAYLOADS = Path(__file__).parent / "payloads" / "signal"
RESIDENT, OURS = "+31612345678", "+31970102512"
ADAPTER = signal_cli.SignalAdapter()
CHANNEL = ChannelConfig("signal", None, OURS, {}, "http://signal-bridge.internal:8080")
NOW = datetime(2026, 6, 8, 12, 0, tzinfo=UTC)


def load(name: str):
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def test_text_envelope_is_a_message_keyed_by_source_and_timestamp():
    (message,) = signal_cli.parse_received(load("text")).messages
    assert message.kind == "text" and message.text == "Er ligt een losse stoeptegel op de stoep"
    assert message.external_id == f"{RESIDENT}:1749416382987" and message.platform_user_id == RESIDENT
    assert message.display_name == "Bewoner" and message.channel_address == OURS
    assert message.sent_at == datetime.fromtimestamp(1749416382.987, tz=UTC)


def test_image_attachment_is_a_photo_with_the_bridges_attachment_id_and_the_text_as_caption():
    (message,) = signal_cli.parse_received(load("photo")).messages
    assert message.kind == "photo" and message.text == "Vuilniszakken naast de container"
    (media,) = message.media
    assert (media.ref, media.mime_type, media.file_size) == ("tB4kOxXwz9H3jS6Ll0bq.jpg", "image/jpeg", 183042)


def test_a_shared_location_is_the_maps_link_and_its_map_image_is_not_a_photo():
    (message,) = signal_cli.parse_received(load("shared_location")).messages
    assert message.kind == "location" and message.media == ()
    assert (message.location.lat, message.location.lon) == (52.3877221, 4.8925727)


@pytest.mark.parametrize("name, kind, unsupported", [("voice", "unsupported", "voice"),
                                                     ("reaction", "quiet", "reaction")])
def test_voice_notes_are_unsupported_and_reactions_quiet(name, kind, unsupported):
    (message,) = signal_cli.parse_received(load(name)).messages
    assert (message.kind, message.unsupported_type) == (kind, unsupported)


def test_an_edit_is_marked_and_keyed_like_the_message_it_corrects():
    (original,) = signal_cli.parse_received(load("text")).messages
    (raw,) = load("edit")
    (edit,) = ADAPTER.parse(raw).messages
    assert edit.edited and edit.text == "Er ligt een losse stoeptegel op het fietspad"
    assert edit.external_id != original.external_id  # stored as a message of its own
    assert ADAPTER.message_key(edit, raw) == ADAPTER.message_key(original, load("text")[0])


def test_a_quote_names_the_message_it_answers():
    (message,) = signal_cli.parse_received(load("quote")).messages
    assert message.text == "2" and message.context_id == f"{RESIDENT}:1749416650000"


def test_receipts_become_one_status_per_timestamp_named_like_our_sent_messages():
    statuses = signal_cli.parse_received(load("receipts")).statuses
    assert [(s.platform_message_id, s.status) for s in statuses] == [
        (f"{RESIDENT}:1749416650000", "delivered"), (f"{RESIDENT}:1749416660000", "delivered"),
        (f"{RESIDENT}:1749416650000", "read")]


@pytest.mark.parametrize("name", ["typing_and_sync", "group"])
def test_typing_sync_and_group_messages_carry_nothing_for_the_intake(name):
    parsed = signal_cli.parse_received(load(name))
    assert parsed.messages == [] and parsed.statuses == [] and parsed.unreadable == []


def test_a_malformed_envelope_is_kept_apart_and_the_rest_is_read():
    parsed = signal_cli.parse_received(load("malformed_batch"))
    assert [m.text for m in parsed.messages] == ["Boom omgevallen"]
    assert sorted(u.reason for u in parsed.unreadable) == [
        "envelope.timestamp is not a time in milliseconds: 'gisteren'", "received item is not an object"]
    assert parsed.unreadable[0].key == "+31687654321:gisteren"


def test_a_receive_answer_that_is_not_a_list_is_refused():
    with pytest.raises(PayloadError):
        signal_cli.parse_received({"envelope": {}})


def _bridge(routes: dict, seen: list) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = routes.get((request.method, request.url.path))
        if answer is None:
            return httpx.Response(404, json={"error": "not found"})
        return answer(request) if callable(answer) else answer

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_receive_asks_the_bridge_for_this_numbers_envelopes():
    seen: list[httpx.Request] = []
    client = _bridge({("GET", f"/v1/receive/{OURS}"): httpx.Response(200, json=load("text"))}, seen)
    items = ADAPTER.receive(CHANNEL, client=client)
    assert items == load("text")
    assert seen[0].url.params["send_read_receipts"] == "false" and seen[0].url.params["ignore_stories"] == "true"


def test_receive_in_json_rpc_mode_says_what_is_wrong():
    seen: list[httpx.Request] = []
    answer = httpx.Response(400, json={"error": "Only websocket mode is supported in json-rpc mode"})
    client = _bridge({("GET", f"/v1/receive/{OURS}"): answer}, seen)
    with pytest.raises(PlatformError, match="normal or native mode"):
        ADAPTER.receive(CHANNEL, client=client)


def test_send_posts_v2_send_and_names_the_message_by_recipient_and_timestamp():
    seen: list[httpx.Request] = []
    client = _bridge({("POST", "/v2/send"): httpx.Response(201, json={"timestamp": "1749416650000"})}, seen)
    platform_id = ADAPTER.send(OutgoingMessage(outbox_id=7, to=RESIDENT, text="Bedankt voor uw melding"), CHANNEL,
                               now=NOW, client=client)
    assert platform_id == f"{RESIDENT}:1749416650000"
    assert json.loads(seen[0].content) == {"message": "Bedankt voor uw melding", "number": OURS,
                                           "recipients": [RESIDENT]}


def test_send_with_a_base64_attachment():
    seen: list[httpx.Request] = []
    client = _bridge({("POST", "/v2/send"): httpx.Response(201, json={"timestamp": 1})}, seen)
    data = base64.b64encode(b"jpeg").decode()
    signal_cli.send_message(client, CHANNEL.api_url, OURS, RESIDENT, "kaart", [data])
    assert json.loads(seen[0].content)["base64_attachments"] == [data]


def test_attachment_is_fetched_from_the_bridge():
    seen: list[httpx.Request] = []
    client = _bridge({("GET", "/v1/attachments/tB4kOxXwz9H3jS6Ll0bq.jpg"):
                      httpx.Response(200, content=b"\xff\xd8jpeg", headers={"content-type": "image/jpeg"})}, seen)
    got = ADAPTER.fetch_media("tB4kOxXwz9H3jS6Ll0bq.jpg", CHANNEL, max_bytes=100, client=client)
    assert got.data == b"\xff\xd8jpeg"
    with pytest.raises(PlatformError):
        ADAPTER.fetch_media("../../etc/passwd", CHANNEL, max_bytes=100, client=client)


def test_read_receipt_names_the_residents_message_by_its_timestamp():
    seen: list[httpx.Request] = []
    client = _bridge({("POST", f"/v1/receipts/{OURS}"): httpx.Response(204)}, seen)
    (message,) = signal_cli.parse_received(load("text")).messages
    ADAPTER.mark_read(ADAPTER.read_receipt(message), CHANNEL, timeout=5, client=client)
    assert json.loads(seen[0].content) == {"receipt_type": "read", "recipient": RESIDENT, "timestamp": 1749416382987}


def test_typing_indicator():
    seen: list[httpx.Request] = []
    client = _bridge({("PUT", f"/v1/typing-indicator/{OURS}"): httpx.Response(204),
                      ("DELETE", f"/v1/typing-indicator/{OURS}"): httpx.Response(204)}, seen)
    signal_cli.typing(client, CHANNEL.api_url, OURS, RESIDENT)
    signal_cli.typing(client, CHANNEL.api_url, OURS, RESIDENT, started=False)
    assert [r.method for r in seen] == ["PUT", "DELETE"]


def test_choices_are_a_numbered_list_because_signal_has_no_buttons():
    reply = ADAPTER.format_reply(Reply("Is het probleem daar?", ({"id": "gps:yes", "title": "Ja"},
                                                                 {"id": "gps:no", "title": "Nee"})),
                                 lambda key: "Antwoord met het nummer:")
    assert reply.text == "Is het probleem daar?\nAntwoord met het nummer:\n1. Ja\n2. Nee" and len(reply.buttons) == 2


def test_default_channel_needs_the_bridge_and_the_number():
    assert ADAPTER.default_channel({"SIGNAL_API_URL": "http://bridge"}) is None
    channel = ADAPTER.default_channel({"SIGNAL_API_URL": "http://bridge:8080", "SIGNAL_NUMBER": OURS})
    assert (channel.address, signal_cli.bridge_url(channel)) == (OURS, "http://bridge:8080")


# --- Through the app: the poll, the outbox, receipts ------------------------------------------------------

AMSTERDAM = (52.3877221, 4.8925727)


@pytest.fixture
def app_config(fake):
    install_send_routes(fake)
    return platform_config(fake)


def poll(app, fake, items) -> None:
    fake.signal_inbox.extend(items)
    run_task(app, "channels.poll", {})


def events():
    return db.session.scalars(select(InboundEvent).order_by(InboundEvent.id)).all()


def test_the_poll_stores_each_envelope_once_under_our_number_source_and_timestamp(app, fake):
    poll(app, fake, load("text"))
    poll(app, fake, load("text"))  # the same envelope again (a bridge that answered, then failed): nothing new
    (event,) = events()
    assert event.channel_kind == "signal" and event.external_key == f"{SIGNAL_NUMBER}:{RESIDENT}:1749416382987"
    assert fake.signal_inbox == []


def test_typing_and_sync_envelopes_are_kept_for_the_record_and_not_processed(app, fake):
    poll(app, fake, load("typing_and_sync"))
    assert [e.state for e in events()] == ["done", "done"]


def test_an_unreadable_envelope_is_kept_raw_and_the_good_one_is_processed(app, fake):
    poll(app, fake, load("malformed_batch"))
    states = sorted(e.state for e in events())
    assert states == ["done", "unreadable", "unreadable"]


def test_a_bridge_that_is_down_loses_nothing(app, fake):
    fake.signal_inbox.extend(load("text"))
    receive = fake.routes[("GET", f"/signal/v1/receive/{SIGNAL_NUMBER}")]
    fake.routes[("GET", f"/signal/v1/receive/{SIGNAL_NUMBER}")] = lambda r: Response("bad gateway", status=502)
    run_task(app, "channels.poll", {})
    assert events() == [] and len(fake.signal_inbox) == 1  # still waiting at the bridge
    fake.routes[("GET", f"/signal/v1/receive/{SIGNAL_NUMBER}")] = receive
    run_task(app, "channels.poll", {})
    assert len(events()) == 1


def _messages():
    return db.session.scalars(select(OutboundMessage).where(OutboundMessage.template_key != "read_receipt")
                              .order_by(OutboundMessage.id)).all()


def test_receipts_move_our_messages_to_delivered_and_read(app, client, fake):
    resident = RESIDENTS["signal"](client, fake, USERS["signal"][0])
    resident.send_text("Losse stoeptegel")
    resident.send_location(*AMSTERDAM)
    sent = _messages()
    assert len(sent) == 2 and all(m.state == "sent" for m in sent)
    timestamps = [int(m.platform_message_id.rpartition(":")[2]) for m in sent]
    now = int(time.time() * 1000)

    def receipt(kind: str, stamps: list[int], when: int) -> dict:
        return {"envelope": {"source": resident.user, "sourceNumber": resident.user, "sourceDevice": 1,
                             "timestamp": when, "receiptMessage": {
                                 "when": when, "isDelivery": kind == "delivery", "isRead": kind == "read",
                                 "isViewed": False, "timestamps": stamps}}, "account": SIGNAL_NUMBER}

    poll(app, fake, [receipt("delivery", timestamps, now), receipt("read", timestamps[:1], now + 1)])
    db.session.expire_all()
    assert [m.state for m in _messages()] == ["read", "delivered"]


def test_the_residents_message_gets_a_read_receipt_once_processed(client, fake):
    resident = RESIDENTS["signal"](client, fake, USERS["signal"][0])
    resident.send_text("Losse stoeptegel")
    (receipt,) = fake.requests_to(f"/signal/v1/receipts/{SIGNAL_NUMBER}")
    body = json.loads(receipt.body)
    assert body["receipt_type"] == "read" and body["recipient"] == resident.user


def test_an_edited_description_replaces_the_words_it_corrects(client, fake):
    resident = RESIDENTS["signal"](client, fake, USERS["signal"][0])
    resident.send_text("Er ligt een losse stoeptegel op de stoep")
    resident.edit_text(0, "Er ligt een losse stoeptegel op het fietspad")
    resident.send_location(*AMSTERDAM)
    report = db.session.scalar(select(Report))
    assert report.description == "Er ligt een losse stoeptegel op het fietspad"


def test_choices_arrive_as_a_numbered_list_and_the_number_answers(client, fake):
    from PIL import Image

    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (52.0, 23.0, 15.8), 3: "E", 4: (4.0, 53.0, 33.26)}
    resident = RESIDENTS["signal"](client, fake, USERS["signal"][0])
    resident.send_photo(caption="Graffiti op de muur", data=jpeg_bytes(exif=exif))
    question = resident.replies()[-1]
    assert "Is het probleem daar" in question and "\n1. " in question
    resident.send_text("1")
    assert db.session.scalar(select(Report)) is not None
