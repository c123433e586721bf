"""Platform webhook contracts without the web layer: signatures, every message type, batches, statuses, garbage;
and the outbound clients against httpx.MockTransport (retryable errors, credentials kept on their host)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from meldingen.channels import telegram, twilio, webchat, whatsapp
from meldingen.channels.base import PlatformError
from meldingen.channels.messages import InboundMessage, PayloadError

PAYLOADS = Path(__file__).parent / "payloads"
NOW = datetime(2025, 6, 9, 12, 0, tzinfo=UTC)


def payload(platform: str, name: str):
    return json.loads((PAYLOADS / platform / f"{name}.json").read_text())


def raw(platform: str, name: str) -> bytes:
    return (PAYLOADS / platform / f"{name}.json").read_bytes()


def only(parsed) -> InboundMessage:
    assert len(parsed.messages) == 1 and not parsed.statuses
    return parsed.messages[0]


# --- WhatsApp: signature and handshake ---------------------------------------------------------------------


def test_whatsapp_signature_matches_the_documented_test_vector():
    expected = "sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914"
    assert whatsapp.verify_signature("secret", b"test", expected)


def test_whatsapp_signature_is_over_the_raw_body_with_escaped_unicode():
    body = raw("whatsapp", "text")
    header = "sha256=" + hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
    assert whatsapp.verify_signature("app-secret", body, header)
    reserialised = json.dumps(json.loads(body), ensure_ascii=False).encode()
    assert not whatsapp.verify_signature("app-secret", reserialised, header)


@pytest.mark.parametrize("header", [None, "", "sha256=", "sha1=abc", "sha256=" + "0" * 64,
                                    whatsapp.sign("other-secret", b"test")])
def test_whatsapp_wrong_or_missing_signature_is_refused(header):
    assert not whatsapp.verify_signature("secret", b"test", header)


def test_whatsapp_signature_without_a_configured_secret_is_refused():
    assert not whatsapp.verify_signature("", b"test", whatsapp.sign("", b"test"))


def test_whatsapp_handshake_echoes_the_challenge_only_for_the_right_token():
    args = {"hub.mode": "subscribe", "hub.verify_token": "mijn-token", "hub.challenge": "1158201444"}
    assert whatsapp.verify_handshake(args, "mijn-token") == "1158201444"
    assert whatsapp.verify_handshake({**args, "hub.verify_token": "fout"}, "mijn-token") is None
    assert whatsapp.verify_handshake({**args, "hub.mode": "unsubscribe"}, "mijn-token") is None
    assert whatsapp.verify_handshake(args, "") is None


# --- WhatsApp: every message type ---------------------------------------------------------------------------


def test_whatsapp_text_keeps_sender_name_time_and_our_number():
    message = only(whatsapp.parse_webhook(payload("whatsapp", "text")))
    assert message.kind == "text"
    assert message.text == "Losse stoeptegel voor de bakker, gevaarlijk! é"
    assert message.external_id.startswith("wamid.")
    assert message.platform_user_id == "16505551234"
    assert message.display_name == "Sheena Nelson"
    assert message.sent_at == datetime.fromtimestamp(1749416383, tz=UTC)
    assert message.channel_address == "106540352242922"


def test_whatsapp_image_with_caption_counts_the_caption_as_text():
    message = only(whatsapp.parse_webhook(payload("whatsapp", "image_caption")))
    assert message.kind == "photo"
    assert message.text == "Kapotte lantaarnpaal"
    assert message.media[0].ref == "1003383421387256"
    assert message.media[0].mime_type == "image/jpeg"
    assert message.media[0].sha256.startswith("f5f3")


def test_whatsapp_image_without_caption_has_no_text():
    message = only(whatsapp.parse_webhook(payload("whatsapp", "image")))
    assert message.kind == "photo" and message.text is None and message.media[0].ref == "1003383421387257"


def test_whatsapp_location_of_a_named_place_keeps_name_and_address():
    message = only(whatsapp.parse_webhook(payload("whatsapp", "location_named")))
    assert message.kind == "location"
    assert (message.location.lat, message.location.lon) == (52.3791283, 4.900272)
    assert message.location.name == "Amsterdam Centraal"
    assert message.location.address == "Stationsplein, 1012 AB Amsterdam"


def test_whatsapp_dropped_pin_has_no_name():
    message = only(whatsapp.parse_webhook(payload("whatsapp", "location_pin")))
    assert message.location.name is None and message.location.address is None
    assert message.location.lat == 52.0907


def test_whatsapp_button_reply_names_our_button_and_our_message():
    message = only(whatsapp.parse_webhook(payload("whatsapp", "interactive_button_reply")))
    assert (message.kind, message.reply_id, message.reply_title) == ("reply", "confirm-yes", "Ja, klopt")
    assert message.context_id == "wamid.OURBUTTONS"


def test_whatsapp_list_reply():
    message = only(whatsapp.parse_webhook(payload("whatsapp", "interactive_list_reply")))
    assert (message.kind, message.reply_id, message.reply_title) == ("reply", "addr-2", "Kerkstraat 12")


def test_whatsapp_template_quick_reply_button():
    message = only(whatsapp.parse_webhook(payload("whatsapp", "template_button")))
    assert (message.kind, message.reply_id, message.reply_title) == ("reply", "fixed-no", "Nee, nog niet")


@pytest.mark.parametrize("name, unsupported_type", [
    ("voice", "voice"), ("unsupported_poll", "poll_creation"), ("document_pdf", "document"),
    ("unknown_type", "hologram"),
])
def test_whatsapp_types_without_report_content_are_unsupported(name, unsupported_type):
    message = only(whatsapp.parse_webhook(payload("whatsapp", name)))
    assert message.kind == "unsupported" and message.unsupported_type == unsupported_type


def test_whatsapp_heic_photo_sent_as_document_is_a_photo():
    message = only(whatsapp.parse_webhook(payload("whatsapp", "document_heic")))
    assert message.kind == "photo" and message.media[0].mime_type == "image/heic"
    assert message.text == "Boom over het fietspad"


def test_whatsapp_statuses_are_read_with_their_errors():
    parsed = whatsapp.parse_webhook(payload("whatsapp", "statuses"))
    assert not parsed.messages
    delivered, failed = parsed.statuses
    assert (delivered.platform_message_id, delivered.status, delivered.error) == ("wamid.SENT1", "delivered", None)
    assert failed.status == "failed" and failed.error.startswith("131047")
    assert delivered.event_key == "status:wamid.SENT1:delivered"


def test_whatsapp_batch_reads_every_entry_change_message_and_status():
    parsed = whatsapp.parse_webhook(payload("whatsapp", "batch"))
    assert [m.external_id for m in parsed.messages] == ["wamid.B1", "wamid.B2", "wamid.B3"]
    assert [m.display_name for m in parsed.messages] == ["Sheena Nelson", "Jan de Vries", "Piet"]
    assert parsed.messages[2].channel_address == "222222222222222"
    assert [s.status for s in parsed.statuses] == ["read"]


def test_normalised_message_survives_a_round_trip_through_json():
    for name in ("text", "image_caption", "location_named", "interactive_button_reply"):
        message = only(whatsapp.parse_webhook(payload("whatsapp", name)))
        assert InboundMessage.from_dict(json.loads(json.dumps(message.to_dict()))) == message


@pytest.mark.parametrize("body", [
    None, [], "text", {}, {"object": "page", "entry": []}, {"object": "whatsapp_business_account"},
    {"object": "whatsapp_business_account", "entry": "x"},
])
def test_whatsapp_body_not_of_the_platform_envelope_is_a_payload_error(body):
    with pytest.raises(PayloadError):
        whatsapp.parse_webhook(body)


@pytest.mark.parametrize("body, reason", [
    ({"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": []}]}]},
     "change.value is not an object"),
    ({"object": "whatsapp_business_account", "entry": ["x"]}, "entry is not an object"),
    ({"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {
        "messages": [{"from": "1", "type": "text", "text": {"body": "x"}, "timestamp": "1"}]}}]}]},
     "message.id is missing"),
    ({"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {
        "messages": [{"from": "1", "id": "w", "type": "text", "text": {"body": "x"}, "timestamp": "gisteren"}]}}]}]},
     "message.timestamp is not a unix time"),
    ({"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {
        "messages": [{"from": "1", "id": "w", "type": "location", "timestamp": "1",
                      "location": {"latitude": 123, "longitude": 4}}]}}]}]}, "latitude out of range"),
    ({"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {
        "messages": [{"from": "1", "id": "w", "type": "image", "timestamp": "1", "image": "x"}]}}]}]},
     "image is not an object"),
    ({"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {
        "statuses": [{"id": "wamid.S", "status": "read"}]}}]}]}, "status.timestamp is not a unix time"),
])
def test_whatsapp_item_that_cannot_be_read_is_kept_with_its_reason_not_fatal(body, reason):
    parsed = whatsapp.parse_webhook(body)
    assert parsed.messages == [] and parsed.statuses == []
    (item,) = parsed.unreadable
    assert item.reason.startswith(reason) and item.channel_kind == "whatsapp"


def test_whatsapp_batch_with_one_malformed_interactive_keeps_the_valid_text():
    parsed = whatsapp.parse_webhook(payload("whatsapp", "batch_malformed_interactive"))
    (message,) = parsed.messages
    assert message.kind == "text" and message.text == "Er ligt een omgevallen boom op het fietspad"
    (item,) = parsed.unreadable
    assert item.key == "wamid.MALFORMED1" and item.reason == "interactive is not an object"
    assert item.raw["type"] == "interactive" and "interactive" not in item.raw


def test_unreadable_item_without_an_id_is_keyed_by_its_content_so_a_redelivery_matches():
    body = {"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {
        "messages": [{"from": "1", "type": "text", "text": {"body": "x"}, "timestamp": "1"}]}}]}]}
    first, again = whatsapp.parse_webhook(body).unreadable[0], whatsapp.parse_webhook(body).unreadable[0]
    assert first.key.startswith("sha256:") and first.key == again.key


# --- Telegram ----------------------------------------------------------------------------------------------


def test_telegram_secret_token_right_wrong_missing():
    assert telegram.verify_secret_token("s3cr3t_token-1", "s3cr3t_token-1")
    assert not telegram.verify_secret_token("s3cr3t_token-1", "s3cr3t_token-2")
    assert not telegram.verify_secret_token("s3cr3t_token-1", None)
    assert not telegram.verify_secret_token("", "")


def test_telegram_text():
    message = only(telegram.parse_webhook(payload("telegram", "text")))
    assert (message.kind, message.text, message.external_id) == ("text", "Volle container bij de Albert Heijn",
                                                                 "900000001")
    assert message.platform_user_id == "111222333" and message.display_name == "Anna Jansen"
    assert message.sent_at == datetime.fromtimestamp(1749416383, tz=UTC)


def test_telegram_photo_takes_the_largest_size_wherever_it_is_in_the_list():
    message = only(telegram.parse_webhook(payload("telegram", "photo_caption")))
    assert message.kind == "photo" and message.text == "Graffiti op de brug"
    assert message.media[0].ref == "AgACAgQAAxkBAAIBlarge" and message.media[0].unique_id == "AQADlarge"
    assert only(telegram.parse_webhook(payload("telegram", "photo"))).text is None


def test_telegram_location_and_venue():
    pin = only(telegram.parse_webhook(payload("telegram", "location")))
    assert pin.kind == "location" and pin.location.lat == 52.370216 and pin.location.name is None
    venue = only(telegram.parse_webhook(payload("telegram", "venue")))
    assert venue.location.name == "Koninklijk Paleis"
    assert venue.location.address == "Nieuwezijds Voorburgwal 147, Amsterdam"


def test_telegram_callback_query_is_a_reply_with_the_button_label_and_an_id_to_answer():
    message = only(telegram.parse_webhook(payload("telegram", "callback_query"), now=NOW))
    assert (message.kind, message.reply_id, message.reply_title) == ("reply", "confirm-no", "Nee, aanpassen")
    assert message.callback_query_id == "4382bfdwdsb323b2d9"
    assert message.platform_user_id == "111222333" and message.sent_at == NOW


@pytest.mark.parametrize("name, unsupported_type", [
    ("voice", "voice"), ("poll", "poll"), ("animation", "animation"),
])
def test_telegram_types_without_report_content_are_unsupported(name, unsupported_type):
    message = only(telegram.parse_webhook(payload("telegram", name)))
    assert message.kind == "unsupported" and message.unsupported_type == unsupported_type


def test_telegram_photo_sent_as_file_is_a_photo():
    message = only(telegram.parse_webhook(payload("telegram", "document_heic")))
    assert message.kind == "photo" and message.media[0].ref == "D-heic" and message.media[0].mime_type == "image/heic"


def test_telegram_album_items_share_the_media_group_and_only_one_has_the_caption():
    first, second = (only(telegram.parse_webhook(update)) for update in payload("telegram", "album"))
    assert first.media_group_id == second.media_group_id == "13579246801357924"
    assert first.text == "Twee kanten van de kuil" and second.text is None
    assert [first.media[0].ref, second.media[0].ref] == ["ALB1-l", "ALB2-l"]


def test_telegram_live_location_update_is_an_edited_location():
    message = only(telegram.parse_webhook(payload("telegram", "edited_live_location")))
    assert message.edited and message.kind == "quiet" and message.unsupported_type == "live_location"
    assert (message.location.lat, message.location.lon) == (52.3703, 4.8952)
    assert message.sent_at == datetime.fromtimestamp(1749416450, tz=UTC)


def test_telegram_update_without_a_message_parses_to_nothing():
    parsed = telegram.parse_webhook(payload("telegram", "my_chat_member"))
    assert parsed.messages == [] and parsed.statuses == []


@pytest.mark.parametrize("body", [None, [], {}, {"update_id": "x"}, {"update_id": True}])
def test_telegram_body_not_of_the_platform_envelope_is_a_payload_error(body):
    with pytest.raises(PayloadError):
        telegram.parse_webhook(body)


@pytest.mark.parametrize("body, reason", [
    ({"update_id": 1, "message": "hoi"}, "message is not an object"),
    ({"update_id": 1, "message": {"message_id": 1, "date": 1, "text": "zonder chat"}}, "message.chat is not"),
    ({"update_id": 1, "message": {"message_id": 1, "chat": {"id": 5}, "date": 1, "photo": "x"}},
     "message.photo is not a list"),
    ({"update_id": 1, "callback_query": {"id": "1", "data": "x"}}, "callback_query.from is not"),
])
def test_telegram_update_whose_message_cannot_be_read_is_kept_with_its_reason(body, reason):
    parsed = telegram.parse_webhook(body)
    assert parsed.messages == []
    (item,) = parsed.unreadable
    assert item.key == "1" and item.reason.startswith(reason) and item.raw == body


# --- Twilio ------------------------------------------------------------------------------------------------

DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
DOC_PARAMS = {"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030", "Digits": "1234",
              "From": "+12349013030", "To": "+18005551212"}


def test_twilio_signature_matches_the_documented_test_vector():
    assert twilio.compute_signature("12345", DOC_URL, DOC_PARAMS) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    assert twilio.verify_signature("12345", DOC_URL, DOC_PARAMS, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")


def test_twilio_signature_covers_every_parameter_and_the_query():
    assert not twilio.verify_signature("12345", DOC_URL, {**DOC_PARAMS, "Digits": "9999"},
                                       "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    assert not twilio.verify_signature("12345", "https://mycompany.com/myapp.php?foo=1", DOC_PARAMS,
                                       "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    assert not twilio.verify_signature("wrong", DOC_URL, DOC_PARAMS, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    assert not twilio.verify_signature("12345", DOC_URL, DOC_PARAMS, None)
    assert not twilio.verify_signature("12345", DOC_URL, DOC_PARAMS, "")


def test_twilio_signature_accepts_pairs_and_repeated_names():
    pairs = list(DOC_PARAMS.items()) + [("MediaUrl", "b"), ("MediaUrl", "a")]
    signature = twilio.compute_signature("12345", DOC_URL, pairs)
    assert twilio.verify_signature("12345", DOC_URL, {**DOC_PARAMS, "MediaUrl": ["a", "b"]}, signature)


@pytest.mark.parametrize("signed_url, our_url", [
    ("https://mycompany.com:443/myapp.php?foo=1&bar=2", DOC_URL),
    (DOC_URL, "https://mycompany.com:443/myapp.php?foo=1&bar=2"),
    ("http://mycompany.com:80/hook", "http://mycompany.com/hook"),
    ("http://mycompany.com/hook", "http://mycompany.com:80/hook"),
])
def test_twilio_signature_with_and_without_the_default_port(signed_url, our_url):
    signature = twilio.compute_signature("12345", signed_url, DOC_PARAMS)
    assert twilio.verify_signature("12345", our_url, DOC_PARAMS, signature)


def test_twilio_signature_port_variants_do_not_accept_another_port():
    signature = twilio.compute_signature("12345", "https://mycompany.com:8443/hook", DOC_PARAMS)
    assert not twilio.verify_signature("12345", "https://mycompany.com/hook", DOC_PARAMS, signature)


def test_twilio_json_body_is_checked_by_its_sha256_in_the_url():
    body = b'{"MessageSid": "SM1", "Status": "delivered"}'
    url = "https://meldingen.example.nl/webhooks/twilio?" + urlencode(
        {"bodySHA256": hashlib.sha256(body).hexdigest()})
    signature = twilio.compute_signature("12345", url, {})
    assert twilio.verify_signature("12345", url, {}, signature, body=body)
    assert not twilio.verify_signature("12345", url, {}, signature, body=body + b" ")
    assert not twilio.verify_signature("12345", url, {}, signature)  # body not given


def test_twilio_shared_key_webhooks_use_hmac_sha256():
    settings = "key=KSaaaa,algorithm=HMAC_SHA256"
    digest = hmac.new(b"shared", (DOC_URL + "".join(k + v for k, v in sorted(DOC_PARAMS.items()))).encode(),
                      hashlib.sha256).digest()
    signature = base64.b64encode(digest).decode()
    assert twilio.verify_signature("shared", DOC_URL, DOC_PARAMS, signature, settings_header=settings)
    assert not twilio.verify_signature("shared", DOC_URL, DOC_PARAMS, signature)


def test_twilio_sms_text_strips_nul_and_keeps_our_number():
    message = only(twilio.parse_webhook(payload("twilio", "sms_text"), now=NOW))
    assert message.kind == "text" and message.text == "Lantaarnpaal kapot Dorpsstraat 3"
    assert message.external_id == "SM1f0e8ae6ade43cb3c0ce4525424e404f"
    assert (message.platform_user_id, message.channel_address) == ("+31612345678", "+3197010251234")
    assert message.sent_at == NOW


def test_twilio_whatsapp_images_read_every_media_url_with_the_body_as_caption():
    message = only(twilio.parse_webhook(payload("twilio", "whatsapp_image"), now=NOW))
    assert message.kind == "photo" and message.text == "Omgewaaide boom"
    assert [m.ref.rsplit("/", 1)[1] for m in message.media] == ["ME111", "ME222"]
    assert [m.mime_type for m in message.media] == ["image/jpeg", "image/png"]
    assert message.display_name == "Jan de Vries" and message.platform_user_id == "whatsapp:+31612345678"


def test_twilio_shared_location_with_and_without_a_name():
    named = only(twilio.parse_webhook(payload("twilio", "whatsapp_location_named")))
    assert named.kind == "location" and (named.location.lat, named.location.lon) == (52.3676, 4.9041)
    assert (named.location.name, named.location.address) == ("Nationaal Monument", "Dam 1, 1012 JS Amsterdam")
    pin = only(twilio.parse_webhook(payload("twilio", "whatsapp_location_pin")))
    assert pin.location.name is None and pin.location.address is None


def test_twilio_quick_reply_button():
    message = only(twilio.parse_webhook(payload("twilio", "whatsapp_button")))
    assert (message.kind, message.reply_id, message.reply_title) == ("reply", "confirm-yes", "Ja")
    assert message.context_id == "SMour0001"


def test_twilio_voice_note_is_unsupported():
    message = only(twilio.parse_webhook(payload("twilio", "whatsapp_voice")))
    assert message.kind == "unsupported" and message.unsupported_type == "audio"


def test_twilio_status_callbacks_are_statuses_with_errors():
    delivered = twilio.parse_webhook(payload("twilio", "status_delivered"), now=NOW)
    assert not delivered.messages
    assert (delivered.statuses[0].platform_message_id, delivered.statuses[0].status) == ("SMout0001", "delivered")
    failed = twilio.parse_webhook(payload("twilio", "status_failed"), now=NOW).statuses[0]
    assert failed.status == "undelivered" and failed.error.startswith("63016")


@pytest.mark.parametrize("form", [{}, {"Body": "hoi"}, {"MessageSid": "SM1", "Body": "hoi"}])
def test_twilio_form_not_of_the_platform_envelope_is_a_payload_error(form):
    with pytest.raises(PayloadError):
        twilio.parse_webhook(form)


@pytest.mark.parametrize("form, reason", [
    ({"MessageSid": "SM1", "AccountSid": "AC1", "Body": "hoi"}, "From or To is missing"),
    ({"MessageSid": "SM1", "AccountSid": "AC1", "From": "+31", "To": "+32", "NumMedia": "x"}, "NumMedia is not"),
    ({"MessageSid": "SM1", "AccountSid": "AC1", "From": "+31", "To": "+32", "NumMedia": "1"}, "MediaUrl0 is"),
    ({"MessageSid": "SM1", "AccountSid": "AC1", "From": "+31", "To": "+32", "Latitude": "abc", "Longitude": "4"},
     "latitude is not a number"),
])
def test_twilio_message_whose_fields_cannot_be_read_is_kept_with_its_reason(form, reason):
    parsed = twilio.parse_webhook(form)
    assert parsed.messages == [] and parsed.statuses == []
    (item,) = parsed.unreadable
    assert item.key == "SM1" and item.reason.startswith(reason) and item.raw == form


# --- Website chat ------------------------------------------------------------------------------------------


def test_webchat_session_token_is_ours_or_refused():
    token = webchat.issue_session_token("key", "sessie-1")
    assert webchat.verify_session_token("key", token) == "sessie-1"
    assert webchat.verify_session_token("other-key", token) is None
    assert webchat.verify_session_token("key", "sessie-2." + token.split(".")[1]) is None
    assert webchat.verify_session_token("key", None) is None


def test_webchat_messages_of_each_kind():
    text = only(webchat.parse_webhook({"id": "c1a2b3c4d5", "text": " Kuil in de weg "}, "s1", now=NOW))
    assert (text.kind, text.text, text.external_id, text.platform_user_id) == ("text", "Kuil in de weg",
                                                                              "s1:c1a2b3c4d5", "s1")
    loc = only(webchat.parse_webhook({"id": "c1a2b3c4d6", "location": {"lat": 52.1, "lon": 5.1}}, "s1"))
    assert loc.kind == "location" and loc.location.lat == 52.1
    photo = only(webchat.parse_webhook({"id": "c1a2b3c4d7", "photos": ["up1"], "text": "zie foto"}, "s1"))
    assert photo.kind == "photo" and photo.media[0].ref == "up1" and photo.text == "zie foto"
    reply = only(webchat.parse_webhook({"id": "c1a2b3c4d8", "reply": {"id": "confirm-yes", "title": "Ja"}}, "s1"))
    assert reply.kind == "reply" and reply.reply_id == "confirm-yes"


@pytest.mark.parametrize("body", [
    None, {}, {"id": "short", "text": "x"}, {"id": "c1a2b3c4d5"}, {"id": "c1a2b3c4d5", "text": 5},
    {"id": "c1a2b3c4d5", "location": {"lat": "x", "lon": 1}}, {"id": "c1a2b3c4d5", "photos": "up1"},
    {"id": "c1a2b3c4d5", "text": "x" * 5000},
])
def test_webchat_body_not_of_our_shape_is_a_payload_error(body):
    with pytest.raises(PayloadError):
        webchat.parse_webhook(body, "s1")


# --- Outbound clients --------------------------------------------------------------------------------------


def mock_client(handler) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler))


GRAPH = "https://graph.example.test/v21.0"


def test_whatsapp_send_text_posts_the_documented_body_and_returns_the_wamid():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"messaging_product": "whatsapp", "contacts": [{"input": "316", "wa_id": "316"}],
                                         "messages": [{"id": "wamid.OUT1"}]})

    with mock_client(handler) as client:
        assert whatsapp.send_text(client, GRAPH, "106540352242922", "tok", "316", "Bedankt") == "wamid.OUT1"
    request = seen[0]
    assert str(request.url) == f"{GRAPH}/106540352242922/messages"
    assert request.headers["authorization"] == "Bearer tok"
    assert json.loads(request.content) == {"messaging_product": "whatsapp", "recipient_type": "individual",
                                           "to": "316", "type": "text",
                                           "text": {"body": "Bedankt", "preview_url": False}}


def test_whatsapp_location_request_buttons_list_and_template_bodies():
    bodies = []

    def handler(request):
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json={"messages": [{"id": f"wamid.{len(bodies)}"}]})

    with mock_client(handler) as client:
        whatsapp.send_location_request(client, GRAPH, "1", "t", "316", "Stuur de locatie van het probleem")
        whatsapp.send_buttons(client, GRAPH, "1", "t", "316", "Klopt dit?", [("yes", "Ja"), ("no", "Nee")])
        whatsapp.send_list(client, GRAPH, "1", "t", "316", "Welk adres?", "Kies adres",
                           [("a1", "Kerkstraat 12", "Amsterdam")])
        whatsapp.send_template(client, GRAPH, "1", "t", "316", "melding_status", "nl", ["MEL-1", "opgelost"])
    assert bodies[0]["interactive"] == {"type": "location_request_message",
                                        "body": {"text": "Stuur de locatie van het probleem"},
                                        "action": {"name": "send_location"}}
    assert bodies[1]["interactive"]["action"]["buttons"][1] == {"type": "reply", "reply": {"id": "no", "title": "Nee"}}
    assert bodies[2]["interactive"]["action"]["sections"][0]["rows"][0]["id"] == "a1"
    assert bodies[3]["template"]["components"][0]["parameters"][1] == {"type": "text", "text": "opgelost"}


@pytest.mark.parametrize("status, retryable", [(429, True), (500, True), (503, True), (400, False), (401, False),
                                               (404, False)])
def test_platform_errors_say_whether_a_retry_can_help(status, retryable):
    def handler(request):
        return httpx.Response(status, json={"error": {"message": "nope", "code": 131047}})

    with mock_client(handler) as client, pytest.raises(PlatformError) as caught:
        whatsapp.send_text(client, GRAPH, "1", "t", "316", "x")
    assert caught.value.retryable is retryable and caught.value.status_code == status


def test_network_failure_and_timeout_are_retryable():
    def refuse(request):
        raise httpx.ConnectError("refused", request=request)

    def slow(request):
        raise httpx.ReadTimeout("slow", request=request)

    for handler in (refuse, slow):
        with mock_client(handler) as client, pytest.raises(PlatformError) as caught:
            telegram.send_message(client, "https://tg.example.test", "123:ABC", "5", "hoi")
        assert caught.value.retryable
        assert "123:ABC" not in str(caught.value)  # the bot token is in the path and must not reach a log


def test_telegram_send_message_with_location_keyboard_and_inline_buttons():
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200, json={"ok": True, "result": {"message_id": 501, "chat": {"id": 5}}})

    with mock_client(handler) as client:
        assert telegram.send_location_request(client, "https://tg.example.test", "123:ABC", "5", "Waar?") == "501"
        telegram.send_buttons(client, "https://tg.example.test", "123:ABC", "5", "Klopt dit?",
                              [("confirm-yes", "Ja"), ("confirm-no", "Nee")])
    assert seen[0].url.path == "/bot123:ABC/sendMessage"
    assert json.loads(seen[0].content)["reply_markup"]["keyboard"][0][0]["request_location"] is True
    assert json.loads(seen[1].content)["reply_markup"]["inline_keyboard"][1][0]["callback_data"] == "confirm-no"


def test_telegram_too_many_requests_is_retryable_and_a_bad_chat_is_not():
    def handler(request):
        if b'"chat_id": "blocked"' in request.content or b'"chat_id":"blocked"' in request.content:
            return httpx.Response(403, json={"ok": False, "error_code": 403,
                                             "description": "Forbidden: bot was blocked by the user"})
        return httpx.Response(429, json={"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 5",
                                         "parameters": {"retry_after": 5}})

    with mock_client(handler) as client:
        with pytest.raises(PlatformError) as busy:
            telegram.send_message(client, "https://tg.example.test", "1:A", "5", "x")
        with pytest.raises(PlatformError) as blocked:
            telegram.send_message(client, "https://tg.example.test", "1:A", "blocked", "x")
    assert busy.value.retryable and not blocked.value.retryable
    assert "blocked by the user" in blocked.value.message


def test_twilio_send_message_posts_form_with_basic_auth():
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(201, json={"sid": "SMout1", "status": "queued"})

    with mock_client(handler) as client:
        sid = twilio.send_message(client, "https://api.twilio.test", "AC1", "tok", "whatsapp:+1415", "whatsapp:+316",
                                  "Bedankt", status_callback="https://meldingen.example.nl/webhooks/twilio")
    assert sid == "SMout1"
    request = seen[0]
    assert request.url.path == "/2010-04-01/Accounts/AC1/Messages.json"
    assert request.headers["authorization"] == "Basic " + base64.b64encode(b"AC1:tok").decode()
    form = dict(httpx.QueryParams(request.content.decode()))
    assert form == {"From": "whatsapp:+1415", "To": "whatsapp:+316", "Body": "Bedankt",
                    "StatusCallback": "https://meldingen.example.nl/webhooks/twilio"}


def test_twilio_outside_the_whatsapp_window_is_not_retryable():
    def handler(request):
        return httpx.Response(400, json={"code": 63016, "message": "outside the allowed window", "status": 400})

    with mock_client(handler) as client, pytest.raises(PlatformError) as caught:
        twilio.send_message(client, "https://api.twilio.test", "AC1", "tok", "a", "b", "x")
    assert not caught.value.retryable and caught.value.code == "63016"


TWILIO_MEDIA = "https://api.twilio.test/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"


def test_twilio_media_credentials_go_to_twilio_but_not_across_the_redirect_to_the_cdn():
    seen = []

    def handler(request):
        seen.append(request)
        if request.url.host == "api.twilio.test":
            return httpx.Response(307, headers={"location": "https://cdn.twilio-media.test/abc?sig=1"})
        return httpx.Response(200, content=b"JPEGBYTES", headers={"content-type": "image/jpeg"})

    with mock_client(handler) as client:
        result = twilio.fetch_media(client, "https://api.twilio.test", "AC1", "tok", TWILIO_MEDIA, 1000)
    assert result.data == b"JPEGBYTES" and result.content_type == "image/jpeg"
    assert "authorization" in seen[0].headers
    assert "authorization" not in seen[1].headers


def test_twilio_media_on_another_host_or_account_is_refused_without_a_request():
    def handler(request):  # pragma: no cover - must not be called
        raise AssertionError("no request may be made")

    with mock_client(handler) as client:
        for url in ("https://evil.test/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
                    "http://api.twilio.test/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
                    "https://api.twilio.test/2010-04-01/Accounts/AC2/Messages/MM1/Media/ME1"):
            with pytest.raises(PlatformError) as caught:
                twilio.fetch_media(client, "https://api.twilio.test", "AC1", "tok", url, 1000)
            assert not caught.value.retryable


def test_media_download_is_capped_while_streaming():
    def handler(request):
        return httpx.Response(200, content=b"x" * 5000)

    with mock_client(handler) as client, pytest.raises(PlatformError) as caught:
        twilio.fetch_media(client, "https://api.twilio.test", "AC1", "tok", TWILIO_MEDIA, 1000)
    assert caught.value.code == "too_large" and not caught.value.retryable


def test_whatsapp_media_resolves_the_id_and_downloads_with_the_token_then_checks_the_hash():
    data = b"\xff\xd8\xffimage"
    seen = []

    def handler(request):
        seen.append(request)
        if request.url.host == "graph.example.test":
            return httpx.Response(200, json={"messaging_product": "whatsapp", "id": "777", "mime_type": "image/jpeg",
                                             "sha256": hashlib.sha256(data).hexdigest(), "file_size": len(data),
                                             "url": "https://lookaside.example.test/whatsapp_business/attachments/?mid=777"})
        return httpx.Response(200, content=data, headers={"content-type": "image/jpeg"})

    with mock_client(handler) as client:
        result = whatsapp.fetch_media(client, GRAPH, "tok", "777", 10_000)
    assert result.data == data
    assert [r.headers.get("authorization") for r in seen] == ["Bearer tok", "Bearer tok"]


def test_whatsapp_media_url_expired_is_asked_for_again_and_an_unknown_id_is_final():
    calls = {"graph": 0, "download": 0}

    def handler(request):
        if request.url.host == "graph.example.test":
            calls["graph"] += 1
            if request.url.path.endswith("/gone"):
                return httpx.Response(404, json={"error": {"message": "Unsupported get request", "code": 100}})
            return httpx.Response(200, json={"url": f"https://lookaside.example.test/m?try={calls['graph']}"})
        calls["download"] += 1
        if request.url.params["try"] == "1":
            return httpx.Response(404, text="expired")
        return httpx.Response(200, content=b"ok", headers={"content-type": "image/png"})

    with mock_client(handler) as client:
        assert whatsapp.fetch_media(client, GRAPH, "tok", "777", 1000).data == b"ok"
        with pytest.raises(PlatformError) as caught:
            whatsapp.fetch_media(client, GRAPH, "tok", "gone", 1000)
    assert calls == {"graph": 3, "download": 2}
    assert not caught.value.retryable


def test_whatsapp_media_token_is_not_sent_across_a_redirect_to_another_host():
    seen = []

    def handler(request):
        seen.append(request)
        if request.url.host == "graph.example.test":
            return httpx.Response(200, json={"url": "https://lookaside.example.test/m"})
        if request.url.host == "lookaside.example.test":
            return httpx.Response(302, headers={"location": "https://elsewhere.test/file"})
        return httpx.Response(200, content=b"ok")

    with mock_client(handler) as client:
        whatsapp.fetch_media(client, GRAPH, "tok", "777", 1000)
    assert [r.url.host for r in seen] == ["graph.example.test", "lookaside.example.test", "elsewhere.test"]
    assert "authorization" not in seen[2].headers


def test_telegram_media_uses_get_file_then_the_file_path():
    seen = []

    def handler(request):
        seen.append(request)
        if request.url.path.endswith("/getFile"):
            return httpx.Response(200, json={"ok": True, "result": {"file_id": "F", "file_unique_id": "u",
                                                                     "file_size": 3, "file_path": "photos/file_1.jpg"}})
        return httpx.Response(200, content=b"abc", headers={"content-type": "image/jpeg"})

    with mock_client(handler) as client:
        assert telegram.fetch_media(client, "https://tg.example.test", "1:A", "F", 1000).data == b"abc"
    assert seen[1].url.path == "/file/bot1:A/photos/file_1.jpg"


def test_telegram_file_too_big_is_refused_before_download():
    def handler(request):
        return httpx.Response(200, json={"ok": True, "result": {"file_id": "F", "file_size": 30_000_000,
                                                                 "file_path": "documents/big.heic"}})

    with mock_client(handler) as client, pytest.raises(PlatformError) as caught:
        telegram.fetch_media(client, "https://tg.example.test", "1:A", "F", 20 * 1024 * 1024)
    assert caught.value.code == "too_large"
