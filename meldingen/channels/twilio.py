"""Twilio Messaging (SMS and WhatsApp): X-Twilio-Signature, form parsing, Messages.json and media download."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import httpx

from meldingen.channels.base import Download, PlatformError, call_json, download, same_origin
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
    get = lambda name: optional_str(form.get(name))  # noqa: E731
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
    common = dict(
        channel_kind=KIND,
        external_id=sid,
        platform_user_id=sender,
        display_name=get("ProfileName"),
        sent_at=now,
        channel_address=to,
        context_id=get("OriginalRepliedMessageSid"),
    )
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
    if images:
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
