"""Sends whose outcome is unknown: settled per platform, never blindly repeated.

A send is "unknown" when the request may have reached the platform but no answer came (a read timeout, a
dropped connection), or when the worker died during the call (the row stayed "sending" past its lease).
Sending again could give the resident the same message twice; not sending could give them none. None of
the platforms takes an idempotency key on its send API. A platform with delivery receipts gets time for them
to arrive (UNCONFIRMED_WAIT_SECONDS); then its adapter (`settle_unknown`) says what the platform can tell:

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

These are steps of the sending task (`notify/tasks.py`), which commits after each: they flush and return the row's
state, and hand follow-up work to the queue by `jobs.after_commit`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import update

from meldingen import jobs
from meldingen.channels import registry
from meldingen.channels.adapter import UnknownSend
from meldingen.channels.adapters import adapter_for
from meldingen.channels.http import platform_client
from meldingen.extensions import db
from meldingen.notify import receipts
from meldingen.notify.models import OutboundMessage
from meldingen.notify.sender import finish
from meldingen.recovery.policy import retry_delay, should_park, unconfirmed_wait
from meldingen.residents.models import Reporter
from meldingen.timeutil import as_aware_utc

log = logging.getLogger(__name__)


def mark_unknown(message: OutboundMessage, now, reason: str) -> str:
    """The send may or may not have landed: record that, and when to settle it. A receipt that came in while
    the call was still running has settled it already; then that stands. A read receipt is never unknown: it
    is dropped as failed, quietly."""
    if receipts.is_read_receipt(message):
        return receipts.drop_unknown_receipt(message, now, reason)
    # A platform with delivery receipts may still settle it by one: give them time to come in.
    receipts_come = adapter_for(message.channel_kind).capabilities.delivery_receipts
    wait = unconfirmed_wait() if receipts_come else timedelta(0)
    changed = db.session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == message.id, OutboundMessage.state.in_(("sending", "unknown")))
        .values(state="unknown", state_at=now, last_error=reason[:2000], next_attempt_at=now + wait)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(message)  # as the UPDATE left it (or a receipt before it)
    if changed != 1:
        return message.state
    log.warning("outbound %s: outcome unknown (%s); settled after %ss", message.id, reason, wait.total_seconds())
    jobs.after_commit("notify.settle", delay=wait.total_seconds(), message_id=message.id)  # else the sweep settles it
    return "unknown"


def settle(message_id: int, now: datetime) -> str | None:
    """Decide what became of an unknown send whose wait is over (asking its platform's adapter); returns the row's
    new state, None when it was not (or no longer) unknown or not yet due."""
    message = db.session.get(OutboundMessage, message_id)
    if message is None or message.state != "unknown":
        return None  # a receipt settled it meanwhile
    if receipts.is_read_receipt(message):  # only from before receipts were kept out of "unknown"
        return receipts.drop_unknown_receipt(message, now, message.last_error or "outcome unknown")
    due = as_aware_utc(message.next_attempt_at)
    if due is not None and due > now + timedelta(milliseconds=500):
        return None
    kind = message.channel_kind
    reporter = db.session.get(Reporter, message.reporter_id)
    attempted = as_aware_utc(message.last_attempt_at) or as_aware_utc(message.state_at) or now
    unknown = UnknownSend(outbox_id=message.id, to=reporter.platform_id if reporter is not None else None,
                          text=message.body or "", attempted_at=attempted, last_error=message.last_error)
    settlement = adapter_for(kind).settle_unknown(unknown, registry.channel_by_id(kind, message.channel_id),
                                                  client=platform_client())
    if settlement.outcome == "resend":
        return _send_again(message, now, settlement.reason)
    if settlement.outcome == "sent":
        return _settled_as_sent(message, now, attempted, settlement.platform_message_id)
    if settlement.outcome == "check_failed":
        checks = int((message.payload or {}).get("unknown_checks", 0)) + 1
        message.payload = {**(message.payload or {}), "unknown_checks": checks}
        if should_park(checks):
            return finish(message, "parked", now, error=settlement.reason)
        message.next_attempt_at = now + timedelta(seconds=retry_delay(checks))
        db.session.flush()
        return "unknown"
    if settlement.ask_person:
        message.payload = {**(message.payload or {}), "outcome_unknown": True}  # for the stuck list: a person judges
    return finish(message, "parked", now, error=settlement.reason)


def _settled_as_sent(message: OutboundMessage, now, attempted, platform_message_id: str | None) -> str:
    """The platform has the message: sent at the attempt, never sent again."""
    values = {"state": "sent", "state_at": now, "sent_at": attempted, "next_attempt_at": None, "last_error": None}
    if platform_message_id:
        values["platform_message_id"] = platform_message_id[:200]
    db.session.execute(
        update(OutboundMessage).where(OutboundMessage.id == message.id, OutboundMessage.state == "unknown")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(message)  # reloaded as the UPDATE left it
    log.info("outbound %s: the platform has it as %s; not sent again", message.id, platform_message_id)
    return "sent"


def _send_again(message: OutboundMessage, now, why: str) -> str:
    message.state = "queued"
    message.next_attempt_at = now
    message.last_error = why
    db.session.flush()
    jobs.after_commit("notify.send", message_id=message.id)
    return "queued"
