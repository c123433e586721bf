"""Sending outbox rows on their platform: one claim per attempt, retries with backoff, pacing, WhatsApp's window.

A row is claimed by moving it from "queued" to "sending" in one UPDATE that only one worker can win, and
that claim is committed before the platform is called: a job delivered twice, or a sweep running beside a
timer, can never send the same row twice. A worker that dies during the call leaves the row "sending"
(at most once, never twice). Platform errors that may pass (429, 5xx, timeouts) are tried again after
RETRY_SECONDS; others mark the row "failed". WhatsApp free-form messages are allowed for 24 hours after
the resident's last message; after that the approved template configured for the message's purpose is
sent, and without one the row is "held" for staff (the conversation is flagged for a person).
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import httpx
from flask import current_app
from sqlalchemy import func, select, update

from meldingen import jobs
from meldingen.channels import registry, telegram, twilio, whatsapp
from meldingen.channels.base import PlatformError
from meldingen.channels.models import Channel, OutboundMessage
from meldingen.extensions import db
from meldingen.intake.models import Conversation
from meldingen.notify import receipts
from meldingen.reports.models import Reporter
from meldingen.timeutil import as_aware_utc, utcnow

log = logging.getLogger(__name__)

RETRY_SECONDS = (5, 30, 120, 600, 1800)
MAX_ATTEMPTS = len(RETRY_SECONDS) + 1
# Least time between two messages to the same person (WhatsApp's pair rate is about one per 6 s).
DEFAULT_PACING_SECONDS = {"whatsapp": 6.0, "telegram": 1.0, "twilio": 1.0, "webchat": 0.0}
WINDOW = timedelta(hours=24)
WINDOW_MARGIN = timedelta(minutes=1)
# The platforms' "outside the customer-service window" errors: WhatsApp Cloud API and Twilio.
WINDOW_ERRORS = frozenset({"131047", "63016"})


def pacing_seconds(kind: str) -> float:
    configured = current_app.config.get("NOTIFY_PACING_SECONDS")
    if isinstance(configured, str) and configured.strip():
        configured = json.loads(configured)
    if isinstance(configured, dict) and kind in configured:
        return float(configured[kind])
    return DEFAULT_PACING_SECONDS.get(kind, 0.0)


def deliver(message_id: int, now=None) -> str | None:
    """Try to send one outbox row now; returns its state afterwards (None when it was not ours to send)."""
    now = now or utcnow()
    message = db.session.get(OutboundMessage, message_id)
    if message is None or message.state != "queued":
        return None
    due = as_aware_utc(message.next_attempt_at)
    if due is not None and due > now + timedelta(milliseconds=500):
        return None  # not yet: its timer (or the sweep) comes back
    if receipts.is_read_receipt(message):
        return deliver_read_receipt(message_id, now)
    wait = _pacing_wait(message, now)
    if wait > 0:
        message.next_attempt_at = now + timedelta(seconds=wait)
        db.session.commit()
        jobs.enqueue_in(wait, "notify.send", message_id=message_id)
        return "queued"
    claimed = db.session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == message_id, OutboundMessage.state == "queued")
        .values(state="sending", attempts=OutboundMessage.attempts + 1, state_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if claimed != 1:
        return None
    message = db.session.get(OutboundMessage, message_id)
    db.session.refresh(message)
    reporter = db.session.get(Reporter, message.reporter_id)
    try:
        platform_id = send_on_platform(message, reporter, now)
    except HeldForStaff as held:
        return _finish(message, "held", now, error=str(held))
    except PlatformError as exc:
        if exc.code in WINDOW_ERRORS:
            return _finish(message, "held", now, error=exc.message)
        if exc.retryable and message.attempts < MAX_ATTEMPTS:
            delay = RETRY_SECONDS[min(message.attempts - 1, len(RETRY_SECONDS) - 1)]
            message.state = "queued"
            message.next_attempt_at = now + timedelta(seconds=delay)
            message.last_error = exc.message
            db.session.commit()
            log.warning("outbound %s: %s; retry in %ss", message_id, exc.message, delay)
            jobs.enqueue_in(delay, "notify.send", message_id=message_id)
            return "queued"
        return _finish(message, "failed", now, error=exc.message)
    message.state = "sent"
    message.sent_at = now
    message.state_at = now
    message.platform_message_id = platform_id
    message.last_error = None
    db.session.commit()
    return "sent"


def deliver_read_receipt(message_id: int, now) -> str | None:
    """Mark the resident's WhatsApp message read: claimed like any row, one short call, one retry at most.

    Whatever happens here, the resident's message has been processed already; a failure is logged and kept on
    the row, never raised and never a reason to call in a person.
    """
    claimed = db.session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == message_id, OutboundMessage.state == "queued")
        .values(state="sending", attempts=OutboundMessage.attempts + 1, state_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if claimed != 1:
        return None
    message = db.session.get(OutboundMessage, message_id)
    db.session.refresh(message)
    receipt = (message.payload or {}).get("read_receipt") or {}
    channel = registry.channel_by_id(message.channel_kind, message.channel_id)
    try:
        if channel is None:
            raise PlatformError(f"{message.channel_kind} channel is not configured", retryable=False)
        phone_id = (receipt.get("phone_number_id") or channel.address
                    or current_app.config.get("WHATSAPP_PHONE_NUMBER_ID") or "")
        with httpx.Client() as client:
            whatsapp.mark_read(client, channel.api_url, phone_id, channel.secret("access_token"),
                               receipt["message_id"], timeout=receipts.RECEIPT_TIMEOUT_SECONDS)
    except (PlatformError, KeyError) as exc:
        error = exc.message if isinstance(exc, PlatformError) else "read receipt without a message id"
        retry = isinstance(exc, PlatformError) and exc.retryable and message.attempts < receipts.RECEIPT_ATTEMPTS
        message.state = "queued" if retry else "failed"
        message.state_at = now
        message.last_error = error
        if retry:
            message.next_attempt_at = now + timedelta(seconds=RETRY_SECONDS[0])
        db.session.commit()
        log.info("read receipt %s not sent (%s)%s", message_id, error, "; one retry" if retry else "")
        if retry:
            jobs.enqueue_in(RETRY_SECONDS[0], "notify.send", message_id=message_id)
        return message.state
    message.state = "sent"
    message.state_at = now  # no sent_at: a receipt is not a message and does not count for pacing
    message.last_error = None
    db.session.commit()
    return "sent"


def send_due_messages(now=None, limit: int = 500) -> int:
    """The sweep: every queued row whose time has come (lost timers, restarts, tests). Returns how many were sent."""
    now = now or utcnow()
    ids = db.session.scalars(
        select(OutboundMessage.id).where(OutboundMessage.state == "queued").order_by(OutboundMessage.id).limit(limit)
    ).all()
    sent = 0
    for message_id in ids:
        message = db.session.get(OutboundMessage, message_id)
        due = as_aware_utc(message.next_attempt_at) if message is not None else None
        if message is None or (due is not None and due > now):
            continue
        if deliver(message_id, now=now) == "sent":
            sent += 1
    return sent


class HeldForStaff(Exception):
    """Outside WhatsApp's window with no approved template for this purpose."""


