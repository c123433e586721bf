"""Residents (one per platform identity and channel) and their conversations with the service."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from meldingen.db import UTCDateTime
from meldingen.extensions import db
from meldingen.timeutil import utcnow


class Reporter(db.Model):
    """A resident as known on one channel. Never shown publicly."""

    __tablename__ = "reporters"
    __table_args__ = (UniqueConstraint("channel_kind", "platform_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_kind: Mapped[str] = mapped_column(String(20))
    platform_id: Mapped[str] = mapped_column(String(200))
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channels.id", ondelete="SET NULL"))
    display_name: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(5), default="nl")
    # The resident's last message: WhatsApp allows free-form replies for 24 hours after it.
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When the platform id, name and chat texts were replaced by placeholders (retention or erasure).
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Conversation(db.Model):
    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("reporters.id", ondelete="CASCADE"), index=True)
    channel_kind: Mapped[str] = mapped_column(String(20))
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channels.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(30), default="collecting")
    language: Mapped[str] = mapped_column(String(5), default="nl")
    # The draft's slots: description, location (lat/lon/source), typed address, photo ids, choices offered.
    draft: Mapped[dict] = mapped_column(JSON, default=dict)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    act_after: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    last_report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="SET NULL"))
    # The shared inbox: a conversation that needs a person, and who holds it.
    needs_person: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    needs_person_reason: Mapped[str | None] = mapped_column(String(200))
    needs_person_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(Integer, default=0)
    # Acting on the draft failed this often in a row (act_after then holds the backoff); parked: it kept
    # failing and waits on the staff stuck list.
    act_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    act_error: Mapped[str | None] = mapped_column(Text)
    parked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    reporter = relationship("Reporter")
    messages: Mapped[list[ConversationMessage]] = relationship(
        back_populates="conversation", order_by="ConversationMessage.id"
    )


class ConversationMessage(db.Model):
    """A message in or out, as shown in the shared inbox."""

    __tablename__ = "conversation_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # in|out
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[str] = mapped_column(String(20), default="text")
    text: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    inbound_event_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_events.id", ondelete="SET NULL"))
    outbound_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbound_messages.id", ondelete="SET NULL")
    )
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))

    conversation: Mapped[Conversation] = relationship(back_populates="messages")
