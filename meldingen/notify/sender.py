"""Sending outbox rows on their platform: one claim per attempt, retries with backoff, pacing, WhatsApp's window.

A row is claimed by moving it from "queued" to "sending" in one UPDATE that only one worker can win, and
that claim is committed before the platform is called: a job delivered twice, or a sweep running beside a
timer, can never send the same row twice. Platform errors that may pass (429, 5xx, connection refused) are
tried again after the backoff of `recovery.policy` and parked for staff when they keep failing; others mark
the row "failed". A send whose outcome is unknown (a timeout after the request left, or a worker that died
during the call and left the row "sending" past its lease) is never simply repeated: it becomes "unknown"
and `notify/uncertain.py` settles it per platform (a receipt, a check of what landed, or a person).
WhatsApp free-form messages are allowed for 24 hours after the resident's last message; after that the approved template configured for the message's purpose is
sent, and without one the row is "held" for staff (the conversation is flagged for a person).
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update

from meldingen import jobs
from meldingen.channels import registry, telegram, twilio, whatsapp
from meldingen.channels.http import platform_client
from meldingen.channels.base import PlatformError
from meldingen.channels.models import Channel, OutboundMessage
from meldingen.extensions import db
from meldingen.intake.models import Conversation
from meldingen.recovery.policy import retry_delay, send_lease_seconds, short_reason, should_park
from meldingen.notify import receipts
from meldingen.reports.models import Reporter
from meldingen.timeutil import as_aware_utc, utcnow

log = logging.getLogger(__name__)

# Least time between two messages to the same person (WhatsApp's pair rate is about one per 6 s).
DEFAULT_PACING_SECONDS = {"whatsapp": 6.0, "telegram": 1.0, "twilio": 1.0, "webchat": 0.0}
WINDOW = timedelta(hours=24)
WINDOW_MARGIN = timedelta(minutes=1)
# The platforms' "outside the customer-service window" errors: WhatsApp Cloud API and Twilio.
WINDOW_ERRORS = frozenset({"131047", "63016"})


# How long a send waits before it looks again for a free slot of its platform.
SLOT_WAIT_SECONDS = 0.5


def concurrency_limit(kind: str) -> int | None:
    """Sends in flight at once on one channel of this platform (NOTIFY_CONCURRENCY); None: no limit."""
    if kind == "webchat":
        return None  # nothing leaves the service: the chat page collects its messages
    configured = current_app.config.get("NOTIFY_CONCURRENCY")
    if isinstance(configured, str):
        configured = json.loads(configured) if configured.strip() else {}
    value = (configured or {}).get(kind, (configured or {}).get("*"))
    return int(value) if value else None


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
    kind = message.channel_kind
    with jobs.concurrency_slot(f"send:{kind}:{message.channel_id or 0}", concurrency_limit(kind),
                               send_lease_seconds()) as free:
        if not free:
            # Every slot of this platform is in a send (a slow or hanging platform): come back shortly, and
            # leave this worker to other residents' messages meanwhile.
            jobs.enqueue_in(SLOT_WAIT_SECONDS, "notify.send", message_id=message_id)
            return "queued"
        return _deliver_with_slot(message, now)


def _deliver_with_slot(message: OutboundMessage, now) -> str | None:
    message_id = message.id
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
        .values(state="sending", attempts=OutboundMessage.attempts + 1, state_at=now, last_attempt_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if claimed != 1:
        return None
    message = db.session.get(OutboundMessage, message_id)
    db.session.refresh(message)
    reporter = db.session.get(Reporter, message.reporter_id)
    # The claim is committed: what follows only reads until the platform has answered (no write lock held).
    try:
        platform_id = send_on_platform(message, reporter, now)
    except HeldForStaff as held:
        return _finish(message, "held", now, error=str(held))
    except PlatformError as exc:
        if exc.code in WINDOW_ERRORS:
            return _finish(message, "held", now, error=exc.message)
        if exc.uncertain:
            from meldingen.notify.uncertain import mark_unknown

            return mark_unknown(message, now, exc.message)
        if exc.retryable and not should_park(message.attempts):
            delay = retry_delay(message.attempts)
            message.state = "queued"
            message.next_attempt_at = now + timedelta(seconds=delay)
            message.last_error = exc.message
            db.session.commit()
            log.warning("outbound %s: %s; retry in %ss", message_id, exc.message, delay)
            jobs.enqueue_in(delay, "notify.send", message_id=message_id)
            return "queued"
        return _finish(message, "parked" if exc.retryable else "failed", now, error=exc.message)
    record_sent(message_id, platform_id, now)
    return "sent"


def record_sent(message_id: int, platform_id: str, now, tries: int = 5) -> None:
    """The platform took it: write that down. Tried a few times over some seconds, because a database that
    is briefly away would otherwise leave the row "sending" and make a known delivery look unknown."""
    import time

    for attempt in range(tries):
        try:
            # A receipt may have come in while the call was running; it only ever moves the row forward.
            db.session.execute(
                update(OutboundMessage)
                .where(OutboundMessage.id == message_id, OutboundMessage.state.in_(("sending", "unknown")))
                .values(state="sent", state_at=now)
                .execution_options(synchronize_session=False)
            )
            db.session.execute(
                update(OutboundMessage).where(OutboundMessage.id == message_id)
                .values(sent_at=func.coalesce(OutboundMessage.sent_at, now), platform_message_id=platform_id,
                        last_error=None, parked_at=None)
                .execution_options(synchronize_session=False)
            )
            db.session.commit()
            return
        except Exception:
            db.session.rollback()
            if attempt == tries - 1:
                raise  # left "sending": the lease sweep and the platform's receipts settle it
            time.sleep(min(4.0, 0.5 * 2 ** attempt))
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
        whatsapp.mark_read(platform_client(), channel.api_url, phone_id, channel.secret("access_token"),
                           receipt["message_id"], timeout=receipts.RECEIPT_TIMEOUT_SECONDS)
    except (PlatformError, KeyError) as exc:
        error = exc.message if isinstance(exc, PlatformError) else "read receipt without a message id"
        retry = isinstance(exc, PlatformError) and exc.retryable and message.attempts < receipts.RECEIPT_ATTEMPTS
        message.state = "queued" if retry else "failed"
        message.state_at = now
        message.last_error = error
        if retry:
            message.next_attempt_at = now + timedelta(seconds=retry_delay(1))
        db.session.commit()
        log.info("read receipt %s not sent (%s)%s", message_id, error, "; one retry" if retry else "")
        if retry:
            jobs.enqueue_in(retry_delay(1), "notify.send", message_id=message_id)
        return message.state
    message.state = "sent"
    message.state_at = now  # no sent_at: a receipt is not a message and does not count for pacing
    message.last_error = None
    db.session.commit()
    return "sent"


def send_due_messages(now=None, limit: int = 500) -> int:
    """The sweep: sends abandoned by a dead worker, unknown outcomes due for settling, and every queued row
    whose time has come (lost timers, restarts, tests). Returns how many were sent."""
    from meldingen.notify.uncertain import mark_unknown, settle_unknown

    now = now or utcnow()
    abandoned_before = now - timedelta(seconds=send_lease_seconds())
    for message in db.session.scalars(
        select(OutboundMessage).where(OutboundMessage.state == "sending", OutboundMessage.state_at <= abandoned_before)
        .order_by(OutboundMessage.id).limit(limit)
    ).all():
        claimed = db.session.execute(
            update(OutboundMessage).where(OutboundMessage.id == message.id, OutboundMessage.state == "sending",
                                          OutboundMessage.state_at == message.state_at)
            .values(state="unknown").execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
        if claimed == 1:
            db.session.refresh(message)
            mark_unknown(message, now, "the worker stopped during the send (lease expired)")
    for message_id in db.session.scalars(
        select(OutboundMessage.id).where(OutboundMessage.state == "unknown", OutboundMessage.next_attempt_at <= now)
        .order_by(OutboundMessage.id).limit(limit)
    ).all():
        _guarded(settle_unknown, message_id, now)
    ids = db.session.scalars(
        select(OutboundMessage.id).where(OutboundMessage.state == "queued").order_by(OutboundMessage.id).limit(limit)
    ).all()
    sent = 0
    for message_id in ids:
        message = db.session.get(OutboundMessage, message_id)
        due = as_aware_utc(message.next_attempt_at) if message is not None else None
        if message is None or (due is not None and due > now):
            continue
        if _guarded(deliver, message_id, now) == "sent":
            sent += 1
    return sent


def _guarded(step, message_id: int, now):
    """One row's failure (a database hiccup) must not stop the sweep for the others."""
    try:
        return step(message_id, now=now)
    except Exception as exc:
        db.session.rollback()
        log.error("outbound %s: %s", message_id, short_reason(exc))
        return None


