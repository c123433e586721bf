"""The report pipeline shared by chat intake, API, Open311 and staff: place, category, route, deadline, dedup."""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from meldingen.db import begin_write
from meldingen.extensions import db
from meldingen.geo.crs import rd_point_ewkt
from meldingen.privacy.public import refresh_public_description
from meldingen.reports.models import Photo, Report, ReportSubscription
from meldingen.reports.services import (
    NewReport,
    OutsideServiceArea,
    ReportInputError,
    _insert_with_unique_reference,
    add_event,
    find_sub_category,
    set_deadline,
)
from meldingen.routing.services import apply_route, decide_route
from meldingen.timeutil import utcnow

log = logging.getLogger(__name__)

# Called with the new report after routing and the duplicates check, before commit (the intake plugs in here).
AFTER_CREATE_HOOKS: list = []


def resolve_place(new: NewReport):
    """The place of the report: from its point, or from a typed address; None when the address is unknown."""
    from meldingen.geo.lookup import InvalidPoint, lookup_point

    if new.lat is not None or new.lon is not None:
        prepared = db.session.info.get(_PREPARED, {}).pop(("place", new.lat, new.lon), None)
        if prepared is not None:
            return prepared
        try:
            return lookup_point(new.lat, new.lon)
        except InvalidPoint as exc:
            raise ReportInputError(str(exc)) from None
    if new.address_text:
        found = search_typed_address(new.address_text)
        if found is not None:
            return lookup_point(found["lat"], found["lon"])
        return None
    raise ReportInputError("a report needs a location or an address")


def search_typed_address(text: str) -> dict | None:
    """The best match for a typed address, or None (unknown, or the geocoder is unavailable)."""
    return resolve_typed_address(text)[0]


def resolve_typed_address(text: str) -> tuple[dict | None, bool]:
    """(best match or None, whether the geocoder was unavailable), remembered until the transaction ends.

    Callers that take a lock (the intake, the pipeline's write lock) call this first, before the lock: the
    same question asked again under the lock is answered from memory, so no network call (PDOK) is ever
    made while SQLite's write lock or a PostgreSQL row lock is held.
    """
    answers = db.session.info.setdefault(_ADDRESS_ANSWERS, {})
    if text in answers:
        return answers[text]
    from meldingen.geo.search import search

    outcome = search(text, limit=1)
    answer = (outcome.results[0] if outcome.results else None, outcome.geocoder == "unavailable")
    answers[text] = answer
    return answer


_ADDRESS_ANSWERS = "meldingen_typed_address_answers"
_PREPARED = "meldingen_prepared_report"


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_address_answers(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_ADDRESS_ANSWERS, None)
        session.info.pop(_PREPARED, None)


def prepare(lat, lon, description: str | None) -> None:
    """Work out a coming report's place and suggested category now, before the caller takes its lock.

    Both only read what changes a few times a year (areas, addresses, the model); the intake calls this before
    it takes SQLite's write lock (or the resident's row lock) to make a report, and the pipeline then takes
    these answers instead of computing them with the lock held, which every webhook's insert waits for.
    Remembered until the transaction ends; an input that changed in between is simply computed again."""
    from meldingen.geo.lookup import InvalidPoint, lookup_point

    prepared = db.session.info.setdefault(_PREPARED, {})
    if lat is not None and lon is not None:
        try:
            prepared[("place", lat, lon)] = lookup_point(lat, lon)
        except InvalidPoint:
            pass  # the pipeline says why, under the lock, as before
    text = (description or "").strip()
    if text:
        prepared[("category", text)] = _suggest(text)


def _suggest(text: str) -> dict | None:
    from meldingen.classify.services import suggest_categories

    suggestions = suggest_categories(text, k=1)
    return suggestions[0] if suggestions else None


