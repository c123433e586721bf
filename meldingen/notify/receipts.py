"""Read receipts: a WhatsApp message is marked read once the service has processed it.

Meta: `POST /{phone-number-id}/messages {"messaging_product": "whatsapp", "status": "read", "message_id": …}`;
the resident sees the blue ticks only when we have really taken their message in. The receipt is an outbox
row like any message (same claim, same worker, same sweep), with three differences: its idempotency key is the
message it marks (`read:whatsapp:<wamid>`), so a message processed twice is marked once; it does not count for
pacing, is never combined with a text and never held for the 24-hour window (it is not a message); and when it
fails it is simply "failed", never retried for long and never a reason to call in a person.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from meldingen.channels.messages import InboundMessage
from meldingen.channels.models import OutboundMessage
from meldingen.extensions import db
from meldingen.notify.outbox import _PENDING
from meldingen.reports.models import Reporter
from meldingen.timeutil import utcnow

log = logging.getLogger(__name__)

READ_RECEIPT = "read_receipt"  # the template_key that marks an outbox row as a read receipt
RECEIPT_KINDS = frozenset({"whatsapp"})
RECEIPT_TIMEOUT_SECONDS = 5.0  # a receipt is a courtesy: it must never hold a worker for long
RECEIPT_ATTEMPTS = 2


def is_read_receipt(message: OutboundMessage) -> bool:
    return message.template_key == READ_RECEIPT


def queue_read_receipt(message: InboundMessage, *, event=None, channel=None) -> OutboundMessage | None:
    """Queue "mark read" for a processed inbound message, in the caller's transaction; sent after commit.

    Answers the row, or None where the platform has no read receipts or the resident is unknown.
    """
    if message.channel_kind not in RECEIPT_KINDS or not message.external_id:
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
        payload={"read_receipt": {"message_id": message.external_id,
                                  "phone_number_id": message.channel_address}},
        state="queued", created_at=utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    db.session.info.setdefault(_PENDING, []).append(row.id)
    return row
