"""FixMyStreet's `servicerequestupdates` extension: the status changes of requests in a window, in public words.

An update says the status's public name and, where staff chose to send residents a message with the change
(`resident_message`), that message redacted as the public description is (privacy/public.py). The change's `note`
is internal, always: it is not even read here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from meldingen.categories.models import Category
from meldingen.extensions import db
from meldingen.open311.serialise import exact_w3c_datetime, w3c_datetime
from meldingen.open311.services import MAX_REQUESTS, WINDOW, Open311Error, optional_arg, parse_w3c_datetime
from meldingen.privacy.public import public_message
from meldingen.reports.models import Report, ReportEvent, Status
from meldingen.reports.statuses import load_open_codes
from meldingen.timeutil import utcnow

UPDATES_DEFAULT_WINDOW = timedelta(hours=24)


def update_description(status_name: str, message: str | None) -> str:
    """The public text of one status change: "Ingepland", or "Ingepland: <the message to residents, redacted>"."""
    return f"{status_name}: {message}" if message else status_name


def request_updates(values, now: datetime | None = None) -> list[dict]:
    """Status changes of reports between start_date and end_date (or after `updated_after`), oldest first, at most
    1000, as the extension's `request_update`: update_id, service_request_id, status (open/closed),
    updated_datetime, description (the status's public name, and the redacted message residents were sent with the
    change, if any), media_url (none: photos are staff-only) and external_status_code (our own status code)."""
    now = now or utcnow()
    start_text, end_text = optional_arg(values, "start_date"), optional_arg(values, "end_date")
    after_text = optional_arg(values, "updated_after")
    if after_text is not None:
        if start_text is not None or end_text is not None:
            raise Open311Error(400, "send updated_after, or start_date and end_date, not both")
        moment = parse_w3c_datetime(after_text, "updated_after")
        return _updates((ReportEvent.at > moment,), exact_times=True)
    if (start_text is None) != (end_text is None):
        raise Open311Error(400, "start_date and end_date must be sent together (or neither: the last 24 hours)")
    if start_text is None:
        start, end = now - UPDATES_DEFAULT_WINDOW, now
    else:
        start, end = parse_w3c_datetime(start_text, "start_date"), parse_w3c_datetime(end_text, "end_date")
    if start > end:
        raise Open311Error(400, "start_date is after end_date")
    if end - start > WINDOW:
        raise Open311Error(400, "start_date and end_date may not span more than 90 days")
    return _updates((ReportEvent.at >= start, ReportEvent.at <= end))


def _updates(window: tuple, exact_times: bool = False) -> list[dict]:
    """The updates in `window`. `exact_times` (asked with updated_after): updated_datetime to the microsecond, and
    a list cut at the cap never splits one moment, so the next question (updated_after = the last updated_datetime
    seen) neither misses nor repeats an update."""
    open_codes = load_open_codes()
    names: dict[str, str] = dict(db.session.execute(select(Status.code, Status.name)).all())
    rows = db.session.execute(
        select(ReportEvent.id, ReportEvent.at, ReportEvent.status, ReportEvent.resident_message, Report.reference,
               Report.category_id)
        .join(Report, Report.id == ReportEvent.report_id)
        .where(ReportEvent.kind == "status", *window)
        .order_by(ReportEvent.at, ReportEvent.id)
        .limit(MAX_REQUESTS + 1)
    ).all()
    if len(rows) > MAX_REQUESTS:
        first_left_out = rows[MAX_REQUESTS][1]
        rows = rows[:MAX_REQUESTS]
        if exact_times:
            rows = [r for r in rows if r[1] < first_left_out] or rows
    categories: dict[int | None, Category | None] = {None: None}
    updates = []
    for event_id, at, status, message, reference, category_id in rows:
        if category_id not in categories:
            categories[category_id] = db.session.get(Category, category_id)
        updates.append({
            "update_id": str(event_id),
            "service_request_id": reference,
            "status": "open" if status in open_codes else "closed",
            "updated_datetime": exact_w3c_datetime(at) if exact_times else w3c_datetime(at),
            "description": update_description(names.get(status or "", status or ""),
                                              public_message(message, categories[category_id])),
            "media_url": None,
            "external_status_code": status,
        })
    return updates
