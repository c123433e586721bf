"""Webhook endpoints of every platform, and the website chat's JSON API: verify, store once, answer, work later.

Each view checks the signature or secret on the raw body (403 and nothing stored when it fails), parses the
platform's envelope (400, logged, when the body is not the platform's at all), stores each message as a raw
event under its unique key, commits, answers 200 and only then enqueues the work (`channels.process_event`).
A message inside a valid delivery that cannot be read is stored raw with its reason (state "unreadable") and
skipped: the others in the same delivery are processed.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import select

from meldingen.channels import registry, webchat
from meldingen.channels.adapter import (
    ChannelAdapter,
    Delivery,
    WebhookAnswer,
    WebhookRequest,
)
from meldingen.channels.adapters import all_adapters
from meldingen.channels.inbound import record_delivery
from meldingen.channels.messages import (
    InboundMessage,
    MediaRef,
    ParsedWebhook,
    PayloadError,
)
from meldingen.channels.receiving import accept, commit_and_enqueue
from meldingen.extensions import csrf, db
from meldingen.web import limits

log = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__)
csrf.exempt(bp)  # platforms sign their requests; there is no browser session to protect

def _refuse(kind: str, why: str) -> Response:
    """403 to what is not the platform; 429 once one address keeps sending such deliveries (never to verified
    ones: those are always stored)."""
    log.warning("%s webhook refused: %s (from %s)", kind, why, request.remote_addr)
    if not limits.unverified_webhook_allowed(kind):
        return Response("too many refused deliveries from this address", status=429, mimetype="text/plain",
                        headers={"Retry-After": "60"})
    return Response("forbidden", status=403, mimetype="text/plain")


def _bad_shape(kind: str, reason: str) -> Response:
    log.warning("%s webhook body is not of the platform's shape: %s", kind, reason)
    return Response(f"bad request: {reason}", status=400, mimetype="text/plain")


# --- Platform webhooks: one POST route per adapter with a webhook, and its GET handshake --------------------


def _webhook_request() -> WebhookRequest:
    """This request as the adapters see it; `url` is the URL the platform called: behind a proxy
    `request.url` is the internal one, so the configured public base wins."""
    base = (current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    url = request.url
    if base:
        query = request.query_string.decode("latin-1")
        url = f"{base}{request.path}" + (f"?{query}" if query else "")
    body = request.get_data()  # first: the raw bytes stay readable after the form is parsed from them
    form = request.form.to_dict() if request.mimetype in ("application/x-www-form-urlencoded",
                                                          "multipart/form-data") else {}
    return WebhookRequest(method=request.method, url=url, headers=dict(request.headers),
                          args=request.args.to_dict(), form=form, body=body,
                          content_type=request.mimetype, remote_addr=request.remote_addr)


def _response(answer: WebhookAnswer) -> Response:
    return Response(answer.body, status=answer.status, mimetype=answer.content_type)


def receive(adapter: ChannelAdapter) -> Response:
    """Verify on the raw body (403, nothing stored), read the platform's envelope (400), store once, answer."""
    incoming = _webhook_request()
    verified = adapter.verify(incoming, registry.channels_of_kind(adapter.kind))
    if not verified:
        return _refuse(adapter.kind, adapter.refusal)
    try:
        raw = adapter.read_payload(incoming)
        adapter.parse(raw)
    except PayloadError as exc:
        return _bad_shape(adapter.kind, exc.reason)
    accept(Delivery(adapter.kind, raw, tuple(c.channel_id for c in verified),
                    adapter.delivery_reference(incoming)).to_dict())
    return _response(adapter.acknowledgement())


def handshake(adapter: ChannelAdapter) -> Response:
    """The platform's set-up handshake (a GET with a challenge): the challenge, or 403."""
    answer = adapter.handshake(_webhook_request(), registry.channels_of_kind(adapter.kind))
    if answer is None:
        return _refuse(adapter.kind, "verify token does not match")
    return _response(answer)


def _register_webhooks() -> None:
    for adapter in all_adapters():
        route = adapter.webhook
        if route is None:
            continue
        bp.add_url_rule(route.path, route.endpoint, lambda adapter=adapter: receive(adapter), methods=["POST"])
        if route.handshake_endpoint:
            bp.add_url_rule(route.path, route.handshake_endpoint, lambda adapter=adapter: handshake(adapter),
                            methods=["GET"])


