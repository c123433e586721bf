"""The municipality's own website chat: signed session tokens, the JSON the chat page posts, and its adapter
(`WebchatAdapter`: nothing is sent anywhere, the page collects its replies)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx

from meldingen.channels.adapter import (
    Capabilities,
    ChannelAdapter,
    ChannelConfig,
    OutgoingMessage,
    Settlement,
    UnknownSend,
    WebhookRequest,
    json_payload,
)
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
    common = {
        "channel_kind": KIND,
        "external_id": f"{session_id}:{client_id}",
        "platform_user_id": session_id,
        "display_name": optional_str(payload.get("name")) or display_name,
        "sent_at": now or utcnow(),  # the browser's clock is not to be trusted
    }
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


# The adapter: the website chat in the shape of every platform (channels/adapter.py). Its routes are its own
# (`/chat/api/…` in webhooks.py: sessions, uploads, polling for replies); nothing is sent anywhere, the page
# collects its replies.


class WebchatAdapter(ChannelAdapter):
    kind = KIND
    name = "website-chat"
    capabilities = Capabilities(buttons=10, location_request=True, max_text_length=MAX_TEXT, pacing_seconds=0.0,
                                concurrency=None, leaves_service=False, media_uploaded=True)
    refusal = "missing or wrong chat session"

    def default_channel(self, config: Mapping[str, Any]) -> ChannelConfig | None:
        return ChannelConfig(KIND, None, None, {})

    def verify(self, request: WebhookRequest, channels: Sequence[ChannelConfig]) -> list[ChannelConfig]:
        """A chat message is ours when its `X-Chat-Session` token is one we issued (signed with SECRET_KEY)."""
        from flask import current_app

        session_id = verify_session_token(current_app.config["SECRET_KEY"], request.header(SESSION_HEADER))
        return list(channels[:1]) if session_id is not None else []

    def read_payload(self, request: WebhookRequest) -> Any:
        """`{"session": <the verified session id>, "message": <the page's JSON>}`: the session is part of the
        message (it is where replies go), and it comes from the signed header, not the body."""
        from flask import current_app

        session_id = verify_session_token(current_app.config["SECRET_KEY"], request.header(SESSION_HEADER))
        return {"session": session_id, "message": json_payload(request.body)}

    def parse(self, raw: Any) -> ParsedWebhook:
        raw = require_dict(raw, "body")
        session_id = raw.get("session")
        if not isinstance(session_id, str) or not session_id:
            raise PayloadError("session is missing")
        return parse_webhook(raw.get("message"), session_id)

    def send(self, message: OutgoingMessage, channel: ChannelConfig, *, now: datetime,
             client: httpx.Client | None = None) -> str:
        return f"webchat-{message.outbox_id}"  # the chat page collects it (GET /chat/api/messages)

    def settle_unknown(self, send: UnknownSend, channel: ChannelConfig | None, *,
                       client: httpx.Client | None = None) -> Settlement:
        return Settlement("resend", "nothing left the service; queued again")
