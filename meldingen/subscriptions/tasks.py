"""Background tasks of report events: deliver one, and the sweep. The transaction script of a delivery: claim and
commit, POST with no transaction open, record and commit (see delivery.py)."""

from __future__ import annotations

import logging
from datetime import datetime

from meldingen import jobs
from meldingen.extensions import db
from meldingen.recovery.policy import short_reason
from meldingen.subscriptions import delivery
from meldingen.timeutil import utcnow

log = logging.getLogger(__name__)

# Sends to subscribers at once across all workers (they share the reply workers with residents' messages).
SLOT_KEY = "webhooks"
SLOT_LIMIT = 2
SLOT_WAIT_SECONDS = 1.0


def deliver(delivery_id: int) -> None:
    deliver_one(delivery_id)


def deliver_due() -> None:
    deliver_due_events()


def deliver_one(delivery_id: int, now: datetime | None = None) -> str | None:
    """One attempt of one delivery, if it is due; returns its state afterwards (None: not ours to send now)."""
    now = now or utcnow()
    with jobs.concurrency_slot(SLOT_KEY, SLOT_LIMIT, delivery.lease().total_seconds()) as free:
        if not free:
            # Subscribers that hang hold at most SLOT_LIMIT of the reply workers; this one comes back shortly.
            jobs.enqueue_in(SLOT_WAIT_SECONDS, "subscriptions.deliver", delivery_id=delivery_id)
            return "queued"
        return _attempt(delivery_id, now)


def _attempt(delivery_id: int, now: datetime) -> str | None:
    row = delivery.claim(delivery_id, now)
    if row is None:
        db.session.rollback()
        return None
    url, secret, message_id, body = row.subscription.url, row.subscription.secret, row.message_id, row.body
    db.session.commit()
    outcome = delivery.post(url, secret, message_id, body, utcnow())  # signed with the time it is sent
    row = db.session.get(delivery.WebhookDelivery, delivery_id)
    if row is None:  # the subscription was removed meanwhile
        db.session.rollback()
        return None
    state = delivery.record(row, outcome, now)
    db.session.commit()
    return state


def deliver_due_events(now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """The sweep: every delivery whose next attempt is due (lost timers, restarts) or whose worker died. Returns
    how many ended in each state."""
    now = now or utcnow()
    counts: dict[str, int] = {}
    for delivery_id in delivery.due_ids(now, limit):
        try:
            state = deliver_one(delivery_id, now)
        except Exception as exc:  # one row's trouble (a database hiccup) must not stop the others
            db.session.rollback()
            log.error("webhook delivery %s: %s", delivery_id, short_reason(exc))
            continue
        if state is not None:
            counts[state] = counts.get(state, 0) + 1
    return counts
