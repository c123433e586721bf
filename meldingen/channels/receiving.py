"""A verified delivery, stored once: at once in the request, or through the spool by the background process.

The webhooks (`web/webhooks.py`), the spool's import (`spool.py`) and the polls of platforms without webhooks all
store a delivery the same way (`store_delivery`: the adapter parses it, every item under its unique key), commit,
and only then hand the new events to the workers (`commit_and_enqueue`). A verified delivery is never refused:
above its channel's rate limit only its processing waits.
"""

from __future__ import annotations

from meldingen import jobs
from meldingen.channels import registry
from meldingen.channels.adapter import Delivery
from meldingen.channels.adapters import adapter_for
from meldingen.extensions import db
from meldingen.quotas import within_limit

# Seconds the processing of a verified delivery waits when its channel is above its limit.
CHANNEL_BACKOFF_SECONDS = 30


def channel_over_limit(kind: str, channel_key: str) -> bool:
    """A verified delivery is always stored and answered 200; above the channel's limit its processing waits."""
    return not within_limit("LIMIT_WEBHOOK_CHANNEL", "webhook-channel", kind, channel_key)


def commit_and_enqueue(event_ids: list[int], kind: str = "", channel_key: str = "") -> None:
    """Commit the stored events, then hand them to the workers; above the channel's limit the work is queued for
    a little later instead (the delivery itself is never refused: the platform would only send it again)."""
    db.session.commit()
    delay = CHANNEL_BACKOFF_SECONDS if event_ids and kind and channel_over_limit(kind, channel_key) else 0
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

    `delivery` is `Delivery.to_dict()`: {"kind", "raw": the platform's body, "verified": ids of the channels whose
    secret verified it (None: the default channel), "outbox": our reference echoed in the URL}, as the webhook
    (or a poll of the platform) made it."""
    received = Delivery.from_dict(delivery)
    adapter = adapter_for(received.kind)
    verified = [c for c in registry.channels_of_kind(received.kind) if c.channel_id in received.verified]
    if not verified:
        raise LookupError(f"{received.kind} delivery: the channel that verified it is gone")
    stored = adapter.store(received, adapter.parse(received.raw), verified)
    return stored.event_ids, received.kind, stored.channel_key
