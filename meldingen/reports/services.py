"""A report's own operations: add a new one with a unique reference, change its status through the status table,
record its history, its deadline. Reports are made by `meldingen.pipeline` (the one way in), which uses
`insert_report`; what other packages do when a status changes is theirs, through `signals.status_changed`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from meldingen import signals
from meldingen.extensions import db
from meldingen.reports.deadlines import compute_deadline
from meldingen.reports.models import Report, ReportEvent
from meldingen.reports.references import new_reference
from meldingen.reports.statuses import load_status_table
from meldingen.timeutil import utcnow


class ReportInputError(ValueError):
    """Input a report cannot be made from, with a reason fit for a 400/422, and the field it is about (if any)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class OutsideServiceArea(Exception):
    """The point lies in a municipality that this service point does not serve (or outside the Netherlands)."""

    def __init__(self, municipality_code: str | None, municipality_name: str | None):
        self.municipality_code = municipality_code
        self.municipality_name = municipality_name
        where = municipality_name or "outside the Netherlands"
        super().__init__(f"this location ({where}) is not served here")

    @property
    def in_netherlands(self) -> bool:
        return self.municipality_code is not None


@dataclass
class NewReport:
    """What a report is made from, whatever the surface."""

    description: str
    channel: str
    lat: float | None = None
    lon: float | None = None
    address_text: str | None = None
    category_slug: str | None = None
    reporter_id: int | None = None
    actor: str = "system"
    actor_id: int | None = None
    photo_ids: list[int] = field(default_factory=list)
    created_at: datetime | None = None
    # The organisations (codes) the actor may make reports for; None: the place decides alone (a resident's chat).
    acting_for: frozenset[str] | None = None


class NotActingFor(Exception):
    """The point lies in an organisation's area that the actor does not work for."""

    def __init__(self, organisation: str):
        self.organisation = organisation
        super().__init__(f"this location belongs to {organisation}, which you do not make reports for")


def add_event(report: Report, kind: str, *, actor: str = "system", actor_id: int | None = None,
              status: str | None = None, from_status: str | None = None, note: str | None = None,
              data: dict | None = None) -> ReportEvent:
    """Write one entry of the report's history. Every change to a report writes one, so this is the one place
    its `updated_at` moves: what `GET /api/v1/reports?updated_after=` and Open311's updated_datetime read."""
    event = ReportEvent(kind=kind, actor=actor, actor_id=actor_id, status=status, from_status=from_status,
                        note=note, data=data or {}, at=utcnow())
    report.events.append(event)
    report.updated_at = event.at
    return event


def find_sub_category(slug: str):
    from meldingen.categories.models import Category

    return db.session.scalar(
        select(Category).where(Category.slug == slug, Category.parent_id.is_not(None)).order_by(Category.id)
    )


def handling_time(category, organisation) -> tuple[int | None, bool]:
    """The category's handling time, or the organisation's own where it set one."""
    from meldingen.categories.models import CategoryOverride

    if category is None:
        return None, False
    days, calendar = category.handling_days, category.calendar_days
    if organisation is not None:
        override = db.session.scalar(
            select(CategoryOverride).where(
                CategoryOverride.organisation_id == organisation.id, CategoryOverride.category_id == category.id
            )
        )
        if override is not None:
            if override.handling_days is not None:
                days = override.handling_days
            if override.calendar_days is not None:
                calendar = override.calendar_days
    return days, calendar


def set_deadline(report: Report) -> None:
    days, calendar = handling_time(report.category, report.organisation)
    settings = report.organisation.settings if report.organisation is not None else {}
    report.deadline = compute_deadline(report.created_at, days, calendar, settings)


def insert_report(report: Report) -> None:
    """Add a new report under a fresh unique reference (flushed: it has its id). A reference that happens to
    be taken already is drawn again."""
    for _ in range(5):
        report.reference = new_reference()
        try:
            with db.session.begin_nested():
                db.session.add(report)
                db.session.flush()
            return
        except IntegrityError:
            continue
    raise RuntimeError("could not allocate a unique reference")


def change_status(report: Report, new_status: str, note: str | None = None, *, actor: str = "system",
                  actor_id: int | None = None, resident_message: str | None = None) -> ReportEvent:
    """Move a report to another status if the status table allows it; raises TransitionRefused otherwise.

    `note` is internal (staff see it in the history; no resident or public output does). `resident_message`,
    when given, goes to every resident who follows the report inside the status message (`status_changed`'s
    receiver sends it, in this transaction). Does not commit.
    """
    table = load_status_table()
    table.check(report.status, new_status, note)
    resident_message = (resident_message or "").strip() or None
    previous = report.status
    report.status = new_status
    report.closed_at = None if new_status in table.open_codes else utcnow()
    event = add_event(report, "status", actor=actor, actor_id=actor_id, status=new_status, from_status=previous,
                      note=note)
    event.resident_message = resident_message
    # The internal note is never passed on.
    signals.status_changed.send(report, previous=previous, new_status=new_status,
                                resident_message=resident_message, actor=actor)
    return event


def get_report_by_reference(reference: str) -> Report | None:
    return db.session.scalar(select(Report).where(Report.reference == reference.upper()))
