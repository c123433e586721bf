"""A subscription (an organisation's URL, the events it wants, its signing secret) and its outbox of deliveries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from meldingen.db import UTCDateTime
from meldingen.extensions import db
from meldingen.timeutil import utcnow

EVENT_TYPES = ("report.created", "report.status_changed", "report.merged", "report.category_changed")


class WebhookSubscription(db.Model):  # type: ignore[name-defined]  # (Flask-SQLAlchemy's dynamic base)
    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list] = mapped_column(JSON, default=list)  # of EVENT_TYPES
    # `whsec_` + base64 of 32 random bytes (Standard Webhooks); shown once, when made, and needed to sign.
    secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_result: Mapped[str | None] = mapped_column(String(300))  # "200", "HTTP 500", "ConnectTimeout: …"

    organisation = relationship("Organisation")


class WebhookDelivery(db.Model):  # type: ignore[name-defined]
    """The outbox: one event for one subscription, written in the transaction of the change, sent after commit.

    `message_id` is the `webhook-id` header: the same on every attempt, so the receiver can drop a repeat.
    `body` is the exact JSON that is signed and sent, every time."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"),
                                                 index=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(String(40))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    # queued|sending|delivered|parked (kept failing: on the admin page, with retry)|dismissed
    state: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    parked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    subscription: Mapped[WebhookSubscription] = relationship()
