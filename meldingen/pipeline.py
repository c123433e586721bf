"""The one way a report is made, whatever the surface (chat, website chat, API, Open311, staff): place →
category → report → route → deadline → duplicates; and staff's change of a report's category, which routes it
again.

`create_report(new)` flushes and returns the report; the entry point that asked for it (a request, the intake's
task) commits. Answers that only read what changes a few times a year (the place of a point, the classifier's
suggestion, a typed address looked up at PDOK) can be worked out first with `prepare()`, before the caller takes
its lock, and handed in: the pipeline then takes them instead of asking again while every webhook's insert waits.

Reactions: `signals.report_created` for every report made, `signals.category_changed` when staff change one
(the merge into a known report is dedup's `signals.report_merged`).
"""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import replace

from flask import current_app
from sqlalchemy import select

from meldingen import signals
from meldingen.classify.services import record_category_correction, suggest_categories
from meldingen.db import begin_write
from meldingen.dedup.objects import choose_asset
from meldingen.dedup.recurrence import link_recurrence
from meldingen.dedup.services import handle_new_report
from meldingen.extensions import db
from meldingen.geo import lookup
from meldingen.geo.crs import rd_point_ewkt, to_rd
from meldingen.geo.typed import TypedAddress, match_typed_address
from meldingen.media.models import Photo
from meldingen.privacy.public import refresh_public_description
from meldingen.reports.models import Report, ReportEvent, ReportSubscription
from meldingen.reports.services import (
    NewReport,
    NotActingFor,
    OutsideServiceArea,
    ReportInputError,
    add_event,
    find_sub_category,
    insert_report,
    set_deadline,
)
from meldingen.routing.services import apply_route, decide_route, fallback_decision
from meldingen.timeutil import utcnow

log = logging.getLogger(__name__)

__all__ = ["NewReport", "NotActingFor", "OutsideServiceArea", "Prepared", "ReportInputError", "change_category", "create_report",
           "prepare"]


class Prepared:
    """Answers for a report about to be made, worked out before the caller's lock and handed to `create_report`.

    Each question (the place of a point, the category a text suggests, a typed address) is asked once: asked
    again, under the lock, it is answered from here; a question not asked before is simply asked then. Lives as
    long as the caller keeps it (one message, one timer): the answers read what changes a few times a year.
    """

    def __init__(self) -> None:
        self._places: dict[tuple[float, float], lookup.PlaceInfo] = {}
        self._suggestions: dict[str, dict | None] = {}
        self._addresses: dict[str, TypedAddress] = {}

    def place(self, lat: float, lon: float) -> lookup.PlaceInfo:
        """The place of the point (areas, organisation, nearest address); raises lookup.InvalidPoint."""
        key = (lat, lon)
        if key not in self._places:
            self._places[key] = lookup.lookup_point(lat, lon)
        return self._places[key]

    def suggestion(self, text: str) -> dict | None:
        """The classifier's best category for the text, or None when it has none."""
        if text not in self._suggestions:
            self._suggestions[text] = _suggest(text)
        return self._suggestions[text]

    def match_address(self, text: str) -> TypedAddress:
        """The address typed (`geo.typed.match_typed_address`): found, or what is known of it."""
        if text not in self._addresses:
            self._addresses[text] = match_typed_address(text)
        return self._addresses[text]

    def remember_address(self, text: str, typed: TypedAddress) -> None:
        """The address found in a longer text is the answer for the words that are the address too."""
        self._addresses.setdefault(text, typed)

    def typed_address(self, text: str) -> tuple[dict | None, bool]:
        """(the address typed or None, whether the geocoder was unavailable)."""
        typed = self.match_address(text)
        return typed.found, typed.geocoder_unavailable

    def search_typed_address(self, text: str) -> dict | None:
        """The address typed, or None (not found, or the geocoder is unavailable)."""
        return self.match_address(text).found


