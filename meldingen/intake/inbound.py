"""Who wrote and in which conversation: the resident on their channel (created on first contact, locked for
the transaction), their conversation, and every inbound message logged for the shared inbox under the
platform's own message key (which an edit shares with the message it edits)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from meldingen.channels.adapters import find_adapter
from meldingen.channels.messages import InboundMessage
from meldingen.channels.models import InboundEvent
from meldingen.db import begin_write
from meldingen.extensions import db
from meldingen.residents.models import Conversation, ConversationMessage, Reporter
from meldingen.timeutil import as_aware_utc, utcnow


def reporter_for(message: InboundMessage, channel) -> Reporter:
    """The resident on this channel, created on first contact; locked for the rest of the transaction."""
    begin_write(db.session)  # SQLite: the lock is the database's write lock, taken before the draft is read
    query = select(Reporter).where(Reporter.channel_kind == message.channel_kind,
                                   Reporter.platform_id == message.platform_user_id)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    reporter = db.session.scalar(query)
    if reporter is None:
        _insert_reporter(message, channel)
        reporter = db.session.scalar(query)
    if message.display_name and not reporter.display_name:
        reporter.display_name = message.display_name[:200]
    if channel is not None and channel.channel_id is not None:
        reporter.channel_id = channel.channel_id
    last = as_aware_utc(reporter.last_inbound_at)
    if last is None or message.sent_at > last:
        reporter.last_inbound_at = message.sent_at
    return reporter


def _insert_reporter(message: InboundMessage, channel) -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db.session.execute(
        insert(Reporter).values(
            channel_kind=message.channel_kind, platform_id=message.platform_user_id,
            channel_id=channel.channel_id if channel is not None else None,
            display_name=(message.display_name or None) and message.display_name[:200],
            language="nl", created_at=utcnow(),
        ).on_conflict_do_nothing(index_elements=["channel_kind", "platform_id"])
    )


def conversation_for(reporter: Reporter) -> Conversation:
    conversation = db.session.scalar(
        select(Conversation).where(Conversation.reporter_id == reporter.id,
                                   Conversation.channel_kind == reporter.channel_kind)
        .order_by(Conversation.id.desc()).limit(1)
    )
    if conversation is None:
        conversation = Conversation(reporter_id=reporter.id, channel_kind=reporter.channel_kind,
                                    channel_id=reporter.channel_id, state="collecting", draft={},
                                    language=reporter.language or "nl", version=0)
        db.session.add(conversation)
        db.session.flush()
    return conversation


def platform_message_key(message: InboundMessage, event) -> str:
    """The id the platform gives the resident's message itself; an edit carries the same one (Telegram's
    message_id, where the update id differs for every edit)."""
    raw = (event.payload or {}).get("raw") if event is not None else None
    adapter = find_adapter(message.channel_kind)
    if adapter is None:
        return f"{message.channel_kind}:{message.external_id}"
    return adapter.message_key(message, raw if isinstance(raw, dict) else None)


def edited_original(conversation: Conversation, key: str) -> ConversationMessage | None:
    """The message an edit changes: the latest logged message with the same platform key."""
    recent = db.session.scalars(
        select(ConversationMessage).where(ConversationMessage.conversation_id == conversation.id,
                                          ConversationMessage.direction == "in")
        .order_by(ConversationMessage.id.desc()).limit(200)
    )
    for logged in recent:
        if (logged.data or {}).get("key") == key:
            return logged
    return None


def log_inbound(conversation: Conversation, message: InboundMessage, event, photo_ids: list[int], key: str) -> None:
    data: dict = {"key": key}
    if message.location:
        data["location"] = {"lat": message.location.lat, "lon": message.location.lon,
                            "name": message.location.name, "address": message.location.address}
    if photo_ids:
        data["photo_ids"] = photo_ids
    if message.reply_id:
        data["reply"] = {"id": message.reply_id, "title": message.reply_title}
    if message.unsupported_type:
        data["unsupported"] = message.unsupported_type
    if message.edited:
        data["edited"] = True
    db.session.add(ConversationMessage(
        conversation_id=conversation.id, direction="in", at=message.sent_at, kind=message.kind,
        text=message.text or message.reply_title, data=data,
        inbound_event_id=getattr(event, "id", None),
    ))
    conversation.last_inbound_at = message.sent_at
    conversation.version = (conversation.version or 0) + 1


# A stored message of the resident that is not yet taken in holds back the decision on their draft for at most
# this long (an event whose worker died is taken up again by the sweep after its lease).
WAIT_FOR_STORED_SECONDS = 120


def unprocessed_messages(reporter: Reporter) -> list[int]:
    """The resident's messages that arrived (are stored) but are not taken in yet, oldest first: the location
    shared 30 ms before the words, still in the queue (or waiting for the lock) when the quiet-period timer of
    the words fires. An event that failed and waits for its retry is not waited for."""
    sender = InboundEvent.payload["message"]["platform_user_id"].as_string()
    return list(db.session.scalars(
        select(InboundEvent.id).where(
            InboundEvent.state == "pending", InboundEvent.error.is_(None),
            InboundEvent.channel_kind == reporter.channel_kind,
            InboundEvent.received_at >= utcnow() - timedelta(seconds=WAIT_FOR_STORED_SECONDS),
            sender == reporter.platform_id)
        .order_by(InboundEvent.id)
    ))
