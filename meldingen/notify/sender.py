"""Sending outbox rows on their platform, in steps: claim a row, send it, record what came of it.

A row is claimed by moving it from "queued" to "sending" in one UPDATE that only one worker can win; the task that
sends (`notify/tasks.py`) commits that claim before the platform is called, so a job delivered twice, or a sweep
running beside a timer, can never send the same row twice. Platform errors that may pass (429, 5xx, connection
refused) are tried again after the backoff of `recovery.policy` and parked for staff when they keep failing; others
mark the row "failed". A send whose outcome is unknown (a timeout after the request left, or a worker that died
during the call and left the row "sending" past its lease) is never simply repeated: it becomes "unknown" and
`notify/uncertain.py` settles it per platform (a receipt, a check of what landed, or a person).
How a row goes out is its platform's adapter's (`channels/adapter.py`): buttons, location requests, and the
service window (WhatsApp's 24 hours: outside it an approved template for the message's purpose, and without
one the adapter says so and the row is "held" for staff, its conversation flagged for a person).

Every step here flushes and returns what it decided; none commits. The order of the steps and the commits between
them are the task's (`notify/tasks.py`); work that follows a step is handed to the queue by `jobs.after_commit`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

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
from meldingen.recovery.policy import retry_delay, should_park
from meldingen.residents.models import Conversation, Reporter
from meldingen.timeutil import as_aware_utc

log = logging.getLogger(__name__)

__all__ = ["HeldForStaff", "Outcome", "abandoned_sends", "claim", "claim_abandoned", "concurrency_limit", "defer",
           "due_message", "finish", "is_due", "mark_read", "pacing_seconds", "pacing_wait", "queued_ids",
           "record_outcome", "record_read_receipt", "record_sent", "send_claimed", "send_on_platform", "slot_key",
           "unknown_due"]


@dataclass(frozen=True)
class Outcome:
    """What one call to the platform came to.

    `result`: "sent" (with the platform's message id), "unknown" (it may have landed), "retry" (it did not land
    and may be tried again), "held" (outside the service window without a template), "parked" (tried too often),
    or "failed"."""

    result: str
    platform_message_id: str | None = None
    error: str | None = None


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


def slot_key(message: OutboundMessage) -> str:
    """The concurrency slot a send of this row takes: one set per platform channel."""
    return f"send:{message.channel_kind}:{message.channel_id or 0}"


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


def due_message(message_id: int, now: datetime) -> OutboundMessage | None:
    """The row, when it is queued and its time has come; None when it is not ours to send now (its timer or the
    sweep comes back)."""
    message = db.session.get(OutboundMessage, message_id)
    if message is None or message.state != "queued":
        return None
    due = as_aware_utc(message.next_attempt_at)
    if due is not None and due > now + timedelta(milliseconds=500):
        return None
    return message


def pacing_wait(message: OutboundMessage, now: datetime) -> float:
    """Seconds this row must still wait for the resident's previous message to be far enough behind."""
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


def defer(message: OutboundMessage, wait: float, now: datetime) -> str:
    """Not yet (pacing): the row waits `wait` seconds, and is sent again once the caller commits."""
    message.next_attempt_at = now + timedelta(seconds=wait)
    db.session.flush()
    jobs.after_commit("notify.send", delay=wait, message_id=message.id)
    return "queued"


def claim(message_id: int, now: datetime, *, read_receipt: bool = False) -> OutboundMessage | None:
    """Move the row from "queued" to "sending" (one more attempt); the row when this claim won it, else None.
    The caller commits the claim before the platform is called. A read receipt's attempt is not a message's
    (no last_attempt_at: nothing to settle later)."""
    values: dict = {"state": "sending", "attempts": OutboundMessage.attempts + 1, "state_at": now}
    if not read_receipt:
        values["last_attempt_at"] = now
    claimed = db.session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == message_id, OutboundMessage.state == "queued")
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        return None
    message = db.session.get(OutboundMessage, message_id)
    db.session.refresh(message)
    return message


def send_claimed(message: OutboundMessage, now: datetime) -> Outcome:
    """Call the platform for a claimed row (only reads in the database) and say what came of it."""
    reporter = db.session.get(Reporter, message.reporter_id)
    try:
        platform_id = send_on_platform(message, reporter, now)
    except HeldForStaff as held:
        return Outcome("held", error=str(held))
    except PlatformError as exc:
        if exc.uncertain:
            return Outcome("unknown", error=exc.message)
        if exc.retryable and not should_park(message.attempts):
            return Outcome("retry", error=exc.message)
        return Outcome("parked" if exc.retryable else "failed", error=exc.message)
    return Outcome("sent", platform_message_id=platform_id)


def record_sent(message_id: int, platform_id: str | None, now: datetime) -> None:
    """The platform took it: write that down. A receipt may have come in while the call was running; it only ever
    moves the row forward."""
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
    cached = db.session.identity_map.get(db.session.identity_key(OutboundMessage, message_id))
    if cached is not None:
        db.session.expire(cached)  # read again as the UPDATEs left it


