"""The stuck list: background work that kept failing and now waits for a person, and what a person can do.

Three kinds of work can be parked: an inbound event the channels worker could not process, an outbox
message that could not be sent (or whose outcome only a person can judge), and a conversation whose draft
could not be turned into a report. Nothing is retried forever and nothing is dropped silently: each stays
here, with its reason, until an administrator retries it (from the start, with fresh attempts) or dismisses
it. Functions over plain data and the session; the staff page (`staff/views/stuck.py`) only calls them and
commits (a retry hands its work to the workers after that commit: `RestartedWork.enqueue`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from meldingen import jobs
from meldingen.channels.models import Channel, InboundEvent
from meldingen.extensions import db
from meldingen.notify import receipts
from meldingen.notify.models import OutboundMessage
from meldingen.residents.models import Conversation
from meldingen.timeutil import utcnow

log = logging.getLogger(__name__)

KINDS = ("inbound", "outbound", "conversation")
OUTBOUND_STUCK_STATES = ("parked", "failed")

# What staff read: why the work is here, in plain Dutch (the technical reason is shown beside it).
EXPLANATIONS = {
    ("inbound", "parked"): "Een binnengekomen bericht kon na herhaalde pogingen niet worden verwerkt.",
    ("outbound", "failed"): "Het platform weigerde dit bericht aan de melder.",
    ("outbound", "parked"): "Dit bericht aan de melder is na herhaalde pogingen niet verstuurd.",
    ("outbound", "unknown"): "Onbekend of dit bericht is aangekomen: het platform antwoordde niet op tijd en gaf "
                             "geen bevestiging. Kijk in het gesprek; verstuur het opnieuw of sluit het af.",
    ("conversation", "parked"): "Van dit gesprek kon na herhaalde pogingen geen melding worden gemaakt.",
}


@dataclass(frozen=True)
class StuckItem:
    kind: str  # inbound | outbound | conversation
    id: int
    channel_kind: str
    since: datetime | None
    attempts: int
    reason: str
    explanation: str
    conversation_id: int | None
    preview: str


def stuck_items(organisation_ids: list[int] | None, limit: int = 500) -> list[StuckItem]:
    """Everything parked, oldest first. `organisation_ids` None: all (the service point's administrators);
    else only work tied to those organisations (through its channel or its conversation)."""
    items: list[StuckItem] = []
    events = select(InboundEvent).where(InboundEvent.state == "parked")
    if organisation_ids is not None:
        events = events.join(Channel, Channel.id == InboundEvent.channel_id).where(
            Channel.organisation_id.in_(organisation_ids))
    for event in db.session.scalars(events.order_by(InboundEvent.parked_at).limit(limit)):
        message = (event.payload or {}).get("message") or {}
        items.append(StuckItem("inbound", event.id, event.channel_kind, event.parked_at, event.attempts or 0,
                               event.error or "", EXPLANATIONS[("inbound", "parked")], None,
                               _short(message.get("text") or message.get("kind") or "")))
    # A read receipt that failed is no work for a person (see notify/receipts.py): never on this list.
    outbound = select(OutboundMessage).where(OutboundMessage.state.in_(OUTBOUND_STUCK_STATES),
                                             receipts.not_a_read_receipt())
    if organisation_ids is not None:
        outbound = outbound.join(Conversation, Conversation.id == OutboundMessage.conversation_id).where(
            Conversation.organisation_id.in_(organisation_ids))
    for message in db.session.scalars(outbound.order_by(OutboundMessage.state_at).limit(limit)):
        unknown = bool((message.payload or {}).get("outcome_unknown"))
        explanation = EXPLANATIONS[("outbound", "unknown" if unknown else message.state)]
        items.append(StuckItem("outbound", message.id, message.channel_kind, message.parked_at or message.state_at,
                               message.attempts or 0, message.last_error or "", explanation,
                               message.conversation_id, _short(message.body)))
    conversations = select(Conversation).where(Conversation.parked_at.is_not(None))
    if organisation_ids is not None:
        conversations = conversations.where(Conversation.organisation_id.in_(organisation_ids))
    for conversation in db.session.scalars(conversations.order_by(Conversation.parked_at).limit(limit)):
        description = " ".join((conversation.draft or {}).get("description") or [])
        items.append(StuckItem("conversation", conversation.id, conversation.channel_kind, conversation.parked_at,
                               conversation.act_attempts or 0, conversation.act_error or "",
                               EXPLANATIONS[("conversation", "parked")], conversation.id, _short(description)))
    return sorted(items, key=lambda item: (item.since is None, item.since))


@dataclass(frozen=True)
class RestartedWork:
    """Work a retry made ready again: the task that does it, to be enqueued once the retry is committed (a worker
    that ran it earlier would still find the work parked)."""

    task: str
    kwargs: dict = field(default_factory=dict)

    def enqueue(self) -> None:
        jobs.enqueue(self.task, **self.kwargs)


def retry(kind: str, item_id: int, staff_email: str) -> RestartedWork | None:
    """Make the work ready again with fresh attempts (flushed); None when it is not (or no longer) stuck. The
    caller commits, then enqueues the returned work."""
    now = utcnow()
    if kind == "inbound":
        event = db.session.get(InboundEvent, item_id)
        if event is None or event.state != "parked":
            return None
        event.state, event.attempts, event.next_attempt_at, event.parked_at = "pending", 0, None, None
        task, kwargs = "channels.process_event", {"event_id": item_id}
    elif kind == "outbound":
        message = db.session.get(OutboundMessage, item_id)
        if message is None or message.state not in OUTBOUND_STUCK_STATES or receipts.is_read_receipt(message):
            return None
        message.state, message.attempts, message.next_attempt_at, message.parked_at = "queued", 0, now, None
        message.state_at = now
        message.payload = {k: v for k, v in (message.payload or {}).items()
                           if k not in ("unknown_checks", "outcome_unknown")}
        task, kwargs = "notify.send", {"message_id": item_id}
    elif kind == "conversation":
        conversation = db.session.get(Conversation, item_id)
        if conversation is None or conversation.parked_at is None:
            return None
        conversation.parked_at, conversation.act_attempts, conversation.act_after = None, 0, now
        task, kwargs = "intake.act", {"conversation_id": item_id}
    else:
        return None
    db.session.flush()
    log.info("stuck %s %s retried by %s", kind, item_id, staff_email)
    return RestartedWork(task, kwargs)


def dismiss(kind: str, item_id: int, staff_email: str) -> bool:
    """A person has dealt with it (or decided it needs nothing more): off the list, kept in the database. Flushes;
    False when it is not (or no longer) stuck."""
    if kind == "inbound":
        event = db.session.get(InboundEvent, item_id)
        if event is None or event.state != "parked":
            return False
        event.state = "dismissed"
    elif kind == "outbound":
        message = db.session.get(OutboundMessage, item_id)
        if message is None or message.state not in OUTBOUND_STUCK_STATES or receipts.is_read_receipt(message):
            return False
        message.state = "dismissed"
        message.state_at = utcnow()
    elif kind == "conversation":
        conversation = db.session.get(Conversation, item_id)
        if conversation is None or conversation.parked_at is None:
            return False
        conversation.parked_at = None
        conversation.act_after = None
    else:
        return False
    db.session.flush()
    log.info("stuck %s %s dismissed by %s", kind, item_id, staff_email)
    return True


def _short(text: str, length: int = 120) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= length else text[: length - 1] + "…"