def prepare(lat: float | None, lon: float | None, description: str | None,
            address_text: str | None = None) -> Prepared:
    """Work out a coming report's place (from its point, else its typed address) and suggested category now,
    before the caller takes its lock.

    The intake calls this before it takes SQLite's write lock (or the resident's row lock) to make a report,
    and hands the answers to `create_report`. A point that cannot be placed is not an error here: the pipeline
    says why, under the lock, as before. Without a place no report is made yet: the category waits too."""
    prepared = Prepared()
    if address_text:  # the report holds the address typed: looked up now, also when its point is known
        found = prepared.search_typed_address(address_text)
        if lat is None or lon is None:
            lat, lon = (found["lat"], found["lon"]) if found is not None else (None, None)
    if lat is not None and lon is not None:
        try:
            prepared.place(lat, lon)
        except lookup.InvalidPoint:
            pass
    text = (description or "").strip()
    if text and (lat is not None or address_text):
        prepared.suggestion(text)
    return prepared


def _suggest(text: str) -> dict | None:
    suggestions = suggest_categories(text, k=1)
    return suggestions[0] if suggestions else None


# --- the steps ---


def resolve_place(new: NewReport, prepared: Prepared) -> lookup.PlaceInfo | None:
    """The place of the report: from its point, or from a typed address; None when the address is unknown.

    A typed address that is found is the report's address (not the address nearest to its point, which may be
    another door of the same building), when it lies near the report's point."""
    found = prepared.search_typed_address(new.address_text) if new.address_text else None
    if new.lat is not None or new.lon is not None:
        try:
            return with_typed_address(prepared.place(new.lat, new.lon), found)
        except lookup.InvalidPoint as exc:
            raise ReportInputError(str(exc), "location") from None
    if new.address_text:
        if found is not None:
            return with_typed_address(prepared.place(found["lat"], found["lon"]), found)
        return None
    raise ReportInputError("a report needs a location or an address", "location")


def with_typed_address(place: lookup.PlaceInfo, found: dict | None) -> lookup.PlaceInfo:
    """The place with the typed address as its address, when that address lies within ADDRESS_MAX_DISTANCE_M
    of the point (a point far from it is the place; the typed words are then only words)."""
    if found is None or not found.get("address") or not place.in_netherlands:
        return place
    x, y = to_rd(place.lon, place.lat)
    fx, fy = to_rd(found["lon"], found["lat"])
    distance = math.hypot(x - fx, y - fy)
    if distance > float(current_app.config.get("ADDRESS_MAX_DISTANCE_M", 50.0)):
        return place
    address = {key: found["address"].get(key) for key in ("street", "number", "postcode", "city")}
    return dataclasses.replace(place, address={**address, "distance_m": round(distance, 2)})


def choose_category(new: NewReport, prepared: Prepared):
    """The given category, else the classifier's best suggestion (confirmed only above the threshold)."""
    if new.category_slug:
        category = find_sub_category(new.category_slug)
        if category is None or not category.active:
            raise ReportInputError(f"unknown or inactive category '{new.category_slug}'", "category")
        return category, None, True
    text = (new.description or "").strip()
    suggestion = prepared.suggestion(text) if text else None
    if suggestion is not None:
        category = find_sub_category(suggestion["sub_slug"])
        if category is not None:
            confident = suggestion["confidence"] >= current_app.config["CLASSIFIER_THRESHOLD"]
            return category, suggestion["confidence"], confident
    return find_sub_category("overig"), None, False


def relevant_asset(place, category, text: str | None = None) -> dict | None:
    """The registered object of a type this category is about (a street light for a broken light): the one
    whose number the words name, else the nearest of the fraction named, else the nearest; None when the
    category is not about registered objects or none is near (dedup/objects.py)."""
    x, y = to_rd(place.lon, place.lat)
    return choose_asset(x, y, text, category, float(current_app.config["ASSET_MAX_DISTANCE_M"]))


def pin_to_named_asset(place: lookup.PlaceInfo, prepared: Prepared) -> tuple[lookup.PlaceInfo, dict | None]:
    """A typed number named a registered object: the report stands where that object stands, whatever the GPS
    said. Answers the place of the object and the resident's own point (kept in the history), or the place
    unchanged and None."""
    asset = place.asset
    if not asset or not asset.get("named") or not asset.get("distance_m") or asset.get("lat") is None:
        return place, None
    try:
        pinned = prepared.place(asset["lat"], asset["lon"])
    except lookup.InvalidPoint:
        return place, None
    if pinned.organisation is None:
        return place, None
    return replace(pinned, asset=asset), {"lat": place.lat, "lon": place.lon, "asset_distance_m": asset["distance_m"]}