_register_webhooks()


# --- Website chat ---------------------------------------------------------------------------------------


def _chat_session() -> str | None:
    return webchat.verify_session_token(current_app.config["SECRET_KEY"], request.headers.get(webchat.SESSION_HEADER))


@bp.post("/chat/api/sessions")
@limits.limit_chat_sessions
def chat_new_session():
    session_id = webchat.new_session_id()
    token = webchat.issue_session_token(current_app.config["SECRET_KEY"], session_id)
    return jsonify({"session": token}), 201


@bp.post("/chat/api/messages")
@limits.limit_chat_messages
def chat_message():
    """JSON `{"id", "text"?, "location"?, "reply"?}`, or multipart with `id`, `text` and a photo in `file`."""
    session_id = _chat_session()
    if session_id is None:
        return _refuse(webchat.KIND, "missing or wrong chat session")
    if request.mimetype == "multipart/form-data":
        return _chat_photo(session_id)
    payload = request.get_json(silent=True)
    try:
        parsed = webchat.parse_webhook(payload, session_id)
    except PayloadError as exc:
        return _bad_shape(webchat.KIND, exc.reason)
    return _store_chat(parsed)


def _chat_photo(session_id: str):
    from meldingen.media.images import ImageRejected
    from meldingen.media.services import store_photo

    upload = request.files.get("file")
    if upload is None:
        return _bad_shape(webchat.KIND, "file is missing")
    try:
        parsed = webchat.parse_webhook({"id": request.form.get("id"), "photos": ["pending"],
                                        "text": request.form.get("text")}, session_id)
    except PayloadError as exc:
        return _bad_shape(webchat.KIND, exc.reason)
    message = parsed.messages[0]
    if db.session.scalar(select(_event_exists(message.external_id))):
        return jsonify({"stored": False}), 200
    try:
        photo = store_photo(upload.read(current_app.config["MAX_PHOTO_BYTES"] + 1), source=webchat.KIND)
    except ImageRejected as exc:
        # The photo is refused, the words sent with it are not: they go to the intake, which tells the
        # resident why in their own language (the reply arrives in the chat like any other).
        log.info("webchat photo refused: %s", exc.reason)
        refused = InboundMessage(**{**message.__dict__, "media": (), "media_refused": (exc.code,)})
        _store_chat(ParsedWebhook(messages=[refused]))
        return jsonify({"stored": True, "photo_refused": exc.code}), 200
    media = (MediaRef(ref=photo.token, mime_type=photo.content_type, caption=message.text),)
    parsed = ParsedWebhook(messages=[InboundMessage(**{**message.__dict__, "media": media})])
    return _store_chat(parsed)


def _event_exists(external_key: str):
    from sqlalchemy import exists

    from meldingen.channels.models import InboundEvent

    return exists().where(InboundEvent.channel_kind == webchat.KIND, InboundEvent.external_key == external_key)


def _store_chat(parsed: ParsedWebhook):
    event_ids = record_delivery(parsed, channel_for=lambda m: None)
    commit_and_enqueue(event_ids)
    return jsonify({"stored": bool(event_ids)}), 200


@bp.get("/chat/api/messages")
@limits.limit_chat_polls
def chat_replies():
    """The replies for this chat session after `after` (an id the page got before), oldest first."""
    from meldingen.notify.models import OutboundMessage
    from meldingen.residents.models import Reporter

    session_id = _chat_session()
    if session_id is None:
        return _refuse(webchat.KIND, "missing or wrong chat session")
    after = request.args.get("after", default=0, type=int)  # out of an id's range: 0 (see inputs.guards)
    rows = db.session.scalars(
        select(OutboundMessage)
        .join(Reporter, Reporter.id == OutboundMessage.reporter_id)
        .where(Reporter.channel_kind == webchat.KIND, Reporter.platform_id == session_id, OutboundMessage.id > after,
               OutboundMessage.state.in_(("sent", "delivered", "read")))
        .order_by(OutboundMessage.id)
        .limit(100)
    )
    return jsonify({"messages": [
        {"id": row.id, "text": row.body, "at": row.sent_at.isoformat() if row.sent_at else None,
         "buttons": (row.payload or {}).get("buttons", [])}
        for row in rows
    ]})
