"""Signal through signal-cli-rest-api (bbernhard/signal-cli-rest-api), the bridge a municipality hosts itself:
parsing of received envelopes, and the REST calls we make (receive, send, attachments, receipts, typing).

What this module decides:
- Messages are fetched, not pushed: `GET {api}/v1/receive/{number}` (the bridge in `normal` or `native` mode)
  answers the waiting envelopes as a JSON list and forgets them, so the caller stores every envelope before it
  does anything else with them. The bridge's `json-rpc` mode, where
  that path is a websocket, is not used: one short poll per sweep needs no long-lived connection per worker.
- An envelope with a `dataMessage` is a message of the resident; its key is (`source`, `timestamp`), which the
  bridge gives the same on every redelivery. An `editMessage` (the resident corrected a message) is a message
  marked edited whose `message_key` is that of the message it corrects (`targetSentTimestamp`). Group
  messages are not taken in (a report is a one-to-one conversation). A `receiptMessage` becomes one
  DeliveryStatus per timestamp it names ("delivered", "read"; "viewed" counts as read); `typingMessage`,
  `syncMessage`, `callMessage`, `storyMessage` carry nothing for us.
- The poll (`channels/polling.py`) stores each envelope (our number, `source`, `timestamp`) before any work.
- Signal has no location message. The app's "share location" sends a static map image with a maps link in the
  text: the link is the place (`channels/maplinks.py`), the map image is not a photo of the problem and is
  dropped. A typed address works as on every platform.
- Photos: attachments of an image type (`GET {api}/v1/attachments/{id}`); voice notes, videos and files are
  "unsupported" (the resident is asked to type or send a photo; words sent with them are read); a sticker or
  a reaction is "quiet": logged, acknowledged, never answered.
- Sending: `POST {api}/v2/send {"message", "number", "recipients": [...]}`; the bridge answers the message's
  `timestamp`, and a receipt names our message by that timestamp. Our platform id of a sent message is
  `<recipient>:<timestamp>`, so two residents' messages sent in the same millisecond stay apart, and a
  receipt from `source` for `timestamp` finds exactly its own.
- Signal has no buttons: choices are sent as a numbered list, and the resident answers with the number.
- No 24-hour window, no templates; the bridge signs nothing, so it must run on a private network.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from meldingen.channels import maplinks
from meldingen.channels.adapter import (
    Capabilities,
    ChannelAdapter,
    ChannelConfig,
    Delivery,
    OutgoingMessage,
    Reply,
    StoredDelivery,
    masked_phone,
    numbered_choices,
)
from meldingen.channels.base import (
    Download,
    PlatformError,
    call_json,
    download,
    error_for_response,
    platform_timeout,
)
from meldingen.channels.http import platform_client
from meldingen.channels.messages import (
    DeliveryStatus,
    InboundMessage,
    MediaRef,
    ParsedWebhook,
    PayloadError,
    optional_str,
    require_dict,
    require_list,
    require_str,
    unreadable,
)

KIND = "signal"
MAX_TEXT = 4000
RECEIVE_TIMEOUT_SECONDS = 1  # how long the bridge waits for new messages on one poll
RECEIVE_MAX_MESSAGES = 100  # envelopes taken per poll; more wait for the next one


def from_ms(value: Any, what: str) -> datetime:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise PayloadError(f"{what} is not a time in milliseconds: {value!r}")
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise PayloadError(f"{what} is not a time in milliseconds: {value!r}") from None


def message_id(recipient: str, timestamp: Any) -> str:
    """Our platform id of a message sent to (or received from) `recipient` at `timestamp` (ms)."""
    return f"{recipient}:{timestamp}"


def envelope_key(item: Any) -> str | None:
    """The (source, timestamp) key of one received item, or None when it has neither."""
    envelope = item.get("envelope") if isinstance(item, dict) else None
    if not isinstance(envelope, dict):
        return None
    source = envelope.get("source") or envelope.get("sourceNumber") or envelope.get("sourceUuid")
    timestamp = envelope.get("timestamp")
    if not source or timestamp is None:
        return None
    return message_id(str(source), timestamp)


def parse_received(items: Any, account: str | None = None) -> ParsedWebhook:
    """Every envelope of one receive answer. Only an answer that is not a list raises PayloadError; an envelope
    that cannot be read becomes an UnreadableItem (kept raw with the reason) and the rest is read."""
    result = ParsedWebhook()
    for item in require_list(items, "receive answer"):
        try:
            _parse_item(require_dict(item, "received item"), account, result)
        except PayloadError as exc:
            result.unreadable.append(unreadable(KIND, item, exc.reason, envelope_key(item)))
    return result


def _parse_item(item: dict, account: str | None, result: ParsedWebhook) -> None:
    envelope = require_dict(item.get("envelope"), "envelope")
    source = require_str(envelope.get("source") or envelope.get("sourceNumber") or envelope.get("sourceUuid"),
                         "envelope.source")
    if isinstance(envelope.get("receiptMessage"), dict):
        result.statuses.extend(_parse_receipt(source, envelope["receiptMessage"]))
        return
    data = envelope.get("dataMessage")
    edit = envelope.get("editMessage")
    if isinstance(edit, dict):  # the resident corrected an earlier message: its new content, marked edited
        data = require_dict(edit.get("dataMessage"), "editMessage.dataMessage")
        require_str(edit.get("targetSentTimestamp"), "editMessage.targetSentTimestamp")
    if not isinstance(data, dict):
        return  # typing, sync (our own linked devices), calls, stories: nothing for the intake
    if isinstance(data.get("groupInfo"), dict) or isinstance(data.get("groupV2"), dict):
        return  # a group: reports are one-to-one conversations
    timestamp = envelope.get("timestamp")
    sent_at = from_ms(timestamp, "envelope.timestamp")
    quote_id = data.get("quote", {}).get("id") if isinstance(data.get("quote"), dict) else None
    common: dict[str, Any] = {
        "channel_kind": KIND,
        "external_id": require_str(message_id(source, timestamp), "envelope key"),
        "platform_user_id": source,
        "display_name": optional_str(envelope.get("sourceName")),
        "sent_at": sent_at,
        "channel_address": optional_str(item.get("account")) or account,
        "context_id": message_id(source, quote_id) if quote_id is not None else None,
        "edited": isinstance(edit, dict),
    }
    text = optional_str(data.get("message"))
    if isinstance(data.get("reaction"), dict):  # 👍 to one of our messages: quiet, the emoji kept for the inbox
        reaction = data["reaction"]
        emoji = None if reaction.get("isRemove") else optional_str(reaction.get("emoji"))
        return result.messages.append(InboundMessage(kind="quiet", unsupported_type="reaction", text=emoji,
                                                     **common))
    if data.get("sticker") is not None:
        return result.messages.append(InboundMessage(kind="quiet", unsupported_type="sticker", **common))
    if data.get("remoteDelete") is not None:
        return None  # "delete for everyone" of an earlier message: the report keeps what it had
    attachments = data.get("attachments") or []
    photos, other = _attachments(require_list(attachments, "dataMessage.attachments"), text)
    location = maplinks.location_from_text(text)
    if location is not None:  # a shared location: a maps link, and a map image that is not a photo of it
        return result.messages.append(InboundMessage(kind="location", location=location, **common))
    if photos:
        return result.messages.append(InboundMessage(kind="photo", text=text, media=tuple(photos), **common))
    if other:
        return result.messages.append(InboundMessage(kind="unsupported", unsupported_type=other, text=text,
                                                     **common))
    if text:
        return result.messages.append(InboundMessage(kind="text", text=text, **common))
    return result.messages.append(InboundMessage(kind="unsupported", unsupported_type="unknown", **common))


def _attachments(attachments: list, text: str | None) -> tuple[list[MediaRef], str | None]:
    photos: list[MediaRef] = []
    other = None
    for attachment in attachments:
        attachment = require_dict(attachment, "attachment")
        content_type = optional_str(attachment.get("contentType")) or ""
        if content_type.startswith("image/") and content_type != "image/gif":
            size = attachment.get("size")
            photos.append(MediaRef(ref=require_str(attachment.get("id"), "attachment.id"), mime_type=content_type,
                                   caption=text, file_size=size if isinstance(size, int) else None))
        elif content_type.startswith("audio/"):
            other = other or "voice"
        elif content_type.startswith("video/"):
            other = other or "video"
        else:
            other = other or ("animation" if content_type == "image/gif" else "document")
    return photos, other


def _parse_receipt(source: str, receipt: dict) -> list[DeliveryStatus]:
    if receipt.get("isRead") or receipt.get("isViewed"):
        status = "read"
    elif receipt.get("isDelivery"):
        status = "delivered"
    else:
        return []
    at = from_ms(receipt.get("when"), "receiptMessage.when")
    timestamps = require_list(receipt.get("timestamps"), "receiptMessage.timestamps")
    return [DeliveryStatus(KIND, message_id(source, require_str(ts, "receiptMessage.timestamps[]")), status, at)
            for ts in timestamps]


# Outbound: the bridge's REST API. Every call takes its base URL and the client; the number is ours.


def _url(api_url: str, path: str) -> str:
    return f"{api_url.rstrip('/')}{path}"


def receive(client: httpx.Client, api_url: str, number: str) -> list:
    """The envelopes waiting at the bridge; the bridge forgets them once answered (store them at once)."""
    try:
        response = client.get(_url(api_url, f"/v1/receive/{quote(number, safe='+')}"),
                              params={"timeout": RECEIVE_TIMEOUT_SECONDS, "ignore_stories": "true",
                                      "max_messages": RECEIVE_MAX_MESSAGES, "send_read_receipts": "false"},
                              timeout=httpx.Timeout(RECEIVE_TIMEOUT_SECONDS + 15.0, connect=5.0),
                              follow_redirects=False)
    except httpx.TransportError as exc:
        raise PlatformError(f"Signal bridge: cannot receive: {type(exc).__name__}", retryable=True) from exc
    if response.status_code >= 300:
        error = error_for_response(response, "Signal bridge")
        if response.status_code == 400 and "websocket" in response.text.lower():
            raise PlatformError(error.message + " (the bridge runs in json-rpc mode; Meldingen needs normal or "
                                "native mode)", retryable=False, status_code=400)
        raise error
    try:
        body = response.json()
    except ValueError:
        raise PlatformError("Signal bridge answered something that is not JSON", retryable=True) from None
    if body is None:
        return []
    if not isinstance(body, list):
        raise PlatformError("Signal bridge answered an unexpected JSON shape on receive", retryable=False)
    return body


def send_message(client: httpx.Client, api_url: str, number: str, to: str, text: str,
                 base64_attachments: Sequence[str] = ()) -> str:
    """Send a text (and attachments as base64 data) to one recipient; returns our platform id of it."""
    body: dict[str, Any] = {"message": text[:MAX_TEXT], "number": number, "recipients": [to]}
    if base64_attachments:
        body["base64_attachments"] = list(base64_attachments)
    answer = call_json(client, "POST", _url(api_url, "/v2/send"), platform="Signal bridge", json=body)
    timestamp = answer.get("timestamp")
    if timestamp is None or not str(timestamp).isdigit():
        raise PlatformError("Signal bridge answered without a timestamp", retryable=False)
    return message_id(to, int(timestamp))


def send_read_receipt(client: httpx.Client, api_url: str, number: str, to: str, timestamp: int,
                      timeout: float | None = None) -> None:
    """Tell the resident their message (sent at `timestamp`) was read."""
    _call_no_content(client, "POST", _url(api_url, f"/v1/receipts/{quote(number, safe='+')}"),
                     {"receipt_type": "read", "recipient": to, "timestamp": int(timestamp)}, timeout)


def typing(client: httpx.Client, api_url: str, number: str, to: str, started: bool = True,
           timeout: float | None = None) -> None:
    """Show (or stop showing) "typing…" to the resident."""
    url = _url(api_url, f"/v1/typing-indicator/{quote(number, safe='+')}")
    _call_no_content(client, "PUT" if started else "DELETE", url, {"recipient": to}, timeout)


def _call_no_content(client: httpx.Client, method: str, url: str, body: dict, timeout: float | None) -> None:
    """A bridge call answered by 204 (or an empty 200/201)."""
    try:
        response = client.request(method, url, json=body, follow_redirects=False,
                                  timeout=httpx.Timeout(timeout) if timeout is not None else platform_timeout())
    except httpx.TransportError as exc:
        raise PlatformError(f"Signal bridge: {type(exc).__name__}", retryable=True) from exc
    if response.status_code >= 300:
        raise error_for_response(response, "Signal bridge")


def fetch_attachment(client: httpx.Client, api_url: str, attachment_id: str, max_bytes: int) -> Download:
    """The bytes of a received attachment, from the bridge's own store."""
    if "/" in attachment_id or attachment_id in ("", ".", ".."):
        raise PlatformError("Signal attachment id is not a plain name", retryable=False)
    return download(client, _url(api_url, f"/v1/attachments/{quote(attachment_id)}"), platform="Signal bridge",
                    max_bytes=max_bytes, credential_origins=())


