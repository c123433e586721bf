"""The outbox: every message to a resident is a row written in the transaction that causes it, sent after commit.

`queue_message` adds the row (and its line in the conversation log); once the transaction commits, the new
rows are handed to the background worker (`notify.send`, through `jobs.after_commit`; a rollback forgets them).
A cause that is processed twice uses the same idempotency key, so it queues one message. WhatsApp allows about one message per six seconds to the same
person: a message queued while an earlier one to that person still waits for its turn is added to it.
"""

from __future__ import annotations

from sqlalchemy import select

from meldingen import jobs
from meldingen.channels.adapters import find_adapter
from meldingen.extensions import db
from meldingen.notify.models import OutboundMessage
from meldingen.residents.models import Conversation, ConversationMessage, Reporter
from meldingen.timeutil import as_aware_utc, utcnow


def combines_replies(kind: str) -> bool:
    """Are messages waiting for their turn to the same person combined into one? The platform's adapter says."""
    adapter = find_adapter(kind)
    return adapter is not None and adapter.capabilities.combine_replies


# Replies that ask the resident for something about the draft: once the draft changes (or becomes a report)
# an unsent one would ask what the conversation has since answered, so it is dropped ("superseded").
QUESTION_KEYS = frozenset({
    "ask_location_and_description", "ask_location", "ask_description", "confirm_photo_location",
    "confirm_photo_location_and_description", "address_not_found", "ask_about_report", "ask_house_number",
    "address_number_not_found",
})  # fmt: skip


def queue_message(
    reporter: Reporter,
    body: str,
    *,
    key: str,
    conversation: Conversation | None = None,
    report_id: int | None = None,
    template_key: str | None = None,
    values: dict | None = None,
    buttons: list[dict] | None = None,
    location_request: bool = False,
    staff_id: int | None = None,
) -> OutboundMessage:
    """Write one message to `reporter` on their own channel; sent by the worker after the caller commits.

    `template_key` names the purpose (status_changed, report_made, …): outside WhatsApp's 24-hour window the
    approved template configured for that purpose is sent instead, with `values` as its parameters.
    `buttons` are [{"id", "title"}] choices; `location_request` asks for the location with the platform's button.
    """
    existing = db.session.scalar(select(OutboundMessage).where(OutboundMessage.idempotency_key == key))
    if existing is not None:
        return existing
    if conversation is None:
        conversation = latest_conversation(reporter)
    payload: dict = {"values": {k: v for k, v in (values or {}).items() if isinstance(v, (str, int, float))}}
    if buttons:
        payload["buttons"] = buttons
    if location_request:
        payload["location_request"] = True

    waiting = _waiting_message(reporter) if combines_replies(reporter.channel_kind) else None
    if waiting is not None and not (waiting.payload or {}).get("buttons") and not buttons:
        waiting.body = f"{waiting.body}\n\n{body}"
        merged = dict(waiting.payload or {})
        merged["combined_keys"] = [*merged.get("combined_keys", []), key]
        merged["location_request"] = bool(merged.get("location_request") or location_request)
        waiting.payload = merged
        outbound = waiting
    else:
        outbound = OutboundMessage(
            idempotency_key=key[:200],
            channel_kind=reporter.channel_kind,
            channel_id=reporter.channel_id,
            reporter_id=reporter.id,
            report_id=report_id,
            conversation_id=conversation.id if conversation is not None else None,
            template_key=template_key,
            body=body,
            payload=payload,
            state="queued",
            created_at=utcnow(),
        )
        db.session.add(outbound)
        db.session.flush()
        send_after_commit(outbound)
    if conversation is not None:
        db.session.add(ConversationMessage(
            conversation_id=conversation.id, direction="out", at=utcnow(), kind="text", text=body,
            data={"buttons": buttons} if buttons else {}, outbound_message_id=outbound.id, staff_id=staff_id,
        ))
    return outbound