class HeldForStaff(Exception):
    """Outside WhatsApp's window with no approved template for this purpose."""


def _finish(message: OutboundMessage, state: str, now, error: str | None) -> str:
    message.state = state
    message.state_at = now
    message.last_error = error
    if state == "parked":
        message.parked_at = now
        message.next_attempt_at = None
    if state in ("held", "failed", "parked") and message.conversation_id is not None:
        conversation = db.session.get(Conversation, message.conversation_id)
        if conversation is not None and not conversation.needs_person:
            conversation.needs_person = True
            conversation.needs_person_reason = (
                "bericht wacht: buiten het 24-uursvenster van WhatsApp" if state == "held"
                else "bericht is misschien niet aangekomen" if state == "parked"
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
    reference = f"outbox:{message.id}"  # echoed in the platform's receipts (see notify/uncertain.py)
    client = platform_client()
    if kind == "whatsapp":
        phone_id = channel.address or current_app.config.get("WHATSAPP_PHONE_NUMBER_ID") or ""
        args = (client, channel.api_url, phone_id, channel.secret("access_token"), to)
        if not inside_window(reporter, now):
            template = template_for(message, "WHATSAPP_TEMPLATES")
            if not template:
                raise HeldForStaff("outside the 24-hour window and no template for "
                                   f"{message.template_key or 'this message'}")
            return whatsapp.send_template(*args, template["name"], template.get("language", "nl"),
                                          _parameters(message, template.get("parameters", ())),
                                          callback_data=reference)
        if payload.get("location_request"):
            return whatsapp.send_location_request(*args, message.body[:1024], callback_data=reference)
        if buttons:
            return whatsapp.send_buttons(*args, message.body[:1024], buttons[:3], callback_data=reference)
        return whatsapp.send_text(*args, message.body, callback_data=reference)
    if kind == "telegram":
        args = (client, channel.api_url, channel.secret("bot_token"), to)
        if payload.get("location_request"):
            return telegram.send_location_request(*args, message.body, payload.get("location_label")
                                                  or "📍 Deel locatie")
        if buttons:
            return telegram.send_buttons(*args, message.body, buttons)
        return telegram.send_message(*args, message.body, telegram.REMOVE_KEYBOARD)
    if kind == "twilio":
        sender = twilio_sender(channel, to)
        callback = None
        if current_app.config.get("PUBLIC_URL"):
            # Our outbox id in the URL: Twilio's status callbacks then name the row even if the send's own
            # answer never arrived (a timeout).
            callback = current_app.config["PUBLIC_URL"].rstrip("/") + f"/webhooks/twilio?outbox={message.id}"
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


def twilio_sender(channel, to: str) -> str:
    """Our Twilio number for a message to `to` (a WhatsApp recipient needs our whatsapp: address)."""
    sender = channel.address or current_app.config.get("TWILIO_FROM") or ""
    if to.startswith("whatsapp:") and not sender.startswith("whatsapp:"):
        sender = f"whatsapp:{sender}"
    return sender
