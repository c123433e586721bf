"""The shared inbox: conversations that need a person, claimed by one agent at a time, answered on the
resident's own channel without answering the same resident twice.

A claim is a conditional UPDATE (free, expired, or already ours) whose rowcount says who won, so two agents
clicking at once cannot both hold a conversation. A claim lapses after INBOX_CLAIM_SECONDS without activity.
A reply carries the id of the last message the agent saw; when the resident wrote since, it is refused.
Nothing here commits: the request that claims, releases or replies owns the transaction.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, or_, select, update

from meldingen.extensions import db
from meldingen.notify.outbox import queue_text
from meldingen.reports.access import visible_organisation_ids
from meldingen.residents.models import Conversation, ConversationMessage
from meldingen.timeutil import as_aware_utc, utcnow

DEFAULT_CLAIM_SECONDS = 600


class ReplyRefused(Exception):
    """A reply that may not go out, with the reason shown to the agent (Dutch)."""


def claim_seconds() -> int:
    return int(current_app.config.get("INBOX_CLAIM_SECONDS", DEFAULT_CLAIM_SECONDS))


def scope_conversations(query, staff):
    """Conversations of the staff member's organisations; unrouted ones belong to the service point."""
    condition = Conversation.organisation_id.in_(visible_organisation_ids(staff))
    if staff.organisation is not None and staff.organisation.kind == "service_point":
        condition = or_(condition, Conversation.organisation_id.is_(None))
    return query.where(condition)


def visible_conversation(staff, conversation_id: int) -> Conversation | None:
    return db.session.scalar(scope_conversations(select(Conversation).where(Conversation.id == conversation_id),
                                                 staff))


def waiting_conversations(staff, limit: int = 200) -> list[Conversation]:
    """Conversations that need a person, newest waiting first."""
    query = scope_conversations(select(Conversation).where(Conversation.needs_person.is_(True)), staff)
    waiting_since = func.coalesce(Conversation.needs_person_since, Conversation.updated_at)
    return db.session.scalars(query.order_by(waiting_since.desc(), Conversation.id.desc()).limit(limit)).all()


def claim_is_live(conversation: Conversation, now=None) -> bool:
    now = now or utcnow()
    return (conversation.claimed_by_id is not None and conversation.claimed_at is not None
            and as_aware_utc(conversation.claimed_at) > now - timedelta(seconds=claim_seconds()))


def holder_id(conversation: Conversation, now=None) -> int | None:
    """Who holds the conversation now (an expired claim holds nothing)."""
    return conversation.claimed_by_id if claim_is_live(conversation, now) else None


