"""Read receipts: a resident's message is marked read once the service has processed it, where the platform
has read receipts (its adapter's `read_receipt` and `mark_read`; WhatsApp's blue ticks).

The resident sees the ticks only when we have really taken their message in. The receipt is an outbox
row like any message (same claim, same worker, same sweep), with three differences: its idempotency key is the
message it marks (`read:<kind>:<message id>`), so a message processed twice is marked once; it does not count for
pacing, is never combined with a text and never held for the 24-hour window (it is not a message); and when it
fails it is simply "failed", never retried for long and never a reason to call in a person.
"""

from __future__ import annotations

import logging

from sqlalchemy import or_, select, update

from meldingen.channels.adapters import find_adapter
from meldingen.channels.messages import InboundMessage
from meldingen.extensions import db
from meldingen.notify.models import OutboundMessage
from meldingen.notify.outbox import send_after_commit
from meldingen.residents.models import Reporter
from meldingen.timeutil import utcnow

log = logging.getLogger(__name__)

READ_RECEIPT = "read_receipt"  # the template_key that marks an outbox row as a read receipt
RECEIPT_TIMEOUT_SECONDS = 5.0  # a receipt is a courtesy: it must never hold a worker for long
RECEIPT_ATTEMPTS = 2


def is_read_receipt(message: OutboundMessage) -> bool:
    return message.template_key == READ_RECEIPT


def not_a_read_receipt():
    """SQL condition: the outbox row is a message (not a read receipt). For the stuck list and for counts of
    what residents are told: a receipt is never work for a person."""
    return or_(OutboundMessage.template_key.is_(None), OutboundMessage.template_key != READ_RECEIPT)


def drop_unknown_receipt(message: OutboundMessage, now, reason: str) -> str:
    """A receipt whose outcome is unknown (its call timed out, or its worker died during it) is simply failed,
    quietly: it is never "unknown" or "parked", never settled, never sent again and never on the stuck list.
    Flushed; the sending task commits."""
    db.session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == message.id, OutboundMessage.state.in_(("sending", "unknown", "parked")))
        .values(state="failed", state_at=now, last_error=reason[:2000], next_attempt_at=None, parked_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(message)
    log.info("read receipt %s dropped: %s", message.id, reason)
    return message.state


def queue_read_receipt(message: InboundMessage, *, event=None, channel=None) -> OutboundMessage | None:
    """Queue "mark read" for a processed inbound message, in the caller's transaction; sent after commit.

    Answers the row, or None where the platform has no read receipts or the resident is unknown.
    """
    adapter = find_adapter(message.channel_kind)
    receipt = adapter.read_receipt(message) if adapter is not None else None
    if receipt is None or not message.external_id:
        return None
    key = f"read:{message.channel_kind}:{message.external_id}"[:200]
    existing = db.session.scalar(select(OutboundMessage).where(OutboundMessage.idempotency_key == key))
    if existing is not None:
        return existing
    reporter = db.session.scalar(select(Reporter).where(Reporter.channel_kind == message.channel_kind,
                                                        Reporter.platform_id == message.platform_user_id))
    if reporter is None:
        return None
    row = OutboundMessage(
        idempotency_key=key, channel_kind=message.channel_kind,
        channel_id=getattr(channel, "channel_id", None) or reporter.channel_id, reporter_id=reporter.id,
        template_key=READ_RECEIPT, body="",
        payload={"read_receipt": receipt},
        state="queued", created_at=utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    send_after_commit(row)
    return row