def send_after_commit(message: OutboundMessage) -> None:
    """Hand the (flushed) row to the worker once the caller's transaction commits; nothing if it rolls back."""
    jobs.after_commit("notify.send", message_id=message.id)


def queue_text(reporter: Reporter, body: str, *, conversation: Conversation | None = None,
               idempotency_key: str, staff_id: int | None = None) -> OutboundMessage:
    """A free text from staff (the shared inbox) to the resident."""
    return queue_message(reporter, body, key=idempotency_key, conversation=conversation, template_key="staff_reply",
                         staff_id=staff_id)


def supersede_questions(conversation_id: int) -> int:
    """Drop the conversation's questions that have not been sent yet (queued, never tried); returns how many.

    A question combined with another message (WhatsApp pacing) is dropped only when all it holds are questions.
    """
    rows = db.session.scalars(
        select(OutboundMessage).where(OutboundMessage.conversation_id == conversation_id,
                                      OutboundMessage.state.in_(("queued", "held")),
                                      OutboundMessage.template_key.in_(QUESTION_KEYS))
    ).all()
    dropped = 0
    for row in rows:
        if row.state == "queued" and (row.attempts or 0) > 0:
            continue  # tried before: it may have reached the platform
        keys = [k.rpartition(":")[2] for k in (row.payload or {}).get("combined_keys", [])]
        if any(k not in QUESTION_KEYS for k in keys):
            continue
        row.state = "superseded"
        row.state_at = utcnow()
        row.last_error = "superseded: the conversation answered it before it was sent"
        dropped += 1
    if dropped:
        db.session.flush()
    return dropped


def release_held_messages(reporter: Reporter) -> int:
    """The resident wrote again, so WhatsApp's 24-hour window is open: messages held for it are sent after
    commit. Held questions are dropped instead: the draft they asked about has moved on."""
    rows = db.session.scalars(
        select(OutboundMessage).where(OutboundMessage.reporter_id == reporter.id, OutboundMessage.state == "held")
        .order_by(OutboundMessage.id)
    ).all()
    released = 0
    for row in rows:
        row.state_at = utcnow()
        if row.template_key in QUESTION_KEYS:
            row.state = "superseded"
            row.last_error = "superseded: held question, the resident wrote again"
            continue
        row.state = "queued"
        row.next_attempt_at = None
        row.last_error = None
        send_after_commit(row)
        released += 1
    if rows:
        db.session.flush()
        _unflag_waiting_conversations(reporter)
    return released


def _unflag_waiting_conversations(reporter: Reporter) -> None:
    """A conversation flagged only because a message was held needs no person once it is released."""
    for conversation in db.session.scalars(
            select(Conversation).where(Conversation.reporter_id == reporter.id, Conversation.needs_person.is_(True),
                                       Conversation.claimed_by_id.is_(None))):
        if (conversation.needs_person_reason or "").startswith("bericht wacht"):
            conversation.needs_person = False
            conversation.needs_person_reason = None
            conversation.needs_person_since = None


def latest_conversation(reporter: Reporter) -> Conversation | None:
    return db.session.scalar(
        select(Conversation).where(Conversation.reporter_id == reporter.id).order_by(Conversation.id.desc()).limit(1)
    )


def _waiting_message(reporter: Reporter) -> OutboundMessage | None:
    """A message to this person that has not been tried yet because it waits for its turn (pacing)."""
    now = utcnow()
    candidates = db.session.scalars(
        select(OutboundMessage).where(OutboundMessage.reporter_id == reporter.id, OutboundMessage.state == "queued",
                                      OutboundMessage.attempts == 0, OutboundMessage.next_attempt_at.is_not(None),
                                      OutboundMessage.body != "")  # a read receipt carries no text to add to
        .order_by(OutboundMessage.id.desc())
    )
    for message in candidates:
        if as_aware_utc(message.next_attempt_at) > now:
            return message
    return None
