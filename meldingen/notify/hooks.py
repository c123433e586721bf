"""Residents hear of status changes: a message to every resident subscribed to the report, in its transaction.

Registered at import (the app imports this module at start): `meldingen.reports.services.STATUS_CHANGE_HOOKS`
calls `tell_subscribers` inside the transaction of the change, so the message is written with it or not at all.
"""

from __future__ import annotations

from sqlalchemy import select

from meldingen.extensions import db
from meldingen.notify.outbox import queue_message
from meldingen.notify.templates import render
from meldingen.reports.models import Report, ReportSubscription, Reporter, Status
from meldingen.reports.services import STATUS_CHANGE_HOOKS


def status_name(code: str, language: str) -> str:
    status = db.session.get(Status, code)
    if status is None:
        return code
    return status.name_en if language == "en" and status.name_en else status.name


def tell_subscribers(report: Report, previous: str | None, new_status: str, note: str | None) -> None:
    status = db.session.get(Status, new_status)
    if status is None or not status.notify_residents:
        return
    db.session.flush()  # the history entry of this change gets its id: one message per change and resident
    event_id = report.events[-1].id if report.events else f"{new_status}-{report.updated_at}"
    reporter_ids = db.session.scalars(
        select(ReportSubscription.reporter_id).where(ReportSubscription.report_id == report.id)
        .order_by(ReportSubscription.id)
    ).all()
    for reporter_id in reporter_ids:
        reporter = db.session.get(Reporter, reporter_id)
        if reporter is None or reporter.channel_kind not in ("whatsapp", "telegram", "twilio", "webchat"):
            continue
        language = reporter.language or "nl"
        values = {"reference": report.reference, "status": status_name(new_status, language)}
        note_line = render("note_line", language, report.organisation_id, note=note.strip()) if note and \
            note.strip() else ""
        body = render("status_changed", language, report.organisation_id, note=note_line, **values)
        queue_message(reporter, body, key=f"status:{event_id}:{reporter_id}", report_id=report.id,
                      template_key="status_changed", values={**values, "note": (note or "").strip()})


if tell_subscribers not in STATUS_CHANGE_HOOKS:
    STATUS_CHANGE_HOOKS.append(tell_subscribers)


# The intake's own hooks (its answer inside the report's transaction, its quiet-period timers) are registered
# at import; importing it here, at app start, keeps event listeners from being added while events are running.
import meldingen.intake.services  # noqa: E402,F401
