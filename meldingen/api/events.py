"""Report events for subscribed systems, as the API shows the report: the receivers of the domain's signals that
write them (connected in `register_reactions`), in the transaction of the change.

An event carries `{"type", "timestamp", "data": {"report": …}}`: the report as its organisation's staff get it from
`GET /api/v1/reports/{reference}` (subscriptions see only their own organisation's reports; subscriptions/
services.py), except that the history's internal `note` is left out: it is for staff, never for another system.
No resident identifier is in the API's report to begin with (no platform id, no name, no phone number of the
reporter). Photo URLs are those of the API, served only with a token of that organisation.
"""

from __future__ import annotations

from flask import current_app, has_request_context, url_for

from meldingen.api.schemas import report_to_dict
from meldingen.subscriptions.services import drop_pending, record_event


def _photo_url(photo, thumbnail: bool) -> str:
    values = {"token": photo.token, "thumbnail": 1 if thumbnail else None}
    if has_request_context():
        return url_for("media.photo", **values, _external=True)
    base = (current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    path = current_app.url_map.bind("localhost").build("media.photo", {k: v for k, v in values.items() if v})
    return base + path


def event_report(report) -> dict:
    """The report for an event: the API's view without internal notes."""
    try:
        shown = report_to_dict(report, photo_url=_photo_url)
    except Exception as exc:  # an app without the media blueprint (a minimal app): no photo URLs
        if "media.photo" not in str(exc):
            raise
        shown = report_to_dict(report)
    for entry in shown["history"]:
        entry.pop("note", None)
    return shown


def on_report_created(report, new=None, **_) -> None:
    # A report merged into a known one while it was made changed status ("duplicate") on the way: the created
    # event shows that, so the status event of the same transaction is not sent as well.
    drop_pending(report.id, "report.status_changed")
    record_event(report, "report.created", lambda: {"report": event_report(report)})


def on_status_changed(report, previous=None, new_status=None, **_) -> None:
    record_event(report, "report.status_changed",
                 lambda: {"report": event_report(report), "previous_status": previous})


def on_report_merged(report, duplicate=None, **_) -> None:
    record_event(report, "report.merged", lambda: {
        "report": event_report(report), "duplicate": duplicate.reference if duplicate is not None else None})


def on_category_changed(report, previous=None, **_) -> None:
    record_event(report, "report.category_changed", lambda: {
        "report": event_report(report), "previous_category": previous.slug if previous is not None else None})
