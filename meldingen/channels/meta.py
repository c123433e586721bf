"""Meta's webhook contract, shared by WhatsApp (Cloud API) and Messenger: the signed body and the handshake.

Both platforms sign each POST with `X-Hub-Signature-256: sha256=<hex>`, HMAC-SHA256 of the raw body with the App
Secret, and subscribe a webhook with a GET whose `hub.verify_token` must match ours and whose `hub.challenge` is
echoed back.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence

from meldingen.channels.adapter import ChannelConfig, WebhookAnswer, WebhookRequest

SIGNATURE_HEADER = "X-Hub-Signature-256"


def verify_signature(app_secret: str, body: bytes, header: str | None) -> bool:
    """`X-Hub-Signature-256: sha256=<hex>` is HMAC-SHA256 of the raw body with the App Secret."""
    if not app_secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256=").strip().lower())


def sign(app_secret: str, body: bytes) -> str:
    """The header value Meta would send for `body` (for tests and the benchmarks)."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def verify_handshake(args: Mapping[str, str], verify_token: str) -> str | None:
    """The GET subscription handshake: the challenge to echo back, or None (answer 403)."""
    if not verify_token or args.get("hub.mode") != "subscribe":
        return None
    given = args.get("hub.verify_token") or ""
    if not hmac.compare_digest(given.encode(), verify_token.encode()):
        return None
    challenge = args.get("hub.challenge")
    return challenge if challenge else None


class MetaWebhook:
    """The receiving half of a Meta platform's adapter: the handshake against each channel's verify token, and the
    signature against each channel's App Secret, on the raw bytes (re-serialised JSON would not match)."""

    def handshake(self, request: WebhookRequest, channels: Sequence[ChannelConfig]) -> WebhookAnswer | None:
        for channel in channels:
            challenge = verify_handshake(request.args, channel.secret("verify_token"))
            if challenge is not None:
                return WebhookAnswer(challenge)
        return None

    def verify(self, request: WebhookRequest, channels: Sequence[ChannelConfig]) -> list[ChannelConfig]:
        header = request.header(SIGNATURE_HEADER)
        return [c for c in channels if verify_signature(c.secret("app_secret"), request.body, header)]
