"""Which channel a delivery belongs to: the default one of each kind from configuration, more from the database.

A `ChannelConfig` is the plain-data view the webhooks and workers use; `channel_id` is None for the
default channel that lives in the environment (MELDINGEN_WHATSAPP_*, _TELEGRAM_*, _TWILIO_*).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select

from meldingen import cache
from meldingen.channels import telegram, twilio, whatsapp
from meldingen.channels.models import Channel
from meldingen.extensions import db

# Secrets each kind needs; `Channel.secrets` holds the same names.
SECRET_NAMES = {
    "whatsapp": ("app_secret", "verify_token", "access_token"),
    "telegram": ("bot_token", "secret_token"),
    "twilio": ("account_sid", "auth_token"),
    "webchat": (),
}


@dataclass(frozen=True)
class ChannelConfig:
    kind: str
    channel_id: int | None  # None: the default channel from the environment
    address: str | None  # WhatsApp phone_number_id, Telegram bot id, Twilio number
    secrets: dict = field(default_factory=dict, hash=False, compare=False)
    api_url: str = ""
    organisation_id: int | None = None

    def secret(self, name: str) -> str:
        return str(self.secrets.get(name) or "")


def default_channel(kind: str) -> ChannelConfig | None:
    """The channel of `kind` configured in the environment, or None when it is off."""
    config = current_app.config
    if kind == "whatsapp":
        secrets = {"app_secret": config.get("WHATSAPP_APP_SECRET"), "verify_token": config.get("WHATSAPP_VERIFY_TOKEN"),
                   "access_token": config.get("WHATSAPP_ACCESS_TOKEN")}
        if not (secrets["app_secret"] or secrets["verify_token"]):
            return None
        return ChannelConfig("whatsapp", None, config.get("WHATSAPP_PHONE_NUMBER_ID") or None, secrets,
                             config.get("WHATSAPP_GRAPH_URL") or whatsapp.DEFAULT_GRAPH_URL)
    if kind == "telegram":
        if not config.get("TELEGRAM_BOT_TOKEN"):
            return None
        token = config["TELEGRAM_BOT_TOKEN"]
        secrets = {"bot_token": token, "secret_token": config.get("TELEGRAM_SECRET_TOKEN")}
        return ChannelConfig("telegram", None, token.split(":", 1)[0], secrets,
                             config.get("TELEGRAM_API_URL") or telegram.DEFAULT_API_URL)
    if kind == "twilio":
        if not config.get("TWILIO_AUTH_TOKEN"):
            return None
        secrets = {"account_sid": config.get("TWILIO_ACCOUNT_SID"), "auth_token": config.get("TWILIO_AUTH_TOKEN")}
        return ChannelConfig("twilio", None, config.get("TWILIO_FROM") or None, secrets,
                             config.get("TWILIO_API_URL") or twilio.DEFAULT_API_URL)
    if kind == "webchat":
        return ChannelConfig("webchat", None, None, {})
    raise ValueError(f"unknown channel kind {kind!r}")


def _from_row(row: Channel) -> ChannelConfig:
    settings = row.settings or {}
    defaults = {"whatsapp": current_app.config.get("WHATSAPP_GRAPH_URL") or whatsapp.DEFAULT_GRAPH_URL,
                "telegram": current_app.config.get("TELEGRAM_API_URL") or telegram.DEFAULT_API_URL,
                "twilio": current_app.config.get("TWILIO_API_URL") or twilio.DEFAULT_API_URL}
    return ChannelConfig(row.kind, row.id, row.address, dict(row.secrets or {}),
                         settings.get("api_url") or defaults.get(row.kind, ""), row.organisation_id)


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


def _bare(number: str | None) -> str:
    return (number or "").removeprefix("whatsapp:").strip()


def for_address(kind: str, address: str | None, candidates: list[ChannelConfig]) -> ChannelConfig | None:
    """The channel whose address is `address` (Twilio compares numbers without `whatsapp:`), else the default."""
    for candidate in candidates:
        if candidate.channel_id is not None and address and _bare(candidate.address) == _bare(address):
            return candidate
    return next((c for c in candidates if c.channel_id is None), None)