def _finish(message: OutboundMessage, state: str, now, error: str | None) -> str:
    message.state = state
    message.state_at = now
    message.last_error = error
    if state in ("held", "failed") and message.conversation_id is not None:
        conversation = db.session.get(Conversation, message.conversation_id)
        if conversation is not None and not conversation.needs_person:
            conversation.needs_person = True
            conversation.needs_person_reason = (
                "bericht wacht: buiten het 24-uursvenster van WhatsApp" if state == "held"
                else "bericht kon niet worden verstuurd")
            conversation.needs_person_since = now
    db.session.commit()
    log.warning("outbound %s %s: %s", message.id, state, error)
    return state


def _pacing_wait(message: OutboundMessage, now) -> float:
    pace = pacing_seconds(message.channel_kind)
    if pace <= 0:
        return 0.0
    last = db.session.scalar(
        select(func.max(OutboundMessage.sent_at)).where(OutboundMessage.reporter_id == message.reporter_id,
                                                         OutboundMessage.id != message.id)
    )
    last = as_aware_utc(last)
    if last is None:
        return 0.0
    return max(0.0, (last + timedelta(seconds=pace) - now).total_seconds())


def inside_window(reporter: Reporter, now) -> bool:
    last = as_aware_utc(reporter.last_inbound_at)
    return last is not None and now - last < WINDOW - WINDOW_MARGIN