def record_outcome(message: OutboundMessage, outcome: Outcome, now: datetime) -> str:
    """Write down a send that did not go out ("retry", "held", "parked", "failed"); returns the row's state.
    A retry is handed to the queue after its backoff, once the caller commits."""
    if outcome.result == "retry":
        delay = retry_delay(message.attempts)
        message.state = "queued"
        message.next_attempt_at = now + timedelta(seconds=delay)
        message.last_error = outcome.error
        db.session.flush()
        log.warning("outbound %s: %s; retry in %ss", message.id, outcome.error, delay)
        jobs.after_commit("notify.send", delay=delay, message_id=message.id)
        return "queued"
    if outcome.result not in ("held", "parked", "failed"):
        raise ValueError(f"not an outcome to record here: {outcome.result}")
    return finish(message, outcome.result, now, error=outcome.error)


def mark_read(message: OutboundMessage, now: datetime) -> Outcome:
    """Mark the resident's message read (WhatsApp's blue ticks) for a claimed read-receipt row: one short call.
    "sent", "retry" (one more try at most) or "failed"; never a reason to call in a person."""
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
        return Outcome("retry" if retry else "failed", error=error)
    return Outcome("sent")


def record_read_receipt(message: OutboundMessage, outcome: Outcome, now: datetime) -> str:
    """Write down what came of a read receipt; whatever it was, the resident's message has been processed already:
    a failure is logged and kept on the row, never raised. A retry is handed to the queue once the caller commits."""
    message.state_at = now
    if outcome.result == "sent":
        message.state = "sent"  # no sent_at: a receipt is not a message and does not count for pacing
        message.last_error = None
        db.session.flush()
        return "sent"
    retry = outcome.result == "retry"
    message.state = "queued" if retry else "failed"
    message.last_error = outcome.error
    if retry:
        message.next_attempt_at = now + timedelta(seconds=retry_delay(1))
    db.session.flush()
    log.info("read receipt %s not sent (%s)%s", message.id, outcome.error, "; one retry" if retry else "")
    if retry:
        jobs.after_commit("notify.send", delay=retry_delay(1), message_id=message.id)
    return message.state


def abandoned_sends(now: datetime, lease_seconds: float, limit: int) -> list[OutboundMessage]:
    """Rows left "sending" past their lease: their worker died during the call."""
    abandoned_before = now - timedelta(seconds=lease_seconds)
    return list(db.session.scalars(
        select(OutboundMessage).where(OutboundMessage.state == "sending", OutboundMessage.state_at <= abandoned_before)
        .order_by(OutboundMessage.id).limit(limit)
    ).all())


def claim_abandoned(message: OutboundMessage) -> bool:
    """Take an abandoned send over as "unknown" (only one sweep wins it); True when this one did."""
    claimed = db.session.execute(
        update(OutboundMessage).where(OutboundMessage.id == message.id, OutboundMessage.state == "sending",
                                      OutboundMessage.state_at == message.state_at)
        .values(state="unknown").execution_options(synchronize_session=False)
    ).rowcount
    if claimed == 1:
        db.session.refresh(message)
    return claimed == 1


def unknown_due(now: datetime, limit: int) -> list[int]:
    """Unknown outcomes whose wait for receipts is over: to be settled."""
    return list(db.session.scalars(
        select(OutboundMessage.id).where(OutboundMessage.state == "unknown", OutboundMessage.next_attempt_at <= now)
        .order_by(OutboundMessage.id).limit(limit)
    ).all())


def queued_ids(limit: int) -> list[int]:
    """Queued rows, oldest first (the sweep sends those whose time has come: lost timers, restarts, tests)."""
    return list(db.session.scalars(
        select(OutboundMessage.id).where(OutboundMessage.state == "queued").order_by(OutboundMessage.id).limit(limit)
    ).all())


def is_due(message_id: int, now: datetime) -> bool:
    """Is the row there, and has its time come (no next attempt set, or one not after `now`)?"""
    message = db.session.get(OutboundMessage, message_id)
    if message is None:
        return False
    due = as_aware_utc(message.next_attempt_at)
    return due is None or due <= now


def finish(message: OutboundMessage, state: str, now: datetime, error: str | None) -> str:
    """The row ends "held", "parked" or "failed": its conversation is flagged for a person (why, in Dutch)."""
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
    db.session.flush()
    log.warning("outbound %s %s: %s", message.id, state, error)
    return state


def _platform_name(message: OutboundMessage) -> str:
    """The platform as staff know it ("WhatsApp", "Messenger", "WhatsApp (Twilio)")."""
    adapter = find_adapter(message.channel_kind)
    if adapter is None:
        return message.channel_kind
    reporter = db.session.get(Reporter, message.reporter_id)
    return adapter.display_name(reporter.platform_id if reporter is not None else None)


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
