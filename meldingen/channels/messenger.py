"""Facebook Messenger (Meta's Messenger Platform, a Facebook Page): webhook handshake and signature, parsing
of messaging events, and the Send API calls we make.

What this module decides:
- A delivery is `{"object": "page", "entry": [{"messaging": [event, …]}]}`, signed with `X-Hub-Signature-256`
  (HMAC-SHA256 of the raw body under the app secret). Several entries and events per delivery are normal;
  one event that cannot be read is kept raw and skipped, the others are read.
- A message's `mid` is its idempotency key; a postback (a tapped button) has a `mid` too. A `message_edit`
  (the resident corrected a text) is a text marked edited, keyed `<mid>#edit<n>`, sharing the corrected
  message's `message_key`. Echoes (`is_echo`:
  copies of what the page itself sent) and reactions are not messages of the resident. An echo that carries
  our outbox reference (sent as the message's `metadata`) is a "sent" receipt of that row.
- Attachments: `image` is a photo (its CDN URL is the media reference, fetched at once: it expires), a
  sticker (an image with `sticker_id`, the thumbs-up button too) is not: it is "quiet", logged and never
  answered; Messenger no longer sends locations, so a place arrives as a
  map link (a `fallback` attachment or in the text) and is read by `channels/maplinks.py`; the legacy
  `location` attachment is still understood.
- Receipts: `delivery` names the mids it covers (one DeliveryStatus each); `read` gives only a watermark, "all
  messages sent to this person before this time are read": a DeliveryStatus whose platform id is
  `watermark:<psid>:<ms>` naming the resident it covers (`covers_earlier_to`); the outbox applies it to each of
  our messages to that resident sent before it (notify/delivery.py).
- Sending: `POST {graph}/me/messages?access_token=…` with `messaging_type: RESPONSE` inside the 24-hour window.
  Outside it, only a person's reply may go, tagged `HUMAN_AGENT`, up to 7 days after the resident's last
  message; anything else is held for staff (as WhatsApp without a template). We never send an automated
  status update under a tag made for other purposes (`ACCOUNT_UPDATE`, `CONFIRMED_EVENT_UPDATE`): Meta may
  block the page for that. Messenger's own "outside the window" error is turned into the same hold.
- Buttons are quick replies (at most 13, titles of at most 20 characters); their payload comes back as
  `quick_reply.payload`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from meldingen.channels import maplinks
from meldingen.channels.adapter import (
    MASK,
    Capabilities,
    ChannelAdapter,
    ChannelConfig,
    HeldForStaff,
    OutgoingMessage,
    WebhookRoute,
    inside_window,
)
from meldingen.channels.base import Download, PlatformError, call_json, download
from meldingen.channels.http import platform_client
from meldingen.channels.messages import (
    DeliveryStatus,
    InboundMessage,
    MediaRef,
    ParsedWebhook,
    PayloadError,
    make_location,
    optional_str,
    require_dict,
    require_list,
    require_str,
    require_text,
    require_url,
    unreadable,
)
from meldingen.channels.meta import SIGNATURE_HEADER, MetaWebhook, sign, verify_handshake, verify_signature  # noqa: F401

KIND = "messenger"
DEFAULT_GRAPH_URL = "https://graph.facebook.com/v21.0"
MAX_QUICK_REPLIES = 13
QUICK_REPLY_TITLE = 20
MAX_TEXT = 2000  # the Send API refuses longer texts
HUMAN_AGENT_DAYS = 7
# Graph's answer to a send outside the standard messaging window: (#10) with this subcode; also 2018065
# ("This message is sent outside of allowed window. You need page_messaging_subscriptions permission").
WINDOW_SUBCODES = frozenset({"2018278", "2018065"})
WINDOW_ERROR = "messenger_window"  # the PlatformError code we give it, for the sender's "held"
WATERMARK_PREFIX = "watermark:"
EDIT_MARK = "#edit"  # an edit's event key: the mid it corrects, this mark, and the edit's number


def from_ms(value: Any, what: str = "timestamp") -> datetime:
    """Messenger's times are Unix milliseconds."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise PayloadError(f"{what} is not a time in milliseconds: {value!r}")
    try:
        millis = int(value)
        return datetime.fromtimestamp(millis / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise PayloadError(f"{what} is not a time in milliseconds: {value!r}") from None


def to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def parse_webhook(payload: Any) -> ParsedWebhook:
    """Every messaging event of one delivery. Only a body that is not a page delivery at all raises PayloadError
    (400); inside one, an entry or event that cannot be read becomes an UnreadableItem and the rest is read."""
    payload = require_dict(payload, "body")
    if payload.get("object") != "page":
        raise PayloadError("object is not page")
    entries = require_list(payload.get("entry"), "entry")
    result = ParsedWebhook()
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("messaging", []), list):
            result.unreadable.append(unreadable(KIND, entry, "entry is not an object with a list of messaging"))
            continue
        page_id = optional_str(entry.get("id"))
        for event in entry.get("messaging", []):
            try:
                _parse_event(require_dict(event, "messaging event"), page_id, result)
            except PayloadError as exc:
                key = None
                if isinstance(event, dict):
                    for part in ("message", "postback"):
                        if isinstance(event.get(part), dict) and event[part].get("mid"):
                            key = event[part]["mid"]
                result.unreadable.append(unreadable(KIND, event, exc.reason, key))
    return result


