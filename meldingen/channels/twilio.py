"""Twilio Messaging (SMS and WhatsApp): X-Twilio-Signature, form parsing, Messages.json and media download, and
Twilio's adapter (`TwilioAdapter`): numbered choices for SMS, the window and templates for WhatsApp recipients,
and the message list that settles a send whose answer never came."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit, urlunsplit

import httpx
from flask import current_app

from meldingen.channels.adapter import (
    Capabilities,
    ChannelAdapter,
    ChannelConfig,
    HeldForStaff,
    OutgoingMessage,
    Reply,
    Settlement,
    UnknownSend,
    WebhookAnswer,
    WebhookRequest,
    WebhookRoute,
    approved_template,
    inside_window,
    json_payload,
    masked_phone,
    no_template,
    numbered_choices,
    template_parameters,
)
from meldingen.channels.base import (
    Download,
    PlatformError,
    call_json,
    download,
    same_origin,
)
from meldingen.channels.http import platform_client
from meldingen.channels.messages import (
    DeliveryStatus,
    InboundMessage,
    MediaRef,
    ParsedWebhook,
    PayloadError,
    make_location,
    optional_str,
    unreadable,
)
from meldingen.timeutil import utcnow

KIND = "twilio"
DEFAULT_API_URL = "https://api.twilio.com"
SIGNATURE_HEADER = "X-Twilio-Signature"
SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
MAX_MEDIA = 10  # MMS carries at most ten

# Outbound statuses Twilio reports in status callbacks; "received" is an inbound message instead.
STATUSES = frozenset({
    "accepted", "scheduled", "canceled", "queued", "sending", "sent", "delivered", "undelivered", "failed",
    "read", "partially_delivered",
})

Params = Mapping[str, Any] | Iterable[tuple[str, str]]


def _grouped(params: Params) -> dict[str, list[str]]:
    """Form parameters as name → all values; accepts a dict, a MultiDict (use `.lists()`), or pairs."""
    grouped: dict[str, list[str]] = {}
    items = params.items() if isinstance(params, Mapping) else params
    for name, value in items:
        values = value if isinstance(value, (list, tuple)) else [value]
        grouped.setdefault(str(name), []).extend(str(v) for v in values)
    return grouped


def compute_signature(key: str, url: str, params: Params = (), algorithm: str = "sha1") -> str:
    """base64(HMAC(key, url + name1 + value1 + ...)) with names sorted, as Twilio's own RequestValidator."""
    message = url
    grouped = _grouped(params)
    for name in sorted(grouped):
        for value in sorted(set(grouped[name])):
            message += name + value
    digestmod = hashlib.sha256 if algorithm == "sha256" else hashlib.sha1
    return base64.b64encode(hmac.new(key.encode(), message.encode(), digestmod).digest()).decode()


