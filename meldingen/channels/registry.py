"""Which channel a delivery belongs to: the default one of each kind from configuration, more from the database.

A `ChannelConfig` (channels/adapter.py) is the plain-data view the webhooks and workers use; `channel_id` is None
for the default channel that lives in the environment (MELDINGEN_WHATSAPP_*, _TELEGRAM_*, …), which each
platform's adapter reads (`default_channel`).
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from meldingen import cache
from meldingen.channels.adapter import ChannelConfig
from meldingen.channels.adapters import adapter_for, find_adapter
from meldingen.channels.models import Channel
from meldingen.extensions import db

__all__ = ["ChannelConfig", "channel_by_id", "channels_of_kind", "default_channel", "for_address", "stored_channels"]


def default_channel(kind: str) -> ChannelConfig | None:
    """The channel of `kind` configured in the environment, or None when it is off (ValueError: no such kind)."""
    return adapter_for(kind).default_channel(current_app.config)


def _from_row(row: Channel) -> ChannelConfig:
    settings = dict(row.settings or {})
    adapter = find_adapter(row.kind)
    default_url = adapter.default_api_url(current_app.config) if adapter is not None else ""
    return ChannelConfig(row.kind, row.id, row.address, dict(row.secrets or {}),
                         settings.get("api_url") or default_url, row.organisation_id, settings)


# Stored channels are read on every webhook (to verify its signature): kept per process for a few seconds
# (`meldingen/cache.py`), dropped at once when this process commits a change to one.
cache.watch(Channel)


def stored_channels(kind: str) -> list[ChannelConfig]:
    """The active stored channels of `kind` (from this process's short-lived cache when it is fresh)."""
    def load() -> list[ChannelConfig]:
        rows = db.session.scalars(select(Channel).where(Channel.kind == kind, Channel.active.is_(True))
                                  .order_by(Channel.id))
        return [_from_row(row) for row in rows]

    return cache.cached(f"channels:{kind}", load)


def channels_of_kind(kind: str) -> list[ChannelConfig]:
    """Every active channel of `kind`: the stored ones first, then the default."""
    found = list(stored_channels(kind))
    default = default_channel(kind)
    if default is not None:
        found.append(default)
    return found


def channel_by_id(kind: str, channel_id: int | None) -> ChannelConfig | None:
    if channel_id is None:
        return default_channel(kind)
    row = db.session.get(Channel, channel_id)
    return _from_row(row) if row is not None and row.kind == kind else None


def for_address(kind: str, address: str | None, candidates: list[ChannelConfig]) -> ChannelConfig | None:
    """The channel whose address is `address` (as the platform compares addresses), else the default."""
    return adapter_for(kind).channel_for_address(address, candidates)