def _service_point_code() -> str | None:
    from meldingen.organisations.models import Organisation

    code = current_app.config.get("SERVICE_POINT")
    return db.session.scalar(select(Organisation.code).where(Organisation.code == code)) if code else None


# --- making a report ---


def create_report(new: NewReport, prepared: Prepared | None = None) -> Report:
    """Place → category → report → route → deadline → duplicates. Flushes and returns the report (merged into a
    known one when it is the same problem: `duplicate_of_id`); the caller commits.

    Raises ReportInputError (no description nor photo, no place, an unknown category), OutsideServiceArea and
    NotActingFor (staff making a report where their organisation does not work).
    """
    prepared = prepared or Prepared()
    if not (new.description or "").strip() and not new.photo_ids:
        raise ReportInputError("a report needs a description or a photo", "description")
    place = resolve_place(new, prepared)
    if place is not None and place.organisation is None:
        raise OutsideServiceArea(place.areas.get("municipality"), place.municipality_name)
    if place is not None and new.acting_for is not None and place.organisation not in new.acting_for:
        raise NotActingFor(place.organisation or "")
    category, confidence, confirmed = choose_category(new, prepared)
    gps = None
    if place is not None:
        place.asset = relevant_asset(place, category, new.description)
        place, gps = pin_to_named_asset(place, prepared)

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
    insert_report(report)
    add_event(report, "created", actor=new.actor, actor_id=new.actor_id, status="new",
              note=None, data={"channel": new.channel, "category_confidence": confidence,
                               **({"gps": gps, "pinned_to_asset": report.asset_external_id} if gps else {})})

    # Routing and the deadline only read rules, organisations and categories: the report's own changes are
    # written once, before the duplicates check reads other reports, not flushed before each small query.
    with db.session.no_autoflush:
        if place is not None:
            decision = decide_route(report, place, category)
        else:
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
    if handle_new_report(report) is None:  # a known problem: merged into it, the resident subscribed to it
        link_recurrence(report)  # else perhaps one done before: "opnieuw gemeld, na M-… afgehandeld op …"
    db.session.flush()
    signals.report_created.send(report, new=new)
    return report


# --- changing a report's category ---


def change_category(report: Report, new_category, *, actor: str, actor_id: int | None = None,
                    staff_user=None, note: str | None = None) -> ReportEvent:
    """Staff set a report's category: kept as a training example, and the report is routed again. Does not
    commit.

    The organisation stays the one the point lies in; department and deadline follow the new category
    (through the routing rules, first match wins), so the right team gets it with the right handling time.
    """
    if new_category is None or new_category.parent_id is None:
        raise ReportInputError("choose a sub category", "category")
    if not new_category.active:
        raise ReportInputError(f"category '{new_category.slug}' is not active", "category")
    previous = report.category
    record_category_correction(report, new_category, staff_user)
    report.category = new_category
    report.category_confirmed = True
    refresh_public_description(report)  # a category about a person takes house numbers out too
    event = add_event(
        report, "category", actor=actor, actor_id=actor_id, note=note,
        data={"from": previous.slug if previous is not None else None, "to": new_category.slug},
    )
    if report.organisation is not None:
        place = lookup.PlaceInfo(lat=report.lat or 0.0, lon=report.lon or 0.0,
                                 areas={"municipality": report.municipality_code, "district": report.district_code,
                                        "neighbourhood": report.neighbourhood_code},
                                 organisation=report.organisation.code,
                                 asset={"type": report.asset_type, "id": report.asset_external_id}
                                 if report.asset_type else None)
        apply_route(report, decide_route(report, place, new_category), actor=actor)
    set_deadline(report)
    signals.category_changed.send(report, previous=previous, actor=actor)
    return event