def _parse_event(event: dict, page_id: str | None, result: ParsedWebhook) -> None:
    message = event.get("message")
    if isinstance(message, dict) and message.get("is_echo"):
        # A copy of what the page sent: not the resident's. When it carries our outbox reference (the
        # `metadata` of our send) it tells that the message landed, even if the send's answer never came.
        metadata = message.get("metadata")
        if isinstance(metadata, str) and metadata.startswith("outbox:") and message.get("mid"):
            result.statuses.append(DeliveryStatus(KIND, require_str(message["mid"], "message.mid"), "sent",
                                                  from_ms(event.get("timestamp"), "timestamp"), reference=metadata))
        return
    sender = require_str(require_dict(event.get("sender"), "sender").get("id"), "sender.id")
    recipient = _object(event.get("recipient"))
    address = optional_str(recipient.get("id")) or page_id
    if "delivery" in event:
        delivery = require_dict(event["delivery"], "delivery")
        at = from_ms(delivery.get("watermark") or event.get("timestamp"), "delivery.watermark")
        mids = _items(delivery.get("mids"))
        for mid in mids:
            result.statuses.append(DeliveryStatus(KIND, require_str(mid, "delivery.mids[]"), "delivered", at))
        if not mids:
            result.statuses.append(_watermark(sender, "delivered", at))
        return
    if "read" in event:
        read = require_dict(event["read"], "read")
        result.statuses.append(_watermark(sender, "read", from_ms(read.get("watermark"), "read.watermark")))
        return
    common: dict[str, Any] = {"channel_kind": KIND, "platform_user_id": sender, "display_name": None,
                                  "sent_at": from_ms(event.get("timestamp"), "timestamp"), "channel_address": address}
    if "postback" in event:
        postback = require_dict(event["postback"], "postback")
        payload = require_str(postback.get("payload"), "postback.payload")
        key = optional_str(postback.get("mid")) or f"postback:{sender}:{event.get('timestamp')}"
        result.messages.append(InboundMessage(external_id=key, kind="reply", reply_id=payload,
                                              reply_title=optional_str(postback.get("title")), **common))
        return
    if isinstance(event.get("message_edit"), dict):  # the resident corrected an earlier text
        edit = event["message_edit"]
        mid = require_str(edit.get("mid"), "message_edit.mid")
        text = require_text(edit.get("text"), "message_edit.text")
        result.messages.append(InboundMessage(external_id=f"{mid}{EDIT_MARK}{edit.get('num_edit') or 1}",
                                              kind="text", text=text, edited=True, **common))
        return
    if isinstance(message, dict):
        result.messages.append(_parse_message(message, common))
    # reaction, referral, optin, standby, …: not a message of the resident


def _object(value: Any) -> dict:
    """An optional object of the payload: itself, or empty when it is absent or not an object."""
    return value if isinstance(value, dict) else {}


def _items(value: Any) -> list:
    return value if isinstance(value, list) else []


def _watermark(psid: str, status: str, at: datetime) -> DeliveryStatus:
    return DeliveryStatus(KIND, f"{WATERMARK_PREFIX}{psid}:{to_ms(at)}", status, at, covers_earlier_to=psid)


def is_watermark(status: DeliveryStatus) -> bool:
    return status.channel_kind == KIND and status.platform_message_id.startswith(WATERMARK_PREFIX)


def watermark_recipient(status: DeliveryStatus) -> str:
    """The PSID a watermark receipt is about."""
    return status.platform_message_id[len(WATERMARK_PREFIX):].rsplit(":", 1)[0]


def watermark_statuses(status: DeliveryStatus, sent_message_ids: Sequence[str]) -> list[DeliveryStatus]:
    """One receipt per message of ours sent before a watermark (the caller finds them in the outbox)."""
    return [DeliveryStatus(KIND, mid, status.status, status.at) for mid in sent_message_ids]


