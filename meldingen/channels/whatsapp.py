"""WhatsApp Business Platform (Cloud API): webhook signature and handshake, payload parsing, Graph API calls, and
WhatsApp's adapter (`WhatsAppAdapter`): the 24-hour window and approved templates, read receipts, and what a
send whose answer never came settles to."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from flask import current_app

from meldingen.channels.adapter import (
    Capabilities,
    ChannelAdapter,
    ChannelConfig,
    HeldForStaff,
    OutgoingMessage,
    Settlement,
    UnknownSend,
    WebhookRoute,
    approved_template,
    inside_window,
    masked_phone,
    no_template,
    template_parameters,
)
from meldingen.channels.base import Download, PlatformError, call_json, download
from meldingen.channels.http import platform_client
from meldingen.channels.messages import (
    DeliveryStatus,
    InboundMessage,
    MediaRef,
    ParsedWebhook,
    PayloadError,
    from_unix,
    make_location,
    optional_str,
    require_dict,
    require_list,
    require_str,
    require_text,
    unreadable,
)
from meldingen.channels.meta import SIGNATURE_HEADER, MetaWebhook, sign, verify_handshake, verify_signature  # noqa: F401

KIND = "whatsapp"
DEFAULT_GRAPH_URL = "https://graph.facebook.com/v21.0"


def parse_webhook(payload: Any) -> ParsedWebhook:
    """Read every entry, change, message and status of one notification (Meta batches them).

    Only a body that is not a WhatsApp notification at all raises PayloadError (400). Inside one, each entry,
    change, message or status that cannot be read becomes an UnreadableItem (stored raw with the reason) and the
    rest is read as usual.
    """
    payload = require_dict(payload, "body")
    if payload.get("object") != "whatsapp_business_account":
        raise PayloadError("object is not whatsapp_business_account")
    entries = require_list(payload.get("entry"), "entry")
    result = ParsedWebhook()
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("changes", []), list):
            result.unreadable.append(unreadable(KIND, entry, "entry is not an object with a list of changes"))
            continue
        for change in entry.get("changes", []):
            if not isinstance(change, dict):
                result.unreadable.append(unreadable(KIND, change, "change is not an object"))
                continue
            if change.get("field") != "messages":
                continue  # account updates, template reviews, ...: not ours
            if not isinstance(change.get("value"), dict):
                result.unreadable.append(unreadable(KIND, change, "change.value is not an object"))
                continue
            _parse_value(change["value"], result)
    return result


def _parse_value(value: dict, result: ParsedWebhook) -> None:
    metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
    phone_number_id = optional_str(metadata.get("phone_number_id"))
    names: dict[str, str] = {}
    contacts = value.get("contacts") if isinstance(value.get("contacts"), list) else []
    for contact in contacts:
        if isinstance(contact, dict) and isinstance(contact.get("profile"), dict):
            name = contact["profile"].get("name")
            if contact.get("wa_id") and name:
                names[str(contact["wa_id"])] = str(name)
    for field_name, parse in (("messages", lambda raw: _parse_message(raw, names, phone_number_id)),
                              ("statuses", _parse_status)):
        items = value.get(field_name, [])
        if not isinstance(items, list):
            result.unreadable.append(unreadable(KIND, items, f"{field_name} is not a list"))
            continue
        for raw in items:
            try:
                parsed = parse(require_dict(raw, field_name[:-1]))
            except PayloadError as exc:
                item_id = raw.get("id") if isinstance(raw, dict) else None
                if field_name == "statuses" and item_id is not None:
                    item_id = f"status:{item_id}:{raw.get('status')}"
                result.unreadable.append(unreadable(KIND, raw, exc.reason, item_id))
                continue
            (result.messages if field_name == "messages" else result.statuses).append(parsed)


def _parse_message(raw: dict, names: dict[str, str], phone_number_id: str | None) -> InboundMessage:
    sender = require_str(raw.get("from"), "message.from")
    message_type = require_str(raw.get("type"), "message.type")
    context = raw.get("context") if isinstance(raw.get("context"), dict) else {}
    common: dict[str, Any] = {
        "channel_kind": KIND,
        "external_id": require_str(raw.get("id"), "message.id"),
        "platform_user_id": sender,
        "display_name": names.get(sender),
        "sent_at": from_unix(raw.get("timestamp"), "message.timestamp"),
        "channel_address": phone_number_id,
        "context_id": optional_str(context.get("id")),
    }
    body = raw.get(message_type)
    if message_type == "text":
        text = require_dict(body, "text").get("body")
        return InboundMessage(kind="text", text=require_text(text, "text.body"), **common)
    if message_type == "image" or (message_type == "document" and _is_image_document(body)):
        media = require_dict(body, message_type)
        caption = optional_str(media.get("caption"))
        ref = MediaRef(
            ref=require_str(media.get("id"), f"{message_type}.id"),
            mime_type=optional_str(media.get("mime_type")),
            caption=caption,
            sha256=optional_str(media.get("sha256")),
            file_size=media.get("file_size") if isinstance(media.get("file_size"), int) else None,
        )
        return InboundMessage(kind="photo", text=caption, media=(ref,), **common)
    if message_type == "location":
        loc = require_dict(body, "location")
        location = make_location(loc.get("latitude"), loc.get("longitude"), loc.get("name"), loc.get("address"))
        return InboundMessage(kind="location", location=location, **common)
    if message_type == "interactive":
        interactive = require_dict(body, "interactive")
        reply_type = interactive.get("type")
        if reply_type in ("button_reply", "list_reply"):
            reply = require_dict(interactive.get(reply_type), f"interactive.{reply_type}")
            return InboundMessage(
                kind="reply",
                reply_id=require_str(reply.get("id"), f"{reply_type}.id"),
                reply_title=optional_str(reply.get("title")),
                **common,
            )
        return InboundMessage(kind="unsupported", unsupported_type=f"interactive:{reply_type}", **common)
    if message_type == "button":  # quick-reply button of a template message
        button = require_dict(body, "button")
        return InboundMessage(
            kind="reply",
            reply_id=optional_str(button.get("payload")) or require_str(button.get("text"), "button.text"),
            reply_title=optional_str(button.get("text")),
            **common,
        )
    if message_type == "unsupported":
        detail = body.get("type") if isinstance(body, dict) else None
        return InboundMessage(kind="unsupported", unsupported_type=optional_str(detail) or "unknown", **common)
    if message_type == "audio" and isinstance(body, dict) and body.get("voice"):
        return InboundMessage(kind="unsupported", unsupported_type="voice", **common)
    if message_type == "reaction":  # 👍 to one of our messages; an empty emoji takes a reaction back
        emoji = optional_str(body.get("emoji")) if isinstance(body, dict) else None
        return InboundMessage(kind="quiet", unsupported_type="reaction", text=emoji, **common)
    if message_type == "sticker":
        return InboundMessage(kind="quiet", unsupported_type="sticker", **common)
    # audio, video, contacts, system, order, non-image documents and types yet unknown; a video's or a
    # document's caption is the resident's words all the same
    caption = optional_str(body.get("caption")) if isinstance(body, dict) else None
    return InboundMessage(kind="unsupported", unsupported_type=message_type, text=caption, **common)


def _is_image_document(body: Any) -> bool:
    # HEIC photos reach us only as documents; the worker checks the content, this is a first guess.
    return isinstance(body, dict) and str(body.get("mime_type") or "").startswith("image/")


def _parse_status(raw: dict) -> DeliveryStatus:
    errors = raw.get("errors") if isinstance(raw.get("errors"), list) else []
    error = None
    if errors and isinstance(errors[0], dict):
        first = errors[0]
        error = f"{first.get('code')}: {first.get('title') or first.get('message') or ''}".strip()
    return DeliveryStatus(
        channel_kind=KIND,
        platform_message_id=require_str(raw.get("id"), "status.id"),
        status=require_str(raw.get("status"), "status.status"),
        at=from_unix(raw.get("timestamp"), "status.timestamp"),
        error=error,
        reference=raw.get("biz_opaque_callback_data") if isinstance(raw.get("biz_opaque_callback_data"), str)
        else None,
    )


# Outbound: Graph API. Every call takes the base URL, credentials and the client, so tests use a fake Graph.


def _messages_url(graph_url: str, phone_number_id: str) -> str:
    return f"{graph_url.rstrip('/')}/{phone_number_id}/messages"


def _send(client: httpx.Client, graph_url: str, phone_number_id: str, access_token: str, body: dict,
          callback_data: str | None = None) -> str:
    """POST one message. `callback_data` goes as biz_opaque_callback_data, which WhatsApp echoes in every
    status webhook of that message: how a receipt finds its outbox row when the send itself timed out."""
    if callback_data:
        body = {**body, "biz_opaque_callback_data": callback_data[:512]}
    answer = call_json(
        client,
        "POST",
        _messages_url(graph_url, phone_number_id),
        platform="WhatsApp",
        headers={"Authorization": f"Bearer {access_token}"},
        json={"messaging_product": "whatsapp", "recipient_type": "individual", **body},
    )
    try:
        return str(answer["messages"][0]["id"])
    except (KeyError, IndexError, TypeError):
        raise PlatformError("WhatsApp answered without a message id", retryable=False) from None


def send_text(client, graph_url, phone_number_id, access_token, to: str, text: str, *,
              callback_data: str | None = None) -> str:
    """Send a free-form text (inside the 24-hour window); returns the wamid."""
    return _send(client, graph_url, phone_number_id, access_token,
                 {"to": to, "type": "text", "text": {"body": text, "preview_url": False}}, callback_data=callback_data)


def send_location_request(client, graph_url, phone_number_id, access_token, to: str, text: str, *,
                          callback_data: str | None = None) -> str:
    """Ask for the location; WhatsApp draws its own "Send location" button."""
    interactive = {"type": "location_request_message", "body": {"text": text}, "action": {"name": "send_location"}}
    return _send(client, graph_url, phone_number_id, access_token,
                 {"to": to, "type": "interactive", "interactive": interactive}, callback_data=callback_data)


def send_buttons(client, graph_url, phone_number_id, access_token, to: str, text: str,
                 buttons: Sequence[tuple[str, str]], *, callback_data: str | None = None) -> str:
    """Up to three reply buttons as (id, title); the answer comes back as a button_reply with that id."""
    if not 1 <= len(buttons) <= 3:
        raise ValueError("WhatsApp allows one to three reply buttons")
    interactive = {
        "type": "button",
        "body": {"text": text},
        "action": {"buttons": [{"type": "reply", "reply": {"id": i, "title": t[:20]}} for i, t in buttons]},
    }
    return _send(client, graph_url, phone_number_id, access_token,
                 {"to": to, "type": "interactive", "interactive": interactive}, callback_data=callback_data)


def send_list(client, graph_url, phone_number_id, access_token, to: str, text: str, button_label: str,
              rows: Sequence[tuple[str, str, str | None]], section_title: str = "Kies", *,
              callback_data: str | None = None) -> str:
    """A list of up to ten rows (id, title, description); the answer comes back as a list_reply."""
    if not 1 <= len(rows) <= 10:
        raise ValueError("WhatsApp allows one to ten list rows")
    section_rows = []
    for row_id, title, description in rows:
        row = {"id": row_id, "title": title[:24]}
        if description:
            row["description"] = description[:72]
        section_rows.append(row)
    interactive = {
        "type": "list",
        "body": {"text": text},
        "action": {"button": button_label[:20], "sections": [{"title": section_title[:24], "rows": section_rows}]},
    }
    return _send(client, graph_url, phone_number_id, access_token,
                 {"to": to, "type": "interactive", "interactive": interactive}, callback_data=callback_data)


def send_template(client, graph_url, phone_number_id, access_token, to: str, name: str,
                  language: str = "nl", parameters: Sequence[str] = (), *, callback_data: str | None = None) -> str:
    """An approved template: the only thing allowed outside the 24-hour window."""
    template: dict[str, Any] = {"name": name, "language": {"code": language}}
    if parameters:
        template["components"] = [
            {"type": "body", "parameters": [{"type": "text", "text": str(p)} for p in parameters]}
        ]
    return _send(client, graph_url, phone_number_id, access_token,
                 {"to": to, "type": "template", "template": template}, callback_data=callback_data)


def mark_read(client, graph_url, phone_number_id, access_token, message_id: str,
              timeout: float | None = None) -> None:
    """Blue ticks for `message_id` (and, by WhatsApp's rule, every earlier message in that chat)."""
    call_json(
        client,
        "POST",
        _messages_url(graph_url, phone_number_id),
        platform="WhatsApp",
        headers={"Authorization": f"Bearer {access_token}"},
        json={"messaging_product": "whatsapp", "status": "read", "message_id": message_id},
        timeout=timeout,
    )


def fetch_media(client: httpx.Client, graph_url: str, access_token: str, media_id: str, max_bytes: int) -> Download:
    """Media id → short-lived URL (Graph) → bytes, both with the access token.

    The token goes to the configured Graph host and to the media URL Graph itself returned (lookaside), never
    to a host a redirect points at. The URL lives about five minutes: on 401/403/404 it is asked for once more.
    sha256 and file_size from Graph are checked against what arrived.
    """
    auth = {"Authorization": f"Bearer {access_token}"}
    last_error: PlatformError | None = None
    for _ in range(2):
        meta = call_json(client, "GET", f"{graph_url.rstrip('/')}/{media_id}", platform="WhatsApp", headers=auth)
        url = meta.get("url")
        if not isinstance(url, str) or urlsplit(url).scheme not in ("https", "http"):
            raise PlatformError("WhatsApp media answer has no URL", retryable=False)
        file_size = meta.get("file_size")
        if isinstance(file_size, int) and file_size > max_bytes:
            raise PlatformError(f"WhatsApp media of {file_size} bytes is over the limit of {max_bytes}",
                                retryable=False, status_code=413, code="too_large")
        try:
            result = download(client, url, platform="WhatsApp", max_bytes=max_bytes, headers=auth,
                              credential_origins=(graph_url, url))
        except PlatformError as exc:
            if exc.status_code in (401, 403, 404):
                last_error = exc
                continue  # the URL expired between the two calls: ask Graph for a fresh one
            raise
        expected = meta.get("sha256")
        if isinstance(expected, str) and expected and hashlib.sha256(result.data).hexdigest() != expected.lower():
            raise PlatformError("WhatsApp media does not match its sha256", retryable=True)
        return Download(result.data, result.content_type or optional_str(meta.get("mime_type")))
    assert last_error is not None
    raise PlatformError(last_error.message, retryable=False, status_code=last_error.status_code, code=last_error.code)


# The adapter: WhatsApp in the shape of every platform (channels/adapter.py).

# Free-form messages are allowed this long after the resident's last message; after it only templates.
WINDOW = timedelta(hours=24)
# Graph's "outside the customer-service window" error.
WINDOW_ERROR = "131047"


class WhatsAppAdapter(MetaWebhook, ChannelAdapter):
    kind = KIND
    name = "WhatsApp"
    public_name = "WhatsApp"
    secret_names = ("app_secret", "verify_token", "access_token")
    capabilities = Capabilities(
        buttons=3, location_request=True, read_receipts=True, delivery_receipts=True, service_window=WINDOW,
        templates=True, max_text_length=4096, pacing_seconds=6.0, concurrency=3, combine_replies=True,
    )
    webhook = WebhookRoute("/webhooks/whatsapp", "whatsapp_notification", "whatsapp_handshake")
    refusal = "missing or wrong X-Hub-Signature-256"

    def default_channel(self, config: Mapping[str, Any]) -> ChannelConfig | None:
        secrets = {"app_secret": config.get("WHATSAPP_APP_SECRET"), "verify_token": config.get("WHATSAPP_VERIFY_TOKEN"),
                   "access_token": config.get("WHATSAPP_ACCESS_TOKEN")}
        if not (secrets["app_secret"] or secrets["verify_token"]):
            return None
        return ChannelConfig(KIND, None, config.get("WHATSAPP_PHONE_NUMBER_ID") or None, secrets,
                             self.default_api_url(config))

    def default_api_url(self, config: Mapping[str, Any]) -> str:
        return config.get("WHATSAPP_GRAPH_URL") or DEFAULT_GRAPH_URL

    def parse(self, raw: Any) -> ParsedWebhook:
        return parse_webhook(raw)

    def fetch_media(self, ref: str, channel: ChannelConfig, *, max_bytes: int,
                    client: httpx.Client | None = None) -> Download:
        return fetch_media(client or platform_client(), channel.api_url, channel.secret("access_token"), ref,
                           max_bytes)

    def read_receipt(self, message: InboundMessage) -> dict | None:
        return {"message_id": message.external_id, "phone_number_id": message.channel_address}

    def mark_read(self, receipt: Mapping[str, Any], channel: ChannelConfig, *, timeout: float | None = None,
                  client: httpx.Client | None = None) -> None:
        phone_id = receipt.get("phone_number_id") or channel.address or ""
        mark_read(client or platform_client(), channel.api_url, phone_id, channel.secret("access_token"),
                  receipt["message_id"], timeout=timeout)

    def send(self, message: OutgoingMessage, channel: ChannelConfig, *, now: datetime,
             client: httpx.Client | None = None) -> str:
        args = (client or platform_client(), channel.api_url, channel.address or "", channel.secret("access_token"),
                message.to)
        reference = message.reference  # echoed in every status webhook of the message (biz_opaque_callback_data)
        try:
            if not inside_window(message.last_inbound_at, now, WINDOW):
                template = approved_template(message, channel, current_app.config, "WHATSAPP_TEMPLATES")
                if not template:
                    raise no_template(message)
                return send_template(*args, template["name"], template.get("language", "nl"),
                                     template_parameters(message, template.get("parameters", ())),
                                     callback_data=reference)
            if message.location_request:
                return send_location_request(*args, message.text[:1024], callback_data=reference)
            if message.buttons:
                return send_buttons(*args, message.text[:1024], message.buttons[:3], callback_data=reference)
            return send_text(*args, message.text, callback_data=reference)
        except PlatformError as exc:
            if exc.code == WINDOW_ERROR:  # our clock and Meta's disagreed about the window
                raise HeldForStaff(exc.message) from None
            raise

    def settle_unknown(self, send: UnknownSend, channel: ChannelConfig | None, *,
                       client: httpx.Client | None = None) -> Settlement:
        # A "sent" receipt (biz_opaque_callback_data names the row) would have settled it: silence means it most
        # likely did not land, but only a person may decide to send it again.
        return Settlement("park", f"{send.last_error}; no receipt from WhatsApp since", ask_person=True)

    def masked_id(self, platform_id: str | None) -> str | None:
        return masked_phone(platform_id)
