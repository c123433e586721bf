"""Residents hear of status changes: a message to every resident subscribed to the report, in its transaction.

`tell_subscribers` receives `signals.status_changed` (connected by the app factory, `register_reactions`),
inside the transaction of the change, so the message is written with it or not at all.
"""

from __future__ import annotations

from sqlalchemy import select

from meldingen.channels.adapters import find_adapter
from meldingen.extensions import db
from meldingen.notify.outbox import queue_message
from meldingen.notify.templates import render
from meldingen.reports.models import Report, ReportSubscription, Status
from meldingen.residents.models import Reporter


def status_name(code: str, language: str) -> str:
    status = db.session.get(Status, code)
    if status is None:
        return code
    return status.name_en if language == "en" and status.name_en else status.name


def status_message(report: Report, new_status: str, resident_message: str | None, language: str) -> str:
    """The exact text a resident gets for this status change: the status template with the staff's message."""
    message = (resident_message or "").strip()
    values = {"reference": report.reference, "status": status_name(new_status, language)}
    note_line = render("note_line", language, report.organisation_id, note=message) if message else ""
    return render("status_changed", language, report.organisation_id, note=note_line, **values)


def residents_told(report: Report, new_status: str, resident_message: str | None) -> bool:
    """Residents hear of a change into a status the table says they are told of, or when staff wrote to them."""
    status = db.session.get(Status, new_status)
    return status is not None and (status.notify_residents or bool((resident_message or "").strip()))


def subscribers(report: Report) -> list[Reporter]:
    """The residents who follow the report on a channel we can answer on, in the order they subscribed."""
    reporter_ids = db.session.scalars(
        select(ReportSubscription.reporter_id).where(ReportSubscription.report_id == report.id)
        .order_by(ReportSubscription.id)
    ).all()
    found = [db.session.get(Reporter, reporter_id) for reporter_id in reporter_ids]
    return [r for r in found if r is not None and find_adapter(r.channel_kind) is not None]


def preview_status_messages(report: Report, new_status: str, resident_message: str | None) -> list[dict]:
    """What the residents will get, per language: [{"language", "text", "residents"}], Dutch first (also with
    no subscribers, so staff always see the text)."""
    counts: dict[str, int] = {"nl": 0}
    for reporter in subscribers(report):
        language = reporter.language if reporter.language in ("nl", "en") else "nl"
        counts[language] = counts.get(language, 0) + 1
    return [{"language": language, "residents": count,
             "text": status_message(report, new_status, resident_message, language)}
            for language, count in counts.items()]


def tell_subscribers(report: Report, *, new_status: str, resident_message: str | None, **_: object) -> None:
    """The receiver of `signals.status_changed`: the status message to every subscriber, when they are told."""
    if not residents_told(report, new_status, resident_message):
        return
    db.session.flush()  # the history entry of this change gets its id: one message per change and resident
    event_id = report.events[-1].id if report.events else f"{new_status}-{report.updated_at}"
    message = (resident_message or "").strip()
    for reporter in subscribers(report):
        language = reporter.language or "nl"
        values = {"reference": report.reference, "status": status_name(new_status, language)}
        body = status_message(report, new_status, message, language)
        queue_message(reporter, body, key=f"status:{event_id}:{reporter.id}", report_id=report.id,
                      template_key="status_changed", values={**values, "note": message})