def _parse_message(message: dict, common: dict[str, Any]) -> InboundMessage:
    mid = require_str(message.get("mid"), "message.mid")
    text = optional_str(message.get("text"))
    reply_to = _object(message.get("reply_to"))
    common = {**common, "external_id": mid, "context_id": optional_str(reply_to.get("mid"))}
    quick_reply = message.get("quick_reply")
    if isinstance(quick_reply, dict) and quick_reply.get("payload") is not None:
        return InboundMessage(kind="reply", reply_id=require_str(quick_reply.get("payload"), "quick_reply.payload"),
                              reply_title=text, **common)
    attachments = message.get("attachments")
    if attachments is not None:
        return _parse_attachments(require_list(attachments, "message.attachments"), message, text, common)
    if text is None:
        return InboundMessage(kind="unsupported", unsupported_type="unknown", **common)
    location = maplinks.location_from_text(text)
    if location is not None:
        return InboundMessage(kind="location", location=location, **common)
    return InboundMessage(kind="text", text=text, **common)


def _parse_attachments(attachments: list, message: dict, text: str | None,
                       common: dict[str, Any]) -> InboundMessage:
    photos: list[MediaRef] = []
    other: str | None = None
    for attachment in attachments:
        attachment = require_dict(attachment, "attachment")
        kind = optional_str(attachment.get("type")) or "unknown"
        payload = _object(attachment.get("payload"))
        if kind == "image" and (payload.get("sticker_id") or message.get("sticker_id")):
            other = other or "sticker"
        elif kind == "image":
            photos.append(MediaRef(ref=require_url(payload.get("url"), "image.payload.url"), caption=text))
        elif kind == "location":  # the legacy location attachment
            coordinates = require_dict(payload.get("coordinates"), "location.payload.coordinates")
            return InboundMessage(kind="location", location=make_location(
                coordinates.get("lat"), coordinates.get("long"), attachment.get("title")), **common)
        elif kind == "fallback":  # a shared link: a map link is a place
            url = optional_str(payload.get("url")) or optional_str(attachment.get("url")) \
                or optional_str(attachment.get("URL"))
            location = maplinks.location_from_url(url) if url else None
            if location is not None:
                return InboundMessage(kind="location", location=location, **common)
            other = other or "link"
        else:  # audio (voice messages), video, file, template, …
            other = other or ("voice" if kind == "audio" else kind)
    if photos:
        return InboundMessage(kind="photo", text=text, media=tuple(photos), **common)
    if other == "sticker":  # the thumbs-up button is a sticker too
        return InboundMessage(kind="quiet", unsupported_type="sticker", **common)
    location = maplinks.location_from_text(text)
    if location is not None:
        return InboundMessage(kind="location", location=location, **common)
    if other == "link" and text:
        return InboundMessage(kind="text", text=text, **common)
    return InboundMessage(kind="unsupported", unsupported_type=other or "unknown", text=text, **common)


# Outbound: the Send API. Every call takes the Graph URL, the page access token and the client.


def _send(client: httpx.Client, graph_url: str, page_token: str, body: dict, timeout: float | None = None) -> dict:
    try:
        return call_json(client, "POST", f"{graph_url.rstrip('/')}/me/messages", platform="Messenger",
                         params={"access_token": page_token}, json=body, timeout=timeout)
    except PlatformError as exc:
        if exc.status_code == 400 and _is_window_error(exc):
            raise PlatformError(exc.message, retryable=False, status_code=400, code=WINDOW_ERROR) from None
        raise


def _is_window_error(exc: PlatformError) -> bool:
    text = exc.message
    return exc.code == "10" and ("outside of allowed window" in text or any(s in text for s in WINDOW_SUBCODES))


def message_body(to: str, text: str, buttons: Sequence[tuple[str, str]] = (), *, tag: str | None = None) -> dict:
    """The Send API body of a text (with quick replies for `buttons` as (payload, title)). `tag`: a message
    tag (only HUMAN_AGENT is ever used, see the module's docstring); None: a RESPONSE inside the window."""
    message: dict[str, Any] = {"text": text[:MAX_TEXT]}
    if buttons:
        message["quick_replies"] = [{"content_type": "text", "title": title[:QUICK_REPLY_TITLE], "payload": data}
                                    for data, title in list(buttons)[:MAX_QUICK_REPLIES]]
    body: dict[str, Any] = {"recipient": {"id": to}, "message": message}
    if tag:
        body.update(messaging_type="MESSAGE_TAG", tag=tag)
    else:
        body["messaging_type"] = "RESPONSE"
    return body


def sender_action(client: httpx.Client, graph_url: str, page_token: str, to: str, action: str = "mark_seen",
                  timeout: float | None = None) -> None:
    """`mark_seen` (the resident sees their message was read), `typing_on` or `typing_off`."""
    _send(client, graph_url, page_token, {"recipient": {"id": to}, "sender_action": action}, timeout=timeout)