def claim_conversation(conversation_id: int, staff, now=None) -> bool:
    """Take the conversation if it is free, its claim expired, or it is already ours; True if we hold it.

    The UPDATE is executed at once (on PostgreSQL it holds the row until the caller commits)."""
    now = now or utcnow()
    expired = now - timedelta(seconds=claim_seconds())
    result = db.session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id,
               or_(Conversation.claimed_by_id.is_(None), Conversation.claimed_by_id == staff.id,
                   Conversation.claimed_at.is_(None), Conversation.claimed_at < expired))
        .values(claimed_by_id=staff.id, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def release_conversation(conversation_id: int, staff) -> bool:
    """Let go of our own claim; True if we held it."""
    result = db.session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.claimed_by_id == staff.id)
        .values(claimed_by_id=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def release_expired_claims(now=None) -> int:
    """Clear claims without activity for INBOX_CLAIM_SECONDS (also done implicitly by `claim_conversation`)."""
    now = now or utcnow()
    result = db.session.execute(
        update(Conversation)
        .where(Conversation.claimed_by_id.is_not(None),
               Conversation.claimed_at < now - timedelta(seconds=claim_seconds()))
        .values(claimed_by_id=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def last_message_id(conversation_id: int) -> int:
    return db.session.scalar(select(func.coalesce(func.max(ConversationMessage.id), 0))
                             .where(ConversationMessage.conversation_id == conversation_id))


def reply_to_conversation(conversation: Conversation, staff, body: str, last_seen_message_id: int,
                          resolved: bool = False, now=None) -> ConversationMessage:
    """Queue `body` to the resident on their channel, if we hold the conversation and saw its latest message.

    Raises ReplyRefused otherwise. Keeps the claim alive (activity), or ends it when `resolved`. Flushes; the
    caller commits (and rolls back after a refusal).
    """
    now = now or utcnow()
    body = (body or "").strip()
    if not body:
        raise ReplyRefused("Schrijf eerst een antwoord.")
    if len(body) > 4000:
        raise ReplyRefused("Het antwoord is te lang (maximaal 4000 tekens).")
    # Lock the row on PostgreSQL so a claim and a reply cannot interleave; SQLite serialises writers anyway.
    db.session.refresh(conversation, with_for_update=db.session.get_bind().dialect.name == "postgresql")
    holder = holder_id(conversation, now)
    if holder != staff.id:
        if holder is None:
            raise ReplyRefused("Neem het gesprek eerst in behandeling.")
        raise ReplyRefused("Een collega heeft dit gesprek in behandeling; uw antwoord is niet verstuurd.")
    newer = db.session.scalar(
        select(func.count()).select_from(ConversationMessage).where(
            ConversationMessage.conversation_id == conversation.id, ConversationMessage.id > last_seen_message_id,
            ConversationMessage.direction == "in")
    )
    if newer:
        raise ReplyRefused("De melder heeft intussen nieuwe berichten gestuurd; lees die eerst. "
                           "Uw antwoord is niet verstuurd.")
    # The same text after the same last-seen message is the same reply (a double click): one key, one message.
    digest = hashlib.sha256(body.encode()).hexdigest()[:16]
    key = f"inbox-reply-{conversation.id}-{last_seen_message_id}-{digest}"
    message = queue_reply_to_reporter(conversation, body, key=key, staff_id=staff.id)
    conversation.claimed_at = now
    conversation.version = (conversation.version or 0) + 1
    if resolved:
        conversation.needs_person = False
        conversation.claimed_by_id = None
        conversation.claimed_at = None
    db.session.flush()
    return message


def queue_reply_to_reporter(conversation: Conversation, body: str, key: str, staff_id: int) -> ConversationMessage:
    """The seam to the outbox: a free-text message to the conversation's resident on its own channel, and the
    conversation's record of it. `meldingen.notify.outbox.queue_text` writes both (the record is written here
    when the outbox did not)."""
    outbound = queue_text(conversation.reporter, body, conversation=conversation, idempotency_key=key,
                          staff_id=staff_id)
    db.session.flush()
    recorded = db.session.scalar(select(ConversationMessage).where(
        ConversationMessage.outbound_message_id == outbound.id).order_by(ConversationMessage.id.desc()).limit(1))
    if recorded is not None:
        return recorded
    message = ConversationMessage(conversation_id=conversation.id, direction="out", at=utcnow(), kind="text",
                                  text=body, staff_id=staff_id, outbound_message_id=outbound.id)
    db.session.add(message)
    db.session.flush()
    return message


# --- what the agent sees: previews, new messages, photos ----------------------------------------------------

def last_resident_messages(conversation_ids) -> dict[int, ConversationMessage]:
    """Per conversation, the resident's own last message (not the bot's text): the inbox preview."""
    ids = list(conversation_ids)
    if not ids:
        return {}
    latest = (select(func.max(ConversationMessage.id))
              .where(ConversationMessage.conversation_id.in_(ids), ConversationMessage.direction == "in")
              .group_by(ConversationMessage.conversation_id))
    rows = db.session.scalars(select(ConversationMessage).where(ConversationMessage.id.in_(latest)))
    return {m.conversation_id: m for m in rows}


def messages_after(conversation: Conversation, after_id: int, limit: int = 100) -> list[ConversationMessage]:
    return db.session.scalars(select(ConversationMessage).where(
        ConversationMessage.conversation_id == conversation.id, ConversationMessage.id > after_id)
        .order_by(ConversationMessage.id).limit(limit)).all()


def photos_of(messages) -> dict:
    """The stored photos the messages refer to, by id (shown as pictures, not as "[photo]")."""
    from meldingen.media.models import Photo

    ids = {int(i) for m in messages for i in (m.data or {}).get("photo_ids", []) if str(i).isdigit()}
    if not ids:
        return {}
    return {p.id: p for p in db.session.scalars(select(Photo).where(Photo.id.in_(ids)))}


def preview_text(message: ConversationMessage | None) -> str:
    """One line for the inbox list: the words, or what was sent where there are none."""
    if message is None:
        return ""
    data = message.data or {}
    parts = []
    if data.get("photo_ids") or message.kind in ("photo", "image"):
        parts.append("Foto")
    if data.get("location") or message.kind == "location":
        parts.append("Locatie gedeeld")
    if message.text:
        parts.append(message.text)
    elif not parts:
        parts.append(f"bericht dat hier niet te tonen is ({data['unsupported']})" if data.get("unsupported")
                     else f"[{message.kind}]")
    return " · ".join(parts)


def place_names(messages) -> dict[int, str]:
    """{message id: the place a resident shared, in words}: the nearest address ("Westerdoksdijk 40A,
    Amsterdam", "ongeveer 30 m" when not on the spot), else the neighbourhood and municipality; a place with
    neither (outside the areas known) is left out, and the page shows its coordinates."""
    from meldingen.geo.lookup import InvalidPoint, lookup_point

    names: dict[int, str] = {}
    for message in messages:
        location = (message.data or {}).get("location")
        if not isinstance(location, dict) or location.get("lat") is None or location.get("lon") is None:
            continue
        try:
            place = lookup_point(location["lat"], location["lon"], asset_types=[], asset_max_m=0)
        except InvalidPoint:
            continue
        names_of_areas = [place.area_names.get(level) for level in ("neighbourhood", "municipality")]
        address = place.address
        if address and address.get("street"):
            words = " ".join(str(p) for p in (address["street"], address.get("number")) if p)
            city = address.get("city") or place.area_names.get("municipality")
            words += f", {city}" if city else ""
            distance = address.get("distance_m")
            if distance is not None and distance >= 15:
                words += f" (ongeveer {round(distance)} m ervandaan)"
            names[message.id] = words
        elif any(names_of_areas):
            names[message.id] = "in " + ", ".join(n for n in names_of_areas if n)
    return names
