"""Which report a resident's reply is about: a message sent as a reply to one of ours (WhatsApp `context.id`,
Telegram `reply_to_message`, Twilio `OriginalRepliedMessageSid`, Messenger `reply_to.mid`, a Signal quote;
the adapters put its platform id in `InboundMessage.context_id`) is about the report that message named."""

from __future__ import annotations

from sqlalchemy import select

from meldingen.extensions import db
from meldingen.notify.models import OutboundMessage
from meldingen.reports.models import Report
from meldingen.residents.models import Reporter

# Messages that name more than one report (the list of open reports) name none in particular.
_MANY_REPORTS = "status_open_reports"


def replied_report(reporter: Reporter, context_id: str | None) -> Report | None:
    """The report named by our message that this resident's message replies to; None when it replies to
    nothing, to a message of theirs, or to one of ours that named no single report."""
    if not context_id:
        return None
    outbound = db.session.scalar(
        select(OutboundMessage).where(OutboundMessage.platform_message_id == context_id[:200],
                                      OutboundMessage.reporter_id == reporter.id)
        .order_by(OutboundMessage.id.desc()).limit(1))
    if outbound is None or outbound.report_id is None:
        return None
    values = (outbound.payload or {}).get("values") or {}
    if outbound.template_key == _MANY_REPORTS and values.get("count") != 1:
        return None
    return db.session.get(Report, outbound.report_id)
