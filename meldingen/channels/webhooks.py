"""Webhook endpoints of every platform, and the website chat's JSON API: verify, store once, answer, work later.

Each view checks the signature or secret on the raw body (403 and nothing stored when it fails), parses the
platform's envelope (400, logged, when the body is not the platform's at all), stores each message as a raw
event under its unique key, commits, answers 200 and only then enqueues the work (`channels.process_event`).
A message inside a valid delivery that cannot be read is stored raw with its reason (state "unreadable") and
skipped: the others in the same delivery are processed.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl
from dataclasses import replace

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import select

from meldingen import jobs
from meldingen.channels import registry, telegram, twilio, webchat, whatsapp
from meldingen.channels.inbound import insert_event, record_delivery
from meldingen.channels.messages import InboundMessage, MediaRef, ParsedWebhook, PayloadError
from meldingen.extensions import csrf, db
from meldingen.inputs.jsonbody import JSONRefused, parse_json
from meldingen.web import limits

log = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__)
csrf.exempt(bp)  # platforms sign their requests; there is no browser session to protect

# Seconds the processing of a verified delivery waits when its channel is above its limit.
CHANNEL_BACKOFF_SECONDS = 30

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


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


def commit_and_enqueue(event_ids: list[int], kind: str = "", channel_key: str = "") -> None:
    """Commit the stored events, then hand them to the workers; above the channel's limit the work is queued for
    a little later instead (the delivery itself is never refused: the platform would only send it again)."""
    db.session.commit()
    delay = CHANNEL_BACKOFF_SECONDS if event_ids and kind and limits.channel_over_limit(kind, channel_key) else 0
    for event_id in event_ids:
        if delay:
            jobs.enqueue_in(delay, "channels.process_event", event_id=event_id)
        else:
            jobs.enqueue("channels.process_event", event_id=event_id)


def accept(delivery: dict) -> None:
    """A verified, well-formed delivery: stored now, or spooled for the background process to store
    (`channels/spool.py`: the embedded default's webhooks never wait for SQLite's write lock)."""
    from meldingen.channels import spool

    if spool.enabled():
        spool.write(delivery)
        jobs.enqueue("channels.import_spool")
        return
    commit_and_enqueue(*store_delivery(delivery))


def store_delivery(delivery: dict) -> tuple[list[int], str, str]:
    """Store one delivery's messages and receipts (not committed): (new message events, kind, channel key).

    `delivery` is {"kind", "raw": the platform's body, "verified": ids of the channels whose secret verified it
    (None: the default channel), "outbox": Twilio's outbox reference}, as the webhook made it."""
    kind, raw = delivery["kind"], delivery["raw"]
    ids = delivery.get("verified") or []
    verified = [c for c in registry.channels_of_kind(kind) if c.channel_id in ids]
    if not verified:
        raise LookupError(f"{kind} delivery: the channel that verified it is gone")
    if kind == "telegram":
        channel = verified[0]
        parsed = telegram.parse_webhook(raw)
        # update_id counts per bot: the bot id keeps two bots' updates apart.
        bot = channel.address or "default"
        event_ids = record_delivery(
            parsed,
            channel_for=lambda m: channel.channel_id,
            message_key=lambda m: f"{bot}:{m.external_id}",
            raw=raw,
            unreadable_key=lambda u: f"{bot}:{u.event_key}",
        )
        if not parsed.messages and not parsed.unreadable:  # an update of no interest is stored once, for the record
            insert_event("telegram", f"{bot}:{raw['update_id']}", channel.channel_id, {"raw": raw}, state="done")
        return event_ids, "telegram", bot
    parsed = whatsapp.parse_webhook(raw) if kind == "whatsapp" else twilio.parse_webhook(raw)
    if kind == "twilio" and delivery.get("outbox") and parsed.statuses:
        parsed.statuses = [replace(s, reference=f"outbox:{delivery['outbox']}") for s in parsed.statuses]

    def channel_for(message: InboundMessage) -> int | None:
        return (registry.for_address(kind, message.channel_address, verified) or verified[0]).channel_id

    return record_delivery(parsed, channel_for=channel_for, raw=raw), kind, str(verified[0].channel_id)


# --- WhatsApp Cloud API ---------------------------------------------------------------------------------


@bp.get("/webhooks/whatsapp")
def whatsapp_handshake():
    for channel in registry.channels_of_kind("whatsapp"):
        challenge = whatsapp.verify_handshake(request.args, channel.secret("verify_token"))
        if challenge is not None:
            return Response(challenge, mimetype="text/plain")
    return _refuse("whatsapp", "verify token does not match")


@bp.post("/webhooks/whatsapp")
def whatsapp_notification():
    body = request.get_data()  # the raw bytes: Meta signs them, re-serialised JSON would not match
    header = request.headers.get(whatsapp.SIGNATURE_HEADER)
    verified = [c for c in registry.channels_of_kind("whatsapp")
                if whatsapp.verify_signature(c.secret("app_secret"), body, header)]
    if not verified:
        return _refuse("whatsapp", "missing or wrong X-Hub-Signature-256")
    try:
        raw = parse_json(body)
        parsed = whatsapp.parse_webhook(raw)
    except PayloadError as exc:
        return _bad_shape("whatsapp", exc.reason)
    except JSONRefused as exc:
        return _bad_shape("whatsapp", str(exc))

    accept({"kind": "whatsapp", "raw": raw, "verified": [c.channel_id for c in verified]})
    return Response("", status=200)


# --- Telegram Bot API -----------------------------------------------------------------------------------


@bp.post("/webhooks/telegram")
def telegram_update():
    header = request.headers.get(telegram.SECRET_HEADER)
    channel = next((c for c in registry.channels_of_kind("telegram")
                    if telegram.verify_secret_token(c.secret("secret_token"), header)), None)
    if channel is None:
        return _refuse("telegram", "missing or wrong X-Telegram-Bot-Api-Secret-Token")
    try:
        raw = parse_json(request.get_data())
        parsed = telegram.parse_webhook(raw)
    except PayloadError as exc:
        return _bad_shape("telegram", exc.reason)
    except JSONRefused as exc:
        return _bad_shape("telegram", str(exc))
    accept({"kind": "telegram", "raw": raw, "verified": [channel.channel_id]})
    return jsonify({})


# --- Twilio (SMS and WhatsApp) --------------------------------------------------------------------------


def _twilio_public_url() -> str:
    """The URL Twilio requested: behind a proxy `request.url` is the internal one, so the configured base wins."""
    base = (current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    if not base:
        return request.url
    query = request.query_string.decode("latin-1")
    return f"{base}{request.path}" + (f"?{query}" if query else "")


@bp.post("/webhooks/twilio")
def twilio_message():
    body = request.get_data()
    is_json = request.mimetype == "application/json"
    # The signature covers the parameters as Twilio sent them, before `request.form` cleaned them (a NUL in Body).
    params = [] if is_json else parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    url = _twilio_public_url()
    signature = request.headers.get(twilio.SIGNATURE_HEADER)
    settings = request.headers.get(twilio.SETTINGS_HEADER)
    verified = [c for c in registry.channels_of_kind("twilio")
                if twilio.verify_signature(c.secret("auth_token"), url, params, signature, body=body,
                                           settings_header=settings)]
    if not verified:
        return _refuse("twilio", "missing or wrong X-Twilio-Signature")
    try:
        form = parse_json(body) if is_json else request.form.to_dict()
        parsed = twilio.parse_webhook(form)
    except PayloadError as exc:
        return _bad_shape("twilio", exc.reason)
    except JSONRefused as exc:
        return _bad_shape("twilio", str(exc))

    outbox_ref = request.args.get("outbox")  # our StatusCallback URL names the outbox row (signed with the URL)
    accept({"kind": "twilio", "raw": form, "verified": [c.channel_id for c in verified],
            "outbox": outbox_ref[:20] if outbox_ref else None})
    return Response(EMPTY_TWIML, mimetype="text/xml")


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
        return _refuse("webchat", "missing or wrong chat session")
    if request.mimetype == "multipart/form-data":
        return _chat_photo(session_id)
    payload = request.get_json(silent=True)
    try:
        parsed = webchat.parse_webhook(payload, session_id)
    except PayloadError as exc:
        return _bad_shape("webchat", exc.reason)
    return _store_chat(parsed)


def _chat_photo(session_id: str):
    from meldingen.media.images import ImageRejected
    from meldingen.media.services import store_photo

    upload = request.files.get("file")
    if upload is None:
        return _bad_shape("webchat", "file is missing")
    try:
        parsed = webchat.parse_webhook({"id": request.form.get("id"), "photos": ["pending"],
                                        "text": request.form.get("text")}, session_id)
    except PayloadError as exc:
        return _bad_shape("webchat", exc.reason)
    message = parsed.messages[0]
    if db.session.scalar(select(_event_exists(message.external_id))):
        return jsonify({"stored": False}), 200
    try:
        photo = store_photo(upload.read(current_app.config["MAX_PHOTO_BYTES"] + 1), source="webchat")
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

    return exists().where(InboundEvent.channel_kind == "webchat", InboundEvent.external_key == external_key)


def _store_chat(parsed: ParsedWebhook):
    event_ids = record_delivery(parsed, channel_for=lambda m: None)
    commit_and_enqueue(event_ids)
    return jsonify({"stored": bool(event_ids)}), 200


@bp.get("/chat/api/messages")
@limits.limit_chat_polls
def chat_replies():
    """The replies for this chat session after `after` (an id the page got before), oldest first."""
    from meldingen.channels.models import OutboundMessage
    from meldingen.reports.models import Reporter

    session_id = _chat_session()
    if session_id is None:
        return _refuse("webchat", "missing or wrong chat session")
    after = request.args.get("after", default=0, type=int)  # out of an id's range: 0 (see inputs.guards)
    rows = db.session.scalars(
        select(OutboundMessage)
        .join(Reporter, Reporter.id == OutboundMessage.reporter_id)
        .where(Reporter.channel_kind == "webchat", Reporter.platform_id == session_id, OutboundMessage.id > after,
               OutboundMessage.state.in_(("sent", "delivered", "read")))
        .order_by(OutboundMessage.id)
        .limit(100)
    )
    return jsonify({"messages": [
        {"id": row.id, "text": row.body, "at": row.sent_at.isoformat() if row.sent_at else None,
         "buttons": (row.payload or {}).get("buttons", [])}
        for row in rows
    ]})
