"""The municipality's own website chat: signed session tokens and the JSON the chat page posts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import datetime
from typing import Any

from meldingen.channels.messages import (
    InboundMessage,
    MediaRef,
    ParsedWebhook,
    PayloadError,
    make_location,
    optional_str,
    require_dict,
)
from meldingen.timeutil import utcnow

KIND = "webchat"
SESSION_HEADER = "X-Chat-Session"
MAX_TEXT = 4000
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def new_session_id() -> str:
    return secrets.token_urlsafe(18)


def _mac(secret_key: str, session_id: str) -> str:
    digest = hmac.new(secret_key.encode(), b"webchat-session:" + session_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def issue_session_token(secret_key: str, session_id: str) -> str:
    """The token the chat page keeps and sends in `X-Chat-Session`; it names the session and proves we issued it."""
    return f"{session_id}.{_mac(secret_key, session_id)}"


def verify_session_token(secret_key: str, token: str | None) -> str | None:
    """The session id of a token we issued, or None (answer 403)."""
    if not secret_key or not token or "." not in token:
        return None
    session_id, _, mac = token.rpartition(".")
    if not session_id or not hmac.compare_digest(mac.encode(), _mac(secret_key, session_id).encode()):
        return None
    return session_id


verify_signature = verify_session_token


def parse_webhook(payload: Any, session_id: str, now: datetime | None = None,
                  display_name: str | None = None) -> ParsedWebhook:
    """One message from the chat page:

    `{"id": "<client uuid>", "text": "...", "location": {"lat", "lon", "name"?, "address"?},
      "photos": ["<upload id>", ...], "reply": {"id", "title"?}}` — `id` is the browser's own message id, so a
    resent message (flaky mobile connection) is stored once.
    """
    payload = require_dict(payload, "body")
    client_id = payload.get("id")
    if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id):
        raise PayloadError("id must be 8 to 64 characters of A-Z a-z 0-9 _ -")
    text = payload.get("text")
    if text is not None and not isinstance(text, str):
        raise PayloadError("text is not a string")
    if text and len(text) > MAX_TEXT:
        raise PayloadError(f"text is longer than {MAX_TEXT} characters")
    text = optional_str(text.strip() if text else None)
    common = dict(
        channel_kind=KIND,
        external_id=f"{session_id}:{client_id}",
        platform_user_id=session_id,
        display_name=optional_str(payload.get("name")) or display_name,
        sent_at=now or utcnow(),  # the browser's clock is not to be trusted
    )
    if payload.get("location") is not None:
        loc = require_dict(payload["location"], "location")
        location = make_location(loc.get("lat"), loc.get("lon"), loc.get("name"), loc.get("address"))
        return ParsedWebhook(messages=[InboundMessage(kind="location", location=location, text=text, **common)])
    if payload.get("reply") is not None:
        reply = require_dict(payload["reply"], "reply")
        reply_id = optional_str(reply.get("id"))
        if not reply_id:
            raise PayloadError("reply.id is missing")
        return ParsedWebhook(messages=[InboundMessage(kind="reply", reply_id=reply_id,
                                                      reply_title=optional_str(reply.get("title")), **common)])
    photos = payload.get("photos") or []
    if not isinstance(photos, list) or not all(isinstance(p, str) and p for p in photos) or len(photos) > 10:
        raise PayloadError("photos must be a list of at most ten upload ids")
    if photos:
        media = tuple(MediaRef(ref=p, caption=text) for p in photos)
        return ParsedWebhook(messages=[InboundMessage(kind="photo", text=text, media=media, **common)])
    if text:
        return ParsedWebhook(messages=[InboundMessage(kind="text", text=text, **common)])
    raise PayloadError("a message needs text, a location, photos or a reply")