def url_variants(url: str) -> list[str]:
    """The URL as given and with the default port toggled: Twilio signs either form ("inconsistent")."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    userinfo = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port:
        other = urlunsplit((parts.scheme, userinfo + host, parts.path, parts.query, parts.fragment))
    else:
        port = 443 if parts.scheme == "https" else 80
        other = urlunsplit((parts.scheme, f"{userinfo}{host}:{port}", parts.path, parts.query, parts.fragment))
    return [url, other]


def signature_algorithm(settings_header: str | None) -> str:
    """A SharedKey webhook says `algorithm=HMAC_SHA256` in its settings header; without it, HMAC-SHA1."""
    for part in (settings_header or "").split(","):
        name, _, value = part.strip().partition("=")
        if name == "algorithm" and value.strip().upper() == "HMAC_SHA256":
            return "sha256"
    return "sha1"


def verify_signature(
    auth_token: str,
    url: str,
    params: Params,
    signature: str | None,
    *,
    body: bytes | None = None,
    settings_header: str | None = None,
) -> bool:
    """Check `X-Twilio-Signature` against the full public URL (with query) and every POST parameter.

    A JSON webhook carries `?bodySHA256=<hex>` in the URL instead: the body must hash to it and the
    signature then covers the URL alone.
    """
    if not auth_token or not signature:
        return False
    query = parse_qs(urlsplit(url).query)
    if "bodySHA256" in query:
        if body is None:
            return False
        if not hmac.compare_digest(hashlib.sha256(body).hexdigest(), query["bodySHA256"][0].lower()):
            return False
        params = ()
    algorithm = signature_algorithm(settings_header)
    valid = False
    for variant in url_variants(url):
        # no early exit: both variants are always computed
        valid |= hmac.compare_digest(compute_signature(auth_token, variant, params, algorithm).encode(),
                                     signature.encode())
    return valid


def parse_webhook(form: Mapping[str, Any], now: datetime | None = None) -> ParsedWebhook:
    """An incoming message or a status callback; Twilio sends no timestamp, so `now` (receipt) stands in."""
    if not isinstance(form, Mapping):
        raise PayloadError("body is not form data")
    def get(name: str) -> str | None:
        return optional_str(form.get(name))

    sid = get("MessageSid") or get("SmsMessageSid") or get("SmsSid")
    if not sid:
        raise PayloadError("MessageSid is missing")
    if not get("AccountSid"):
        raise PayloadError("AccountSid is missing")
    try:
        return _parse_fields(form, get, sid, now or utcnow())
    except PayloadError as exc:
        # Twilio's envelope (MessageSid, AccountSid) with fields we cannot read: kept raw, answered 200.
        return ParsedWebhook(unreadable=[unreadable(KIND, dict(form), exc.reason, sid)])


def _parse_fields(form: Mapping[str, Any], get, sid: str, now: datetime) -> ParsedWebhook:
    status = get("MessageStatus") or get("SmsStatus")
    if status in STATUSES:
        error = None
        if get("ErrorCode"):
            error = f"{get('ErrorCode')}: {get('ErrorMessage') or ''}".strip()
        return ParsedWebhook(statuses=[DeliveryStatus(KIND, sid, status, now, error)])
    sender, to = get("From"), get("To")
    if not sender or not to:
        raise PayloadError("From or To is missing")
    common = {
        "channel_kind": KIND,
        "external_id": sid,
        "platform_user_id": sender,
        "display_name": get("ProfileName"),
        "sent_at": now,
        "channel_address": to,
        "context_id": get("OriginalRepliedMessageSid"),
    }
    body = (get("Body") or "").replace("\x00", "") or None
    if get("Latitude") is not None or get("Longitude") is not None:
        location = make_location(get("Latitude"), get("Longitude"), get("Label"), get("Address"))
        return ParsedWebhook(messages=[InboundMessage(kind="location", location=location, **common)])
    if get("ButtonPayload") or get("ButtonText") or get("ListId"):
        return ParsedWebhook(messages=[InboundMessage(
            kind="reply",
            reply_id=get("ButtonPayload") or get("ListId") or get("ButtonText"),
            reply_title=get("ButtonText") or get("ListTitle"),
            **common,
        )])
    try:
        count = int(get("NumMedia") or 0)
    except ValueError:
        raise PayloadError("NumMedia is not a number") from None
    if not 0 <= count <= MAX_MEDIA:
        raise PayloadError(f"NumMedia out of range: {count}")
    images, other_types = [], []
    for index in range(count):
        url = get(f"MediaUrl{index}")
        if not url:
            raise PayloadError(f"MediaUrl{index} is missing")
        content_type = get(f"MediaContentType{index}")
        if content_type and not content_type.startswith("image/"):
            other_types.append(content_type.split("/")[0])
            continue
        images.append(MediaRef(ref=url, mime_type=content_type, caption=body))
    if images and not body and sender.startswith("whatsapp:") and \
            all((m.mime_type or "").lower() == "image/webp" for m in images):
        # A WhatsApp sticker reaches Twilio as a webp image (WhatsApp's photos are jpeg): quiet, like the
        # sticker on every other platform, never the photo of a report.
        message = InboundMessage(kind="quiet", unsupported_type="sticker", **common)
    elif images:
        message = InboundMessage(kind="photo", text=body, media=tuple(images), **common)
    elif body:
        message = InboundMessage(kind="text", text=body, **common)
    else:
        unsupported = other_types[0] if other_types else (get("MessageType") or "unknown")
        message = InboundMessage(kind="unsupported", unsupported_type=unsupported, **common)
    return ParsedWebhook(messages=[message])


# Outbound: the REST API.


def send_message(
    client: httpx.Client,
    api_url: str,
    account_sid: str,
    auth_token: str,
    from_: str,
    to: str,
    body: str | None = None,
    *,
    content_sid: str | None = None,
    content_variables: str | None = None,
    status_callback: str | None = None,
) -> str:
    """POST Messages.json; returns the MessageSid. WhatsApp templates go as `content_sid` (+ variables JSON)."""
    data = {"From": from_, "To": to}
    if body is not None:
        data["Body"] = body
    if content_sid:
        data["ContentSid"] = content_sid
        if content_variables:
            data["ContentVariables"] = content_variables
    if status_callback:
        data["StatusCallback"] = status_callback
    answer = call_json(
        client,
        "POST",
        f"{api_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json",
        platform="Twilio",
        data=data,
        auth=(account_sid, auth_token),
    )
    if not answer.get("sid"):
        raise PlatformError("Twilio answered without a sid", retryable=False)
    return str(answer["sid"])


def list_messages(client: httpx.Client, api_url: str, account_sid: str, auth_token: str, from_: str, to: str,
                  sent_after: datetime) -> list[dict]:
    """GET Messages.json filtered on From, To and DateSent>= (a date): what Twilio accepted for this resident
    since that day, newest first; each {"sid", "body", "date_created" (RFC 2822), "status", …}."""
    answer = call_json(
        client,
        "GET",
        f"{api_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json",
        platform="Twilio",
        params={"From": from_, "To": to, "DateSent>": sent_after.date().isoformat(), "PageSize": "50"},
        auth=(account_sid, auth_token),
    )
    messages = answer.get("messages")
    if not isinstance(messages, list):
        raise PlatformError("Twilio answered a message list without messages", retryable=True)
    return [m for m in messages if isinstance(m, dict)]


def fetch_media(client: httpx.Client, api_url: str, account_sid: str, auth_token: str, media_url: str,
                max_bytes: int) -> Download:
    """Download a MediaUrlN. Credentials go only to the configured Twilio API host and this account's path;
    Twilio then redirects to a short-lived CDN URL, which is fetched without them. Other URLs are refused,
    so a forged callback cannot make us send the Auth Token anywhere.
    """
    path = urlsplit(media_url).path
    if not same_origin(media_url, api_url) or not path.startswith(f"/2010-04-01/Accounts/{account_sid}/"):
        raise PlatformError("Twilio media URL is not on the Twilio API host of this account", retryable=False)
    return download(client, media_url, platform="Twilio", max_bytes=max_bytes, auth=(account_sid, auth_token),
                    credential_origins=(api_url,))


# The adapter: Twilio (SMS, and WhatsApp through Twilio) in the shape of every platform (channels/adapter.py).

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
WHATSAPP_PREFIX = "whatsapp:"
# A WhatsApp recipient through Twilio: free-form messages only this long after their last message.
WINDOW = timedelta(hours=24)
# Twilio's "outside the customer-service window" error (WhatsApp through Twilio).
WINDOW_ERROR = "63016"


def our_number(channel: ChannelConfig, to: str) -> str:
    """Our Twilio number for a message to `to` (a WhatsApp recipient needs our whatsapp: address)."""
    sender = channel.address or ""
    if to.startswith(WHATSAPP_PREFIX) and not sender.startswith(WHATSAPP_PREFIX):
        sender = f"{WHATSAPP_PREFIX}{sender}"
    return sender


def matching_message(text: str, listed: list[dict], attempted: datetime) -> dict | None:
    """The message Twilio accepted from an attempt at `attempted`: created since it, with the same body."""
    from email.utils import parsedate_to_datetime

    from meldingen.timeutil import as_aware_utc

    for item in listed:
        try:
            created = parsedate_to_datetime(str(item.get("date_created") or ""))
        except (TypeError, ValueError):
            continue
        if created is None or as_aware_utc(created) < attempted - timedelta(seconds=5):
            continue
        if (item.get("body") or "").strip() == (text or "").strip():
            return item
    return None


class TwilioAdapter(ChannelAdapter):
    kind = KIND
    name = "sms"
    public_name = "sms"
    secret_names = ("account_sid", "auth_token")
    # SMS has no buttons; status callbacks report delivery; the window applies to WhatsApp recipients only.
    capabilities = Capabilities(delivery_receipts=True, service_window=WINDOW, templates=True, max_text_length=1600,
                                pacing_seconds=1.0, concurrency=3)
    webhook = WebhookRoute("/webhooks/twilio", "twilio_message")
    refusal = "missing or wrong X-Twilio-Signature"

    def default_channel(self, config: Mapping[str, Any]) -> ChannelConfig | None:
        if not config.get("TWILIO_AUTH_TOKEN"):
            return None
        secrets = {"account_sid": config.get("TWILIO_ACCOUNT_SID"), "auth_token": config.get("TWILIO_AUTH_TOKEN")}
        return ChannelConfig(KIND, None, config.get("TWILIO_FROM") or None, secrets, self.default_api_url(config))

    def default_api_url(self, config: Mapping[str, Any]) -> str:
        return config.get("TWILIO_API_URL") or DEFAULT_API_URL

    def verify(self, request: WebhookRequest, channels: Sequence[ChannelConfig]) -> list[ChannelConfig]:
        # The signature covers the parameters as Twilio sent them, before the form was cleaned (a NUL in Body).
        is_json = request.content_type == "application/json"
        params = [] if is_json else parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True)
        signature = request.header(SIGNATURE_HEADER)
        settings = request.header(SETTINGS_HEADER)
        return [c for c in channels
                if verify_signature(c.secret("auth_token"), request.url, params, signature, body=request.body,
                                    settings_header=settings)]

    def read_payload(self, request: WebhookRequest) -> Any:
        if request.content_type == "application/json":
            return json_payload(request.body)
        return dict(request.form)

    def delivery_reference(self, request: WebhookRequest) -> str | None:
        reference = request.args.get("outbox")  # our StatusCallback URL names the outbox row (signed with the URL)
        return reference[:20] if reference else None

    def parse(self, raw: Any) -> ParsedWebhook:
        return parse_webhook(raw)

    def acknowledgement(self) -> WebhookAnswer:
        return WebhookAnswer(EMPTY_TWIML, content_type="text/xml")

    def address_key(self, address: str | None) -> str:
        return (address or "").removeprefix(WHATSAPP_PREFIX).strip()

    def fetch_media(self, ref: str, channel: ChannelConfig, *, max_bytes: int,
                    client: httpx.Client | None = None) -> Download:
        return fetch_media(client or platform_client(), channel.api_url, channel.secret("account_sid"),
                           channel.secret("auth_token"), ref, max_bytes)

    def send(self, message: OutgoingMessage, channel: ChannelConfig, *, now: datetime,
             client: httpx.Client | None = None) -> str:
        to = message.to
        callback = None
        public_url = current_app.config.get("PUBLIC_URL")
        if public_url:
            # Our outbox id in the URL: Twilio's status callbacks then name the row even if the send's own
            # answer never arrived (a timeout).
            callback = public_url.rstrip("/") + f"/webhooks/twilio?outbox={message.outbox_id}"

        def send(**fields: Any) -> str:
            return send_message(client or platform_client(), channel.api_url, channel.secret("account_sid"),
                                channel.secret("auth_token"), our_number(channel, to), to,
                                status_callback=callback, **fields)

        try:
            if to.startswith(WHATSAPP_PREFIX) and not inside_window(message.last_inbound_at, now, WINDOW):
                template = approved_template(message, channel, current_app.config, "TWILIO_TEMPLATES")
                if not template:
                    raise no_template(message)
                variables = {str(i + 1): p for i, p in
                             enumerate(template_parameters(message, template.get("parameters", ())))}
                return send(content_sid=template["content_sid"], content_variables=json.dumps(variables))
            return send(body=message.text)
        except PlatformError as exc:
            if exc.code == WINDOW_ERROR:
                raise HeldForStaff(exc.message) from None
            raise

    def settle_unknown(self, send: UnknownSend, channel: ChannelConfig | None, *,
                       client: httpx.Client | None = None) -> Settlement:
        """Receipts had their wait (the StatusCallback names the row); then the Messages list is asked what Twilio
        accepted since the attempt. Twilio creates the message resource before it answers the POST, so a message
        not in the list did not land."""
        if channel is None or send.to is None:
            return Settlement("park", "Twilio channel or resident gone; cannot check the send")
        try:
            listed = list_messages(client or platform_client(), channel.api_url, channel.secret("account_sid"),
                                   channel.secret("auth_token"), our_number(channel, send.to), send.to,
                                   send.attempted_at)
        except PlatformError as exc:
            return Settlement("check_failed", f"{send.last_error}; Twilio's list unavailable: {exc.message}")
        landed = matching_message(send.text, listed, send.attempted_at)
        if landed is None:
            return Settlement("resend", "Twilio has no such message: it did not land")
        return Settlement("sent", "Twilio has it", platform_message_id=str(landed.get("sid")))

    def format_reply(self, reply: Reply, text: Callable[[str], str]) -> Reply:
        return numbered_choices(reply, text)  # SMS has no buttons: numbered choices

    def display_name(self, platform_id: str | None = None) -> str:
        return "WhatsApp (Twilio)" if (platform_id or "").startswith(WHATSAPP_PREFIX) else self.name

    def public_channel_name(self, channel: ChannelConfig) -> str | None:
        return "WhatsApp" if (channel.address or "").startswith(WHATSAPP_PREFIX) else "sms"

    def masked_id(self, platform_id: str | None) -> str | None:
        return masked_phone(platform_id)
