"""Platforms that are polled instead of calling a webhook (Signal's bridge): fetched by a periodic task, each
delivery stored under its unique key and committed before any work on it starts.

What this module decides:
- `channels.poll` (its transaction script is `poll` in `channels/tasks.py`) runs with the periodic sweeps (every SWEEP_SECONDS): for every adapter whose capabilities
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
from collections.abc import Iterator

from meldingen import jobs
from meldingen.channels import adapters, registry
from meldingen.channels.adapter import ChannelAdapter, ChannelConfig, Delivery
from meldingen.channels.base import PlatformError
from meldingen.channels.inbound import insert_event
from meldingen.channels.messages import PayloadError, unreadable

log = logging.getLogger(__name__)

POLL_LEASE_SECONDS = 120.0  # a poll that died holding its slot frees it after this long
MAX_ROUNDS = 10


def polled_channels() -> Iterator[tuple[ChannelAdapter, ChannelConfig]]:
    """Every active channel of every platform whose capabilities say `polled`."""
    for adapter in adapters.all_adapters():
        if not adapter.capabilities.polled:
            continue
        for channel in registry.channels_of_kind(adapter.kind):
            yield adapter, channel


def poll_slot(adapter: ChannelAdapter, channel: ChannelConfig) -> str:
    """The concurrency slot of one channel's poll: one poll per channel at a time."""
    return f"poll:{adapter.kind}:{channel.channel_id or 0}"


def receive(adapter: ChannelAdapter, channel: ChannelConfig) -> list | None:
    """One receive from the platform; None when it could not be reached (logged: asked again at the next sweep)."""
    try:
        return adapter.receive(channel)
    except PlatformError as exc:
        log.warning("%s channel %s not polled: %s", adapter.kind, channel.channel_id or "default", exc.message)
        return None


def batch_was_full(adapter: ChannelAdapter, items: list, batch_size: int | None = None) -> bool:
    """A full batch: more may wait at the bridge, so the channel is polled again at once."""
    full: int = batch_size or getattr(adapter, "receive_batch_size", 0) or 0
    return bool(items) and full > 0 and len(items) >= full


def store_received(adapter: ChannelAdapter, channel: ChannelConfig, items: list) -> list[int]:
    """Parse and store each received delivery (flushed, not committed: the poll task commits before any further
    work); the new message events, handed to the workers once that commit is done."""
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
    for event_id in event_ids:
        jobs.after_commit("channels.process_event", event_id=event_id)
    return event_ids