def fetch_media(client: httpx.Client, url: str, max_bytes: int) -> Download:
    """An attachment from the CDN URL Messenger sent (signed and short-lived: no token goes with it)."""
    return download(client, url, platform="Messenger", max_bytes=max_bytes, credential_origins=())


# --- The adapter -----------------------------------------------------------------------------------------

STAFF_REPLY = "staff_reply"  # the outbox purpose of a person's reply (notify/outbox.py): may go as HUMAN_AGENT
HUMAN_AGENT = "HUMAN_AGENT"


class MessengerAdapter(MetaWebhook, ChannelAdapter):
    """Facebook Messenger through a Facebook Page (see the module's docstring for what it decides)."""

    kind = KIND
    name = "Messenger"
    public_name = "Facebook Messenger"
    secret_names = ("app_secret", "verify_token", "page_access_token")
    capabilities = Capabilities(
        buttons=MAX_QUICK_REPLIES, location_request=False, read_receipts=True, delivery_receipts=True,
        service_window=timedelta(hours=24), templates=False, max_text_length=MAX_TEXT, pacing_seconds=1.0,
        concurrency=3,
    )
    webhook = WebhookRoute("/webhooks/messenger", "messenger_event", "messenger_handshake")
    refusal = "missing or wrong X-Hub-Signature-256"

    # --- configuration ---

    def default_channel(self, config: Mapping[str, Any]) -> ChannelConfig | None:
        secrets = {"app_secret": config.get("MESSENGER_APP_SECRET"),
                   "verify_token": config.get("MESSENGER_VERIFY_TOKEN"),
                   "page_access_token": config.get("MESSENGER_PAGE_ACCESS_TOKEN")}
        if not (secrets["app_secret"] or secrets["verify_token"]):
            return None
        return ChannelConfig(KIND, None, None, secrets, self.default_api_url(config))

    def default_api_url(self, config: Mapping[str, Any]) -> str:
        return str(config.get("MESSENGER_GRAPH_URL") or DEFAULT_GRAPH_URL)

    # --- receiving ---

    def parse(self, raw: Any) -> ParsedWebhook:
        return parse_webhook(raw)

    # --- after receiving ---

    def message_key(self, message: InboundMessage, raw: Mapping[str, Any] | None) -> str:
        """The mid; an edit (`message_edit`) shares the mid of the message it corrects."""
        return f"{KIND}:{message.external_id.split(EDIT_MARK, 1)[0]}"

    def fetch_media(self, ref: str, channel: ChannelConfig, *, max_bytes: int,
                    client: httpx.Client | None = None) -> Download:
        return fetch_media(client or platform_client(), ref, max_bytes)

    def read_receipt(self, message: InboundMessage) -> dict | None:
        return {"recipient": message.platform_user_id, "message_id": message.external_id}

    def mark_read(self, receipt: Mapping[str, Any], channel: ChannelConfig, *, timeout: float | None = None,
                  client: httpx.Client | None = None) -> None:
        sender_action(client or platform_client(), channel.api_url, channel.secret("page_access_token"),
                      receipt["recipient"], "mark_seen", timeout=timeout)

    # --- sending ---

    def send(self, message: OutgoingMessage, channel: ChannelConfig, *, now: datetime,
             client: httpx.Client | None = None) -> str:
        """A RESPONSE inside the 24-hour window; outside it only a person's reply (HUMAN_AGENT, 7 days), the
        rest is held for staff. Our outbox reference goes as `metadata`: the page's echo of the message
        carries it back, which settles a send whose answer never came."""
        tag = None
        if not inside_window(message.last_inbound_at, now, timedelta(hours=24)):
            if message.template_key == STAFF_REPLY and inside_window(message.last_inbound_at, now,
                                                                      timedelta(days=HUMAN_AGENT_DAYS)):
                tag = HUMAN_AGENT
            else:
                raise HeldForStaff("outside Messenger's 24-hour window: only a person may write (7 days)")
        body = message_body(message.to, message.text, message.buttons, tag=tag)
        body["message"]["metadata"] = message.reference
        try:
            answer = _send(client or platform_client(), channel.api_url, channel.secret("page_access_token"), body)
        except PlatformError as exc:
            if exc.code == WINDOW_ERROR:
                raise HeldForStaff(f"Messenger refused: outside the window ({exc.message})") from None
            raise
        mid = answer.get("message_id")
        if not isinstance(mid, str) or not mid:
            raise PlatformError("Messenger answered without a message_id", retryable=False)
        return mid

    def masked_id(self, platform_id: str | None) -> str | None:
        """A page-scoped id is no phone number: only its last four digits are shown."""
        return f"{MASK}{platform_id[-4:]}" if platform_id and len(platform_id) > 8 else None
