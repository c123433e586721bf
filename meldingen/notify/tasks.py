"""Background tasks of the outbox: send one message, settle one whose outcome is unknown, and the sweep.

This module is the sending's transaction script: it owns every commit of the send path. Sending is several
transactions by nature, and their order is what keeps each message sent at most once while none is lost:

1. claim the row ("queued" → "sending") and commit, so no transaction (and no lock) is open while the platform
   is called, and a second job for the same row finds nothing to claim;
2. call the platform (only reads in the database);
3. record what came of it and commit: "sent" is retried with a rollback between tries (a database that is briefly
   away must not make a known delivery look unknown); "unknown" is settled later by `notify/uncertain.py`.

The steps (`notify/sender.py`, `notify/uncertain.py`, `notify/receipts.py`) flush and return what they decided;
what they hand to the queue (a retry after its backoff, a settling, a send after pacing) goes by `jobs.after_commit`
once the commit here has made it visible. A platform's concurrency slots (`jobs.concurrency_slot`) are held for
the claim, the call and the record.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from meldingen import jobs
from meldingen.extensions import db
from meldingen.notify import receipts, sender, uncertain
from meldingen.recovery.policy import send_lease_seconds, short_reason
from meldingen.timeutil import utcnow

log = logging.getLogger(__name__)

# How long a send waits before it looks again for a free slot of its platform.
SLOT_WAIT_SECONDS = 0.5
# Tries of writing down "sent" before the row is left "sending" (the lease sweep and receipts settle it then).
RECORD_SENT_TRIES = 5


def send(message_id: int) -> None:
    deliver(message_id)


def send_due() -> None:
    send_due_messages()


def settle(message_id: int) -> None:
    settle_unknown(message_id)


def deliver(message_id: int, now: datetime | None = None) -> str | None:
    """Try to send one outbox row now; returns its state afterwards (None when it was not ours to send)."""
    now = now or utcnow()
    message = sender.due_message(message_id, now)
    if message is None:
        return None  # not queued, or not yet: its timer (or the sweep) comes back
    kind = message.channel_kind
    with jobs.concurrency_slot(sender.slot_key(message), sender.concurrency_limit(kind),
                               send_lease_seconds()) as free:
        if not free:
            # Every slot of this platform is in a send (a slow or hanging platform): come back shortly, and
            # leave this worker to other residents' messages meanwhile.
            jobs.enqueue_in(SLOT_WAIT_SECONDS, "notify.send", message_id=message_id)
            return "queued"
        if receipts.is_read_receipt(message):
            return _deliver_read_receipt(message_id, now)
        wait = sender.pacing_wait(message, now)
        if wait > 0:
            state = sender.defer(message, wait, now)
            db.session.commit()
            return state
        claimed = sender.claim(message_id, now)
        db.session.commit()
        if claimed is None:
            return None
        # The claim is committed: what follows only reads until the platform has answered (no write lock held).
        outcome = sender.send_claimed(claimed, now)
        if outcome.result == "sent":
            record_sent(message_id, outcome.platform_message_id, now)
            return "sent"
        if outcome.result == "unknown":
            state = uncertain.mark_unknown(claimed, now, outcome.error or "outcome unknown")
        else:
            state = sender.record_outcome(claimed, outcome, now)
        db.session.commit()
        return state


def record_sent(message_id: int, platform_id: str | None, now: datetime, tries: int = RECORD_SENT_TRIES) -> None:
    """The platform took it: write that down. Tried a few times over some seconds, because a database that
    is briefly away would otherwise leave the row "sending" and make a known delivery look unknown."""
    for attempt in range(tries):
        try:
            sender.record_sent(message_id, platform_id, now)
            db.session.commit()
            return
        except Exception:
            db.session.rollback()
            if attempt == tries - 1:
                raise  # left "sending": the lease sweep and the platform's receipts settle it
            time.sleep(min(4.0, 0.5 * 2 ** attempt))


def _deliver_read_receipt(message_id: int, now: datetime) -> str | None:
    """Mark the resident's message read: claimed like any row, one short call, one retry at most."""
    claimed = sender.claim(message_id, now, read_receipt=True)
    db.session.commit()
    if claimed is None:
        return None
    outcome = sender.mark_read(claimed, now)
    state = sender.record_read_receipt(claimed, outcome, now)
    db.session.commit()
    return state


def settle_unknown(message_id: int, now: datetime | None = None) -> str | None:
    """Decide what became of an unknown send whose wait is over; returns the row's new state."""
    state = uncertain.settle(message_id, now or utcnow())
    db.session.commit()
    return state


def take_over_sends(now: datetime | None = None) -> int:
    """A new embedded background process starts: sends left "sending" were in the hands of the process that died
    before it, so they are settled now (as unknown: by what the platform can tell) instead of after their lease.
    Commits; returns how many."""
    now = now or utcnow()
    taken = 0
    for message in sender.abandoned_sends(now + timedelta(days=1), 0, 500):  # every "sending" row, however new
        if sender.claim_abandoned(message):
            db.session.commit()
            uncertain.mark_unknown(message, now, "the process stopped during the send (taken over at restart)")
            taken += 1
        db.session.commit()
    return taken


def send_due_messages(now: datetime | None = None, limit: int = 500) -> int:
    """The sweep: sends abandoned by a dead worker, unknown outcomes due for settling, and every queued row
    whose time has come (lost timers, restarts, tests). Returns how many were sent."""
    now = now or utcnow()
    for message in sender.abandoned_sends(now, send_lease_seconds(), limit):
        if sender.claim_abandoned(message):
            db.session.commit()
            uncertain.mark_unknown(message, now, "the worker stopped during the send (lease expired)")
        db.session.commit()
    for message_id in sender.unknown_due(now, limit):
        _guarded(settle_unknown, message_id, now)
    sent = 0
    for message_id in sender.queued_ids(limit):
        if sender.is_due(message_id, now) and _guarded(deliver, message_id, now) == "sent":
            sent += 1
    return sent


def _guarded(step: Callable[..., str | None], message_id: int, now: datetime) -> str | None:
    """One row's failure (a database hiccup) must not stop the sweep for the others."""
    try:
        return step(message_id, now=now)
    except Exception as exc:
        db.session.rollback()
        log.error("outbound %s: %s", message_id, short_reason(exc))
        return None
