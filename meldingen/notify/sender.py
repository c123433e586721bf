"""Sending outbox rows on their platform: one claim per attempt, retries with backoff, pacing, WhatsApp's window.

A row is claimed by moving it from "queued" to "sending" in one UPDATE that only one worker can win, and
that claim is committed before the platform is called: a job delivered twice, or a sweep running beside a
timer, can never send the same row twice. Platform errors that may pass (429, 5xx, connection refused) are
tried again after the backoff of `recovery.policy` and parked for staff when they keep failing; others mark
the row "failed". A send whose outcome is unknown (a timeout after the request left, or a worker that died
during the call and left the row "sending" past its lease) is never simply repeated: it becomes "unknown"
and `notify/uncertain.py` settles it per platform (a receipt, a check of what landed, or a person).
How a row goes out is its platform's adapter's (`channels/adapter.py`): buttons, location requests, and the
service window (WhatsApp's 24 hours: outside it an approved template for the message's purpose, and without
one the adapter says so and the row is "held" for staff, its conversation flagged for a person).
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update

from meldingen import jobs
from meldingen.channels import registry
from meldingen.channels.adapter import HeldForStaff, OutgoingMessage
from meldingen.channels.adapters import adapter_for, find_adapter
from meldingen.channels.base import PlatformError
from meldingen.channels.http import platform_client
from meldingen.extensions import db
from meldingen.notify import receipts
from meldingen.notify.models import OutboundMessage
from meldingen.recovery.policy import (
    retry_delay,
    send_lease_seconds,
    short_reason,
    should_park,
)
from meldingen.residents.models import Conversation, Reporter
from meldingen.timeutil import as_aware_utc, utcnow

log = logging.getLogger(__name__)

__all__ = ["HeldForStaff", "concurrency_limit", "deliver", "deliver_read_receipt", "pacing_seconds", "record_sent",
           "send_due_messages", "send_on_platform"]

# How long a send waits before it looks again for a free slot of its platform.
SLOT_WAIT_SECONDS = 0.5


def concurrency_limit(kind: str) -> int | None:
    """Sends in flight at once on one channel of this platform (NOTIFY_CONCURRENCY, else the platform's
    default); None: no limit."""
    adapter = find_adapter(kind)
    if adapter is not None and not adapter.capabilities.leaves_service:
        return None  # nothing leaves the service (the website chat's page collects its messages)
    configured = current_app.config.get("NOTIFY_CONCURRENCY")
    if isinstance(configured, str):
        configured = json.loads(configured) if configured.strip() else {}
    configured = configured or {}
    if kind in configured or "*" in configured:
        value = configured.get(kind, configured.get("*"))
    else:
        value = adapter.capabilities.concurrency if adapter is not None else None
    return int(value) if value else None


def pacing_seconds(kind: str) -> float:
    """Least time between two messages to the same resident: NOTIFY_PACING_SECONDS, else the platform's own
    (WhatsApp's pair rate is about one per 6 s)."""
    configured = current_app.config.get("NOTIFY_PACING_SECONDS")
    if isinstance(configured, str) and configured.strip():
        configured = json.loads(configured)
    if isinstance(configured, dict) and kind in configured:
        return float(configured[kind])
    adapter = find_adapter(kind)
    return adapter.capabilities.pacing_seconds if adapter is not None else 0.0


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
    """Mark the resident's message read (WhatsApp's blue ticks): claimed like any row, one short call, one retry
    at most.

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
        adapter_for(message.channel_kind).mark_read(receipt, channel, timeout=receipts.RECEIPT_TIMEOUT_SECONDS,
                                                     client=platform_client())
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
                f"bericht wacht: buiten het 24-uursvenster van {_platform_name(message)}"
                if state == "held"
                else "bericht is misschien niet aangekomen" if state == "parked"
                else "bericht kon niet worden verstuurd")
            conversation.needs_person_since = now
    db.session.commit()
    log.warning("outbound %s %s: %s", message.id, state, error)
    return state


def _platform_name(message: OutboundMessage) -> str:
    """The platform as staff know it ("WhatsApp", "Messenger", "WhatsApp (Twilio)")."""
    adapter = find_adapter(message.channel_kind)
    if adapter is None:
        return message.channel_kind
    reporter = db.session.get(Reporter, message.reporter_id)
    return adapter.display_name(reporter.platform_id if reporter is not None else None)


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


def outgoing(message: OutboundMessage, reporter: Reporter) -> OutgoingMessage:
    """The outbox row as its platform's adapter sends it."""
    payload = message.payload or {}
    return OutgoingMessage(
        outbox_id=message.id,
        to=reporter.platform_id,
        text=message.body,
        buttons=tuple((b["id"], b["title"]) for b in payload.get("buttons", [])),
        location_request=bool(payload.get("location_request")),
        location_label=payload.get("location_label"),
        template_key=message.template_key,
        values=payload.get("values", {}),
        last_inbound_at=reporter.last_inbound_at,
    )


def send_on_platform(message: OutboundMessage, reporter: Reporter, now) -> str:
    """Send one row on its platform; returns the platform's message id (raises PlatformError, HeldForStaff)."""
    kind = message.channel_kind
    adapter = adapter_for(kind)
    channel = registry.channel_by_id(kind, message.channel_id)
    if channel is None:
        raise PlatformError(f"{kind} channel is not configured", retryable=False)
    return adapter.send(outgoing(message, reporter), channel, now=now, client=platform_client())
