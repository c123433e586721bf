"""The adapters of the platforms this service speaks, by kind: the one place that lists the platforms.

A new platform is one adapter module (`channels/adapter.py`'s protocol) plus its line below; the webhooks,
the sender, media, the intake and staff pages find it here by the kind stored on residents and messages.
"""

from __future__ import annotations

from meldingen.channels.adapter import ChannelAdapter
from meldingen.channels.messenger import MessengerAdapter
from meldingen.channels.signal_cli import SignalAdapter
from meldingen.channels.telegram import TelegramAdapter
from meldingen.channels.twilio import TwilioAdapter
from meldingen.channels.webchat import WebchatAdapter
from meldingen.channels.whatsapp import WhatsAppAdapter

_ADAPTERS: dict[str, ChannelAdapter] = {adapter.kind: adapter for adapter in (
    WhatsAppAdapter(),
    TelegramAdapter(),
    TwilioAdapter(),
    WebchatAdapter(),
    MessengerAdapter(),
    SignalAdapter(),
)}


class UnknownChannelKind(ValueError):
    """No adapter for this kind (a report's channel such as "open311" or "staff" is not a chat platform)."""


def adapter_for(kind: str) -> ChannelAdapter:
    """The adapter of `kind`; UnknownChannelKind when no platform of that kind exists."""
    try:
        return _ADAPTERS[kind]
    except KeyError:
        raise UnknownChannelKind(f"unknown channel kind {kind!r}") from None


def find_adapter(kind: str | None) -> ChannelAdapter | None:
    """The adapter of `kind`, or None for what is not a chat platform."""
    return _ADAPTERS.get(kind or "")


def all_adapters() -> list[ChannelAdapter]:
    return list(_ADAPTERS.values())


def kinds() -> tuple[str, ...]:
    """Every chat platform's kind, in the order above."""
    return tuple(_ADAPTERS)
