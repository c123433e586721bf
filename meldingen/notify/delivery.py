"""What platforms report of the messages we sent (sent, delivered, read, failed), recorded on the outbox.

`channels` stores each receipt once and announces it (`signals.delivery_reported`); this module, connected in
`create_app`, moves the outbox row forward. A receipt also settles a send whose outcome was unknown. A watermark
receipt (Messenger's read and delivery: "everything up to this moment") covers every earlier message to that
resident on that platform.
"""

from __future__ import annotations

from sqlalchemy import select

from meldingen.channels.messages import DeliveryStatus
from meldingen.extensions import db
from meldingen.notify.models import OutboundMessage
from meldingen.residents.models import Reporter

# How far a sent message has come; a receipt only ever moves it forward (they can arrive out of order).
_PROGRESS = {"queued": 0, "held": 0, "sending": 1, "unknown": 1, "parked": 1, "sent": 2, "delivered": 3, "read": 4,
             "failed": 5}
_STATUS_TO_STATE = {
    "accepted": "queued", "scheduled": "queued", "queued": "queued", "sending": "sending", "sent": "sent",
    "delivered": "delivered", "read": "read", "partially_delivered": "delivered",
    "failed": "failed", "undelivered": "failed", "canceled": "failed",
}


def apply_status(status: DeliveryStatus) -> bool:
    """Record a receipt on the message we sent; False when we do not (yet) know that platform message id.

    A receipt also settles a send whose outcome was unknown (it timed out, or its worker died): "sent" or
    later means it landed, so it is never sent again; "failed" means it did not, so it is queued once more.
    """
    outbound = db.session.scalar(
        select(OutboundMessage).where(OutboundMessage.channel_kind == status.channel_kind,
                                      OutboundMessage.platform_message_id == status.platform_message_id)
    )
    if outbound is None:
        outbound = _by_reference(status)
        if outbound is None:
            return False
        if not outbound.platform_message_id:
            outbound.platform_message_id = status.platform_message_id[:200]
    state = _STATUS_TO_STATE.get(status.status)
    if state is None:
        return True
    if state == "failed" and outbound.state in ("unknown", "sending", "parked") and outbound.sent_at is None:
        outbound.state = "queued"  # it did not land: one more try, by the sweep or now
        outbound.next_attempt_at = status.at
        outbound.parked_at = None
        outbound.last_error = f"the platform reports the earlier attempt failed: {status.error or status.status}"
        return True
    if state == "failed":
        if outbound.state in ("delivered", "read"):
            return True
        outbound.last_error = status.error or status.status
    elif _PROGRESS.get(state, 0) <= _PROGRESS.get(outbound.state, 0):
        return True
    if state in ("sent", "delivered", "read") and outbound.sent_at is None:
        outbound.sent_at = status.at
        outbound.parked_at = None
    outbound.state = state
    outbound.state_at = status.at
    return True


def _by_reference(status: DeliveryStatus) -> OutboundMessage | None:
    """The outbox row named by our own reference ("outbox:<id>") echoed in the receipt."""
    reference = status.reference or ""
    if not reference.startswith("outbox:") or not reference[len("outbox:"):].isdigit():
        return None
    outbound = db.session.get(OutboundMessage, int(reference[len("outbox:"):]))
    if outbound is None or outbound.channel_kind != status.channel_kind:
        return None
    return outbound


def apply_watermark(status: DeliveryStatus) -> int:
    """Apply a watermark receipt to each of our messages to its resident sent at or before it and not yet at its
    state; returns how many it moved."""
    earlier = ("sent",) if status.status == "delivered" else ("sent", "delivered")
    mids = list(db.session.scalars(
        select(OutboundMessage.platform_message_id)
        .join(Reporter, Reporter.id == OutboundMessage.reporter_id)
        .where(OutboundMessage.channel_kind == status.channel_kind, Reporter.channel_kind == status.channel_kind,
               Reporter.platform_id == status.covers_earlier_to, OutboundMessage.state.in_(earlier),
               OutboundMessage.platform_message_id.is_not(None), OutboundMessage.sent_at <= status.at)
        .order_by(OutboundMessage.id).limit(200)
    ))
    for mid in mids:
        apply_status(DeliveryStatus(status.channel_kind, mid, status.status, status.at))
    return len(mids)


def record_receipt(status: DeliveryStatus) -> None:
    """The receiver of `signals.delivery_reported`: one receipt, or a watermark over earlier messages."""
    if status.covers_earlier_to:
        apply_watermark(status)
    else:
        apply_status(status)
