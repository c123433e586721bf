"""Platforms that are polled instead of calling a webhook (Signal's bridge): fetched by a periodic task, each
delivery stored under its unique key and committed before any work on it starts.

What this module decides:
- `channels.poll` runs with the periodic sweeps (every SWEEP_SECONDS): for every adapter whose capabilities
  say `polled`, for every active channel of it, one `receive`, then each raw delivery is parsed and stored by
  the adapter exactly as a webhook delivery would be (`Delivery(kind, raw, verified=(channel id,))`),
  committed, and only then handed to the workers (`channels.process_event`).
- At-least-once: a receive may be destructive (signal-cli-rest-api forgets what it answered), so nothing else
  happens between the answer and the commit of the raw events; keys are unique, so a delivery that comes twice
  (a bridge that answered and then failed, two polls at once) is stored once. A delivery the adapter cannot
  parse at all is kept raw as "unreadable" rather than dropped.
- One poll per channel at a time (a concurrency slot): a slow bridge is not asked again while it answers.
  When a poll brought a full batch, the channel is polled again at once (at most MAX_ROUNDS times), so a
  backlog after an outage drains without waiting for the next sweeps.
- A bridge that is down is logged and asked again at the next sweep; messages wait at the bridge meanwhile.
"""

from __future__ import annotations

import logging

from meldingen import jobs
from meldingen.channels import adapters, registry
from meldingen.channels.adapter import ChannelAdapter, ChannelConfig, Delivery
from meldingen.channels.base import PlatformError
from meldingen.channels.inbound import insert_event
from meldingen.channels.messages import PayloadError, unreadable
from meldingen.extensions import db

log = logging.getLogger(__name__)

POLL_LEASE_SECONDS = 120.0  # a poll that died holding its slot frees it after this long
MAX_ROUNDS = 10


def poll_platforms() -> int:
    """The periodic poll of every polled platform's channels; returns how many new message events it stored."""
    stored = 0
    for adapter in adapters.all_adapters():
        if not adapter.capabilities.polled:
            continue
        for channel in registry.channels_of_kind(adapter.kind):
            stored += poll_channel(adapter, channel)
    return stored


def poll_channel(adapter: ChannelAdapter, channel: ChannelConfig, batch_size: int | None = None) -> int:
    """Receive and store what waits for one channel (again while full batches come); new message events."""
    key = f"poll:{adapter.kind}:{channel.channel_id or 0}"
    stored = 0
    with jobs.concurrency_slot(key, 1, POLL_LEASE_SECONDS) as free:
        if not free:
            return 0  # another worker is polling this channel right now
        for _ in range(MAX_ROUNDS):
            try:
                items = adapter.receive(channel)
            except PlatformError as exc:
                db.session.rollback()
                log.warning("%s channel %s not polled: %s", adapter.kind, channel.channel_id or "default",
                            exc.message)
                break
            event_ids = store_received(adapter, channel, items)
            db.session.commit()  # stored before anything else is done with them
            for event_id in event_ids:
                jobs.enqueue("channels.process_event", event_id=event_id)
            stored += len(event_ids)
            full = batch_size or getattr(adapter, "receive_batch_size", 0)
            if not items or not full or len(items) < full:
                break
    return stored


def store_received(adapter: ChannelAdapter, channel: ChannelConfig, items: list) -> list[int]:
    """Parse and store each received delivery (not committed); the new message events."""
    event_ids: list[int] = []
    for raw in items:
        delivery = Delivery(adapter.kind, raw, (channel.channel_id,))
        try:
            parsed = adapter.parse(raw)
        except PayloadError as exc:
            item = unreadable(adapter.kind, raw, exc.reason)
            insert_event(adapter.kind, item.event_key, channel.channel_id, item.to_dict(), state="unreadable",
                         error=item.reason)
            log.warning("%s delivery could not be read and was kept raw: %s", adapter.kind, exc.reason)
            continue
        event_ids.extend(adapter.store(delivery, parsed, [channel]).event_ids)
    return event_ids
