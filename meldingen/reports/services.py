"""Report operations used by every surface: create through the pipeline, change status, record history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from meldingen.extensions import db
from meldingen.reports.deadlines import compute_deadline
from meldingen.reports.models import Report, ReportEvent
from meldingen.reports.references import new_reference
from meldingen.reports.statuses import load_status_table
from meldingen.timeutil import utcnow


class ReportInputError(ValueError):
    """Input a report cannot be made from, with a reason fit for a 400/422."""


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


def add_event(report: Report, kind: str, *, actor: str = "system", actor_id: int | None = None,
              status: str | None = None, from_status: str | None = None, note: str | None = None,
              data: dict | None = None) -> ReportEvent:
    event = ReportEvent(kind=kind, actor=actor, actor_id=actor_id, status=status, from_status=from_status,
                        note=note, data=data or {}, at=utcnow())
    report.events.append(event)
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


def create_report(new: NewReport) -> Report:
    """The pipeline: place → category → report → route → deadline → duplicates. Commits."""
    from meldingen.reports import pipeline

    return pipeline.run(new)


def _insert_with_unique_reference(report: Report) -> None:
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
    when given, goes to every resident who follows the report inside the status message (the hooks send it).
    """
    table = load_status_table()
    table.check(report.status, new_status, note)
    resident_message = (resident_message or "").strip() or None
    previous = report.status
    report.status = new_status
    report.updated_at = utcnow()
    report.closed_at = None if new_status in table.open_codes else utcnow()
    event = add_event(report, "status", actor=actor, actor_id=actor_id, status=new_status, from_status=previous,
                      note=note)
    event.resident_message = resident_message
    for hook in STATUS_CHANGE_HOOKS:
        hook(report, previous, new_status, resident_message)
    return event


# Called after a status change inside the same transaction as hook(report, previous, new_status,
# resident_message): the outbox tells subscribed residents. The internal note is never passed on.
STATUS_CHANGE_HOOKS: list = []


def get_report_by_reference(reference: str) -> Report | None:
    return db.session.scalar(select(Report).where(Report.reference == reference.upper()))


def change_category(report: Report, new_category, *, actor: str, actor_id: int | None = None,
                    staff_user=None, note: str | None = None) -> ReportEvent:
    """Staff set a report's category: kept as a training example, and the report is routed again.

    The organisation stays the one the point lies in; department and deadline follow the new category
    (through the routing rules, first match wins), so the right team gets it with the right handling time.
    """
    from meldingen.classify.services import record_category_correction
    from meldingen.geo.lookup import PlaceInfo
    from meldingen.privacy.public import refresh_public_description
    from meldingen.routing.services import apply_route, decide_route

    if new_category is None or new_category.parent_id is None:
        raise ReportInputError("choose a sub category")
    if not new_category.active:
        raise ReportInputError(f"category '{new_category.slug}' is not active")
    previous = report.category
    record_category_correction(report, new_category, staff_user)
    report.category = new_category
    report.category_confirmed = True
    report.updated_at = utcnow()
    refresh_public_description(report)  # a category about a person takes house numbers out too
    event = add_event(
        report, "category", actor=actor, actor_id=actor_id, note=note,
        data={"from": previous.slug if previous is not None else None, "to": new_category.slug},
    )
    if report.organisation is not None:
        place = PlaceInfo(lat=report.lat or 0.0, lon=report.lon or 0.0,
                          areas={"municipality": report.municipality_code, "district": report.district_code,
                                 "neighbourhood": report.neighbourhood_code},
                          organisation=report.organisation.code,
                          asset={"type": report.asset_type, "id": report.asset_external_id}
                          if report.asset_type else None)
        apply_route(report, decide_route(report, place, new_category), actor=actor)
    set_deadline(report)
    return event
