"""Reply templates: the texts residents get, editable by administrators, per language and organisation; and the
standard texts staff pick from when they write a message to the residents of a report."""

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


class ReplyTemplate(db.Model):
    __tablename__ = "reply_templates"
    __table_args__ = (UniqueConstraint("key", "language", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(5), default="nl")
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)


class StandardText(db.Model):
    """A ready reply staff can pick for "bericht aan melder": for a status, a category (main or sub) or both
    (None: any), general (organisation None) or an organisation's own. `purpose` "inbox": a reply for the
    shared inbox's conversations instead (no status or category)."""

    __tablename__ = "standard_texts"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    status: Mapped[str | None] = mapped_column(String(30), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    purpose: Mapped[str] = mapped_column(String(10), default="report", server_default="report")


class OutboundMessage(db.Model):
    """The outbox: a message to a resident, written in the transaction that causes it, sent after commit."""

    __tablename__ = "outbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    channel_kind: Mapped[str] = mapped_column(String(20))
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channels.id", ondelete="SET NULL"))
    reporter_id: Mapped[int] = mapped_column(ForeignKey("reporters.id", ondelete="CASCADE"), index=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="SET NULL"))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))
    template_key: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)  # buttons, list options, location request
    # queued|sending|sent|delivered|read|failed|held (held: outside WhatsApp's window, no template)
    # |unknown (the send timed out or its worker died: it may have landed; see notify/uncertain.py)
    # |parked (kept failing, or unknown and only a person can tell: on the staff stuck list)|dismissed
    state: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    platform_message_id: Mapped[str | None] = mapped_column(String(200), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    state_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    parked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class QuestionAnswer(db.Model):  # type: ignore[name-defined]  # (flask-sqlalchemy's model base is dynamic)
    """An answer, with a link, to a question residents ask the chat that is not a report ("hoe verleng ik mijn
    paspoort"): given at once when the question holds one of its phrases. General (organisation None) or an
    organisation's own; kept by administrators beside the standard texts."""

    __tablename__ = "question_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(5), default="nl")
    title: Mapped[str] = mapped_column(String(200))
    # The phrases that make a question this one's, one a line ("paspoort verlengen", "nieuw paspoort").
    phrases: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