def choose_category(new: NewReport):
    """The given category, else the classifier's best suggestion (confirmed only above the threshold)."""
    if new.category_slug:
        category = find_sub_category(new.category_slug)
        if category is None or not category.active:
            raise ReportInputError(f"unknown or inactive category '{new.category_slug}'")
        return category, None, True
    text = (new.description or "").strip()
    prepared = db.session.info.get(_PREPARED, {})
    key = ("category", text)
    suggestion = prepared.pop(key) if key in prepared else _suggest(text) if text else None
    if suggestion is not None:
        category = find_sub_category(suggestion["sub_slug"])
        if category is not None:
            confident = suggestion["confidence"] >= current_app.config["CLASSIFIER_THRESHOLD"]
            return category, suggestion["confidence"], confident
    return find_sub_category("overig"), None, False


def relevant_asset(place, category) -> dict | None:
    """The nearest registered object of a type this category is about (a street light for a broken light),
    or None when the category is not about registered objects."""
    from meldingen.geo.crs import to_rd
    from meldingen.geo.lookup import nearest_asset_rd

    types = list(category.asset_types or []) if category is not None else []
    if not types:
        return None
    x, y = to_rd(place.lon, place.lat)
    return nearest_asset_rd(x, y, float(current_app.config["ASSET_MAX_DISTANCE_M"]), types)


def _service_point_code() -> str | None:
    from meldingen.organisations.models import Organisation

    code = current_app.config.get("SERVICE_POINT")
    return db.session.scalar(select(Organisation.code).where(Organisation.code == code)) if code else None


def run(new: NewReport) -> Report:
    if not (new.description or "").strip() and not new.photo_ids:
        raise ReportInputError("a report needs a description or a photo")
    place = resolve_place(new)
    if place is not None and place.organisation is None:
        raise OutsideServiceArea(place.areas.get("municipality"), place.municipality_name)
    category, confidence, confirmed = choose_category(new)
    if place is not None:
        place.asset = relevant_asset(place, category)

    report = Report(
        description=(new.description or "").strip(),
        channel=new.channel,
        reporter_id=new.reporter_id,
        status="new",
        created_at=new.created_at or utcnow(),
        category=category,
        category_confidence=confidence,
        category_confirmed=confirmed,
        address_text=new.address_text,
        events=[],  # a new report has no history yet: appending must not first load it from the database
    )
    report.updated_at = report.created_at
    refresh_public_description(report)  # the public text is made, not copied
    if place is not None:
        report.lat, report.lon = place.lat, place.lon
        report.geom = rd_point_ewkt(place.lon, place.lat)
        report.municipality_code = place.areas.get("municipality")
        report.district_code = place.areas.get("district")
        report.neighbourhood_code = place.areas.get("neighbourhood")
        if place.address:
            report.address_street = place.address.get("street")
            report.address_number = place.address.get("number")
            report.address_postcode = place.address.get("postcode")
            report.address_city = place.address.get("city")
            report.address_distance_m = place.address.get("distance_m")
        if place.asset:
            report.asset_type = place.asset.get("type")
            report.asset_external_id = place.asset.get("id")
    else:
        report.address_unknown = True
    begin_write(db.session)  # SQLite: one writer at a time from here, so duplicate checks see every report
    _insert_with_unique_reference(report)
    add_event(report, "created", actor=new.actor, actor_id=new.actor_id, status="new",
              note=None, data={"channel": new.channel, "category_confidence": confidence})

    # Routing and the deadline only read rules, organisations and categories: the report's own changes are
    # written once, before the duplicates check reads other reports, not flushed before each small query.
    with db.session.no_autoflush:
        if place is not None:
            decision = decide_route(report, place, category)
        else:
            from meldingen.routing.services import fallback_decision

            decision = fallback_decision(_service_point_code(), category)
            decision.reason = "address unknown: to the service point for a person to place it"
        apply_route(report, decision)
        set_deadline(report)
    db.session.flush()

    if new.photo_ids:
        for photo in db.session.scalars(select(Photo).where(Photo.id.in_(new.photo_ids))):
            photo.report_id = report.id
    if new.reporter_id is not None:
        db.session.add(ReportSubscription(report_id=report.id, reporter_id=new.reporter_id, via_report_id=report.id))
    from meldingen.dedup.services import handle_new_report

    handle_new_report(report)  # a known problem: merged into it, the resident subscribed to it
    for hook in AFTER_CREATE_HOOKS:
        hook(report)
    db.session.commit()
    return report