def _channel_settings(message: OutboundMessage) -> dict:
    if message.channel_id is None:
        return {}
    row = db.session.get(Channel, message.channel_id)
    return dict(row.settings or {}) if row is not None else {}


def template_for(message: OutboundMessage, config_key: str) -> dict | None:
    """The approved template for this message's purpose: channel settings["templates"], else config."""
    templates = _channel_settings(message).get("templates")
    if not templates:
        templates = current_app.config.get(config_key) or {}
        if isinstance(templates, str):
            templates = json.loads(templates) if templates.strip() else {}
    return templates.get(message.template_key or "") or templates.get("*")


def _parameters(message: OutboundMessage, names) -> list[str]:
    values = (message.payload or {}).get("values", {})
    return [str(values.get(name, "")) or "-" for name in names]


def send_on_platform(message: OutboundMessage, reporter: Reporter, now) -> str:
    """Send one row on its platform; returns the platform's message id (raises PlatformError, HeldForStaff)."""
    kind = message.channel_kind
    payload = message.payload or {}
    buttons = [(b["id"], b["title"]) for b in payload.get("buttons", [])]
    if kind == "webchat":
        return f"webchat-{message.id}"  # the chat page collects it (GET /chat/api/messages)
    channel = registry.channel_by_id(kind, message.channel_id)
    if channel is None:
        raise PlatformError(f"{kind} channel is not configured", retryable=False)
    to = reporter.platform_id
    with httpx.Client() as client:
        if kind == "whatsapp":
            phone_id = channel.address or current_app.config.get("WHATSAPP_PHONE_NUMBER_ID") or ""
            args = (client, channel.api_url, phone_id, channel.secret("access_token"), to)
            if not inside_window(reporter, now):
                template = template_for(message, "WHATSAPP_TEMPLATES")
                if not template:
                    raise HeldForStaff("outside the 24-hour window and no template for "
                                       f"{message.template_key or 'this message'}")
                return whatsapp.send_template(*args, template["name"], template.get("language", "nl"),
                                              _parameters(message, template.get("parameters", ())))
            if payload.get("location_request"):
                return whatsapp.send_location_request(*args, message.body[:1024])
            if buttons:
                return whatsapp.send_buttons(*args, message.body[:1024], buttons[:3])
            return whatsapp.send_text(*args, message.body)
        if kind == "telegram":
            args = (client, channel.api_url, channel.secret("bot_token"), to)
            if payload.get("location_request"):
                return telegram.send_location_request(*args, message.body, payload.get("location_label")
                                                      or "📍 Deel locatie")
            if buttons:
                return telegram.send_buttons(*args, message.body, buttons)
            return telegram.send_message(*args, message.body, telegram.REMOVE_KEYBOARD)
        if kind == "twilio":
            sender = channel.address or current_app.config.get("TWILIO_FROM") or ""
            if to.startswith("whatsapp:") and not sender.startswith("whatsapp:"):
                sender = f"whatsapp:{sender}"
            callback = None
            if current_app.config.get("PUBLIC_URL"):
                callback = current_app.config["PUBLIC_URL"].rstrip("/") + "/webhooks/twilio"
            send = lambda **kw: twilio.send_message(  # noqa: E731
                client, channel.api_url, channel.secret("account_sid"), channel.secret("auth_token"), sender, to,
                status_callback=callback, **kw)
            if to.startswith("whatsapp:") and not inside_window(reporter, now):
                template = template_for(message, "TWILIO_TEMPLATES")
                if not template:
                    raise HeldForStaff("outside the 24-hour window and no template for "
                                       f"{message.template_key or 'this message'}")
                variables = {str(i + 1): p for i, p in
                             enumerate(_parameters(message, template.get("parameters", ())))}
                return send(content_sid=template["content_sid"], content_variables=json.dumps(variables))
            return send(body=message.body)
    raise PlatformError(f"cannot send on {kind}", retryable=False)
