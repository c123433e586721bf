"""Sends whose outcome is unknown: settled per platform, never blindly repeated.

A send is "unknown" when the request may have reached the platform but no answer came (a read timeout, a
dropped connection), or when the worker died during the call (the row stayed "sending" past its lease).
Sending again could give the resident the same message twice; not sending could give them none. None of
the three platforms takes an idempotency key on its send API, so per platform:

- WhatsApp: every send carries `biz_opaque_callback_data = "outbox:<id>"`, which WhatsApp echoes in each
  status webhook of that message. A "sent"/"delivered"/"read" receipt settles the row as sent; a "failed"
  receipt queues it once more (it did not land). No receipt within UNCONFIRMED_WAIT_SECONDS: parked for a
  person (WhatsApp always sends a "sent" receipt for what it accepted, so silence means it most likely did
  not land, but only a person may decide to send it again).
- Twilio: the StatusCallback URL names the row (`?outbox=<id>`), so receipts settle it as above; when none
  came within the wait, the Messages list (From, To, DateSent) is asked what Twilio accepted since the
  attempt. Found: sent, with its sid. Not found: Twilio creates the message resource before it answers the
  POST, so it did not land and is queued once more. The list unreachable: asked again later, parked when
  that keeps failing.
- Telegram: no receipts for bot messages and no way to read what the bot sent: parked for a person at once.
- Website chat: nothing leaves the service (the page collects its messages), so it is queued again.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from email.utils import parsedate_to_datetime

from sqlalchemy import update

from meldingen import jobs
from meldingen.channels import registry, twilio
from meldingen.channels.http import platform_client
from meldingen.channels.base import PlatformError
from meldingen.channels.models import OutboundMessage
from meldingen.extensions import db
from meldingen.notify import receipts
from meldingen.recovery.policy import retry_delay, should_park, unconfirmed_wait
from meldingen.reports.models import Reporter
from meldingen.timeutil import as_aware_utc, utcnow

log = logging.getLogger(__name__)

# Platforms whose receipts or message list can settle an unknown send without a person.
WAIT_FOR_RECEIPT = frozenset({"whatsapp", "twilio"})


def mark_unknown(message: OutboundMessage, now, reason: str) -> str:
    """The send may or may not have landed: record that, and when to settle it. A receipt that came in while
    the call was still running has settled it already; then that stands. A read receipt is never unknown: it
    is dropped as failed, quietly."""
    if receipts.is_read_receipt(message):
        return receipts.drop_unknown_receipt(message, now, reason)
    wait = unconfirmed_wait() if message.channel_kind in WAIT_FOR_RECEIPT else timedelta(0)
    changed = db.session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == message.id, OutboundMessage.state.in_(("sending", "unknown")))
        .values(state="unknown", state_at=now, last_error=reason[:2000], next_attempt_at=now + wait)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if changed != 1:
        db.session.refresh(message)
        return message.state
    log.warning("outbound %s: outcome unknown (%s); settled after %ss", message.id, reason, wait.total_seconds())
    try:
        jobs.enqueue_in(wait.total_seconds(), "notify.settle", message_id=message.id)
    except Exception:  # the sweep settles it
        log.exception("settling of outbound %s not scheduled", message.id)
    return "unknown"


def settle_unknown(message_id: int, now=None) -> str | None:
    """Decide what became of an unknown send whose wait is over; returns the row's new state."""
    from meldingen.notify.sender import _finish

    now = now or utcnow()
    message = db.session.get(OutboundMessage, message_id)
    if message is None or message.state != "unknown":
        return None  # a receipt settled it meanwhile
    if receipts.is_read_receipt(message):  # only from before receipts were kept out of "unknown"
        return receipts.drop_unknown_receipt(message, now, message.last_error or "outcome unknown")
    due = as_aware_utc(message.next_attempt_at)
    if due is not None and due > now + timedelta(milliseconds=500):
        return None
    kind = message.channel_kind
    if kind == "webchat":
        return _send_again(message, now, "nothing left the service; queued again")
    if kind == "twilio":
        return _settle_with_twilio_list(message, now)
    message.payload = {**(message.payload or {}), "outcome_unknown": True}  # for the stuck list: a person judges
    if kind == "whatsapp":
        return _finish(message, "parked", now, error=f"{message.last_error}; no receipt from WhatsApp since")
    return _finish(message, "parked", now, error=f"{message.last_error}; {kind} cannot tell whether it arrived")


def _settle_with_twilio_list(message: OutboundMessage, now) -> str:
    from meldingen.notify.sender import _finish, twilio_sender

    channel = registry.channel_by_id("twilio", message.channel_id)
    reporter = db.session.get(Reporter, message.reporter_id)
    if channel is None or reporter is None:
        return _finish(message, "parked", now, error="Twilio channel or resident gone; cannot check the send")
    attempted = as_aware_utc(message.last_attempt_at) or as_aware_utc(message.state_at) or now
    try:
        listed = twilio.list_messages(platform_client(), channel.api_url, channel.secret("account_sid"),
                                      channel.secret("auth_token"), twilio_sender(channel, reporter.platform_id),
                                      reporter.platform_id, attempted)
    except PlatformError as exc:
        checks = int((message.payload or {}).get("unknown_checks", 0)) + 1
        message.payload = {**(message.payload or {}), "unknown_checks": checks}
        if should_park(checks):
            return _finish(message, "parked", now, error=f"{message.last_error}; Twilio's list unavailable: "
                                                          f"{exc.message}")
        message.next_attempt_at = now + timedelta(seconds=retry_delay(checks))
        db.session.commit()
        return "unknown"
    landed = _matching_twilio_message(message, listed, attempted)
    if landed is None:
        return _send_again(message, now, "Twilio has no such message: it did not land")
    db.session.execute(
        update(OutboundMessage).where(OutboundMessage.id == message.id, OutboundMessage.state == "unknown")
        .values(state="sent", state_at=now, sent_at=attempted, platform_message_id=str(landed.get("sid"))[:200],
                next_attempt_at=None, last_error=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    log.info("outbound %s: Twilio has it as %s; not sent again", message.id, landed.get("sid"))
    return "sent"


def _matching_twilio_message(message: OutboundMessage, listed: list[dict], attempted) -> dict | None:
    """The message Twilio accepted from this attempt: created since it, with the same body."""
    for item in listed:
        try:
            created = parsedate_to_datetime(str(item.get("date_created") or ""))
        except (TypeError, ValueError):
            continue
        if created is None or as_aware_utc(created) < attempted - timedelta(seconds=5):
            continue
        if (item.get("body") or "").strip() == (message.body or "").strip():
            return item
    return None


def _send_again(message: OutboundMessage, now, why: str) -> str:
    message.state = "queued"
    message.next_attempt_at = now
    message.last_error = why
    db.session.commit()
    jobs.enqueue("notify.send", message_id=message.id)
    return "queued"
