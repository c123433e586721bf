"""Store what a platform delivered, once: raw events keyed per channel; receipts announced to the outbox.

The unique key (channel kind, external key) is enforced by the database with INSERT … ON CONFLICT DO NOTHING,
so a redelivery — even one arriving in the same instant on another thread or process — inserts nothing.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

from meldingen.channels.messages import (
    InboundMessage,
    ParsedWebhook,
    UnreadableItem,
)
from meldingen.channels.models import InboundEvent
from meldingen.extensions import db
from meldingen.inputs.text import LIMITS, bounded_text
from meldingen.signals import delivery_reported
from meldingen.timeutil import utcnow

log = logging.getLogger(__name__)

def insert_event(channel_kind: str, external_key: str, channel_id: int | None, payload: dict,
                 state: str = "pending", error: str | None = None) -> int | None:
    """Insert one raw event; its id, or None when this key was stored before."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = (
        insert(InboundEvent)
        .values(channel_kind=channel_kind, external_key=external_key[:200], channel_id=channel_id,
                payload=payload, state=state, error=error, received_at=utcnow())
        .on_conflict_do_nothing(index_elements=["channel_kind", "external_key"])
        .returning(InboundEvent.id)
    )
    return db.session.execute(statement).scalar()


def record_delivery(
    parsed: ParsedWebhook,
    *,
    channel_for: Callable[[InboundMessage], int | None],
    message_key: Callable[[InboundMessage], str] = lambda m: m.external_id,
    raw: dict | None = None,
    unreadable_key: Callable[[UnreadableItem], str] = lambda u: u.event_key,
) -> list[int]:
    """Store each message and receipt of one delivery and apply the receipts; returns the new message events.

    The caller commits, then enqueues the returned events. `raw` (the platform's own body) is kept with the
    event when the delivery holds a single item; a batch keeps only the normalised items. Items that could
    not be read are stored raw with their reason, in state "unreadable", and never processed.
    """
    for item in parsed.unreadable:
        if insert_event(item.channel_kind, unreadable_key(item), None, item.to_dict(), state="unreadable",
                        error=item.reason) is not None:
            log.warning("%s delivery: one item could not be read and was skipped: %s", item.channel_kind,
                        item.reason)
    single = len(parsed.messages) + len(parsed.statuses) == 1
    new_ids = []
    for message in parsed.messages:
        message = normalised_message(message)
        if message is None:
            continue
        payload = {"message": message.to_dict()}
        if single and raw is not None:
            payload["raw"] = raw
        event_id = insert_event(message.channel_kind, message_key(message), channel_for(message), payload)
        if event_id is None:
            log.info("%s message %s seen before; ignored", message.channel_kind, message.external_id)
        else:
            new_ids.append(event_id)
    for status in parsed.statuses:
        payload = {"status": status.to_dict()}
        if single and raw is not None:
            payload["raw"] = raw
        if insert_event(status.channel_kind, status.event_key, None, payload, state="done") is not None:
            delivery_reported.send(status)  # the outbox records it (notify/delivery.py)
    return new_ids


_ID_FIELDS = ("external_id", "platform_user_id", "channel_address", "reply_id", "context_id", "callback_query_id",
              "media_group_id")
_TEXT_FIELDS = {"text": "description", "display_name": "name", "reply_title": "name"}


def normalised_message(message: InboundMessage) -> InboundMessage | None:
    """The message with its texts cleaned and cut to their limits; None (logged, not stored) when one of its ids
    is longer than any platform makes them, so that nothing is acknowledged that processing cannot handle."""
    for name in _ID_FIELDS:
        value = getattr(message, name)
        if isinstance(value, str) and len(value) > LIMITS["platform_id"]:
            log.warning("%s message skipped: %s is %d characters long", message.channel_kind, name, len(value))
            return None
    changes = {name: bounded_text(getattr(message, name), name, kind, truncate=True)
               for name, kind in _TEXT_FIELDS.items() if isinstance(getattr(message, name), str)}
    return dataclasses.replace(message, **changes) if changes else message