# --- The adapter -----------------------------------------------------------------------------------------


def bridge_url(channel: ChannelConfig) -> str:
    """The channel's bridge: its own `api_url` secret, else the one configured (MELDINGEN_SIGNAL_API_URL)."""
    return channel.secret("api_url") or channel.api_url


class SignalAdapter(ChannelAdapter):
    """Signal through the municipality's signal-cli-rest-api, polled (see the module's docstring)."""

    kind = KIND
    name = "Signal"
    public_name = "Signal"
    # The bridge has no credentials of its own (it lives on a private network); a stored channel on another
    # bridge names it as its secret `api_url` (secret: behind a proxy it may carry the proxy's credentials).
    secret_names = ("api_url",)
    capabilities = Capabilities(
        buttons=0, location_request=False, read_receipts=True, delivery_receipts=False,
        service_window=None, templates=False, max_text_length=MAX_TEXT, pacing_seconds=1.0, concurrency=2,
        polled=True,
    )
    webhook = None
    receive_batch_size = RECEIVE_MAX_MESSAGES  # a full batch: more may wait, polled again at once

    # --- configuration ---

    def default_channel(self, config: Mapping[str, Any]) -> ChannelConfig | None:
        api_url, number = config.get("SIGNAL_API_URL"), config.get("SIGNAL_NUMBER")
        if not (api_url and number):
            return None
        return ChannelConfig(KIND, None, str(number), {"api_url": str(api_url)}, str(api_url))

    def default_api_url(self, config: Mapping[str, Any]) -> str:
        """A stored channel (another number) on the same bridge, unless its settings name its own."""
        return str(config.get("SIGNAL_API_URL") or "")

    # --- receiving ---

    def receive(self, channel: ChannelConfig, *, client: httpx.Client | None = None) -> list[Any]:
        """Every waiting envelope, each one delivery: stored one by one under its (source, timestamp) key."""
        if not (bridge_url(channel) and channel.address):
            return []
        return receive(client or platform_client(), bridge_url(channel), channel.address)

    def parse(self, raw: Any) -> ParsedWebhook:
        """One delivery is one received item (`{"envelope": {...}, "account": ...}`); anything else is not the
        bridge's shape (PayloadError: the poll keeps it raw as unreadable)."""
        if not isinstance(raw, dict) or not isinstance(raw.get("envelope"), dict):
            raise PayloadError("not a received item with an envelope")
        return parse_received([raw])

    def store(self, delivery: Delivery, parsed: ParsedWebhook, verified: Sequence[ChannelConfig]) -> StoredDelivery:
        """Keys carry our number too: the same resident's message to two municipal numbers is two messages."""
        from meldingen.channels.inbound import insert_event, record_delivery

        channel = verified[0]
        number = channel.address or "default"
        event_ids = record_delivery(parsed, channel_for=lambda m: channel.channel_id,
                                    message_key=lambda m: f"{number}:{m.external_id}", raw=delivery.raw,
                                    unreadable_key=lambda u: f"{number}:{u.event_key}")
        if not (parsed.messages or parsed.statuses or parsed.unreadable):
            key = envelope_key(delivery.raw)  # typing, sync, group: kept once, for the record
            if key is not None:
                insert_event(KIND, f"{number}:other:{key}", channel.channel_id, {"raw": delivery.raw}, state="done")
        return StoredDelivery(event_ids, number)

    # --- after receiving ---

    def message_key(self, message: InboundMessage, raw: Mapping[str, Any] | None) -> str:
        """(source, timestamp) of the message; an edit names the timestamp of the message it corrects."""
        envelope = (raw or {}).get("envelope")
        edit = envelope.get("editMessage") if isinstance(envelope, dict) else None
        if isinstance(edit, dict) and edit.get("targetSentTimestamp") is not None:
            return f"{KIND}:{message_id(message.platform_user_id, edit['targetSentTimestamp'])}"
        return f"{KIND}:{message.external_id}"

    def fetch_media(self, ref: str, channel: ChannelConfig, *, max_bytes: int,
                    client: httpx.Client | None = None) -> Download:
        return fetch_attachment(client or platform_client(), bridge_url(channel), ref, max_bytes)

    def read_receipt(self, message: InboundMessage) -> dict | None:
        timestamp = message.external_id.rpartition(":")[2]
        if not timestamp.isdigit():
            return None
        return {"recipient": message.platform_user_id, "timestamp": int(timestamp), "message_id": message.external_id}

    def mark_read(self, receipt: Mapping[str, Any], channel: ChannelConfig, *, timeout: float | None = None,
                  client: httpx.Client | None = None) -> None:
        send_read_receipt(client or platform_client(), bridge_url(channel), channel.address or "",
                          receipt["recipient"], int(receipt["timestamp"]), timeout=timeout)

    # --- sending ---

    def send(self, message: OutgoingMessage, channel: ChannelConfig, *, now: datetime,
             client: httpx.Client | None = None) -> str:
        return send_message(client or platform_client(), bridge_url(channel), channel.address or "", message.to,
                            message.text)

    def format_reply(self, reply: Reply, text: Callable[[str], str]) -> Reply:
        return numbered_choices(reply, text)

    def masked_id(self, platform_id: str | None) -> str | None:
        return masked_phone(platform_id)
