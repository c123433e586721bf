"""Channels stored in the database, raw inbound events (idempotent by platform key) and the outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from meldingen.db import UTCDateTime
from meldingen.extensions import db
from meldingen.timeutil import utcnow


class Channel(db.Model):
    """A chat channel beyond the default one from the environment: another number, another bot.

    `address` identifies the channel in inbound webhooks (WhatsApp phone_number_id, Telegram bot id,
    Twilio 'To' number); `secrets` holds its credentials (app_secret, verify_token, access_token,
    bot_token, secret_token, account_sid, auth_token) and is never shown unmasked.
    """

    __tablename__ = "channels"
    __table_args__ = (UniqueConstraint("kind", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(100))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    secrets: Mapped[dict] = mapped_column(JSON, default=dict)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InboundEvent(db.Model):
    """A raw platform delivery, stored before the webhook answers; the unique key makes redelivery a no-op."""

    __tablename__ = "inbound_events"
    __table_args__ = (UniqueConstraint("channel_kind", "external_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_kind: Mapped[str] = mapped_column(String(20))
    external_key: Mapped[str] = mapped_column(String(200))
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channels.id", ondelete="SET NULL"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)  # the normalised message and the raw part
    # pending|done|failed|parked (kept failing: on the staff stuck list)|dismissed (a person closed it)|
    # unreadable (an item of a valid delivery that could not be read: kept raw, reason in error)
    state: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    error: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # At-least-once processing: each attempt claims the event until next_attempt_at (its lease, or the backoff
    # after a failure); the sweep takes up pending events whose time has come.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    parked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
