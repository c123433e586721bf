"""Open311 operations over plain data: the service list, reading request filters, finding requests, creating a
request through the report pipeline, and API keys. Every refusal is an `Open311Error` with a reason.

Nothing here commits: a request is made in the one transaction of the POST that asks for it (views.py commits,
and only then hands the request's media URLs to the workers)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from meldingen.categories.models import Category, CategoryOverride
from meldingen.extensions import db
from meldingen.inputs.bounds import EARLIEST_YEAR, LATEST_YEAR, in_date_range
from meldingen.open311.serialise import MAX_DESCRIPTION, PublicDetails
from meldingen.pipeline import create_report
from meldingen.privacy.public import public_message, public_point
from meldingen.reports.models import Report, ReportEvent
from meldingen.reports.services import (
    NewReport,
    OutsideServiceArea,
    ReportInputError,
    add_event,
    find_sub_category,
)
from meldingen.reports.statuses import load_open_codes
from meldingen.timeutil import AMSTERDAM, utcnow

MAX_REQUESTS = 1000  # the spec's default volume: 90 days or 1000 requests, whichever is smaller
WINDOW = timedelta(days=90)
DEFAULT_RADIUS_M = 500.0
MAX_RADIUS_M = 5000.0
MAX_ADDRESS = 300  # Report.address_text
MAX_MEDIA_URL = 2000
MAX_ADDRESS_ID = 64  # Report.address_id


class Open311Error(Exception):
    """A refusal in the spec's terms: 400 bad input, 403 missing or wrong api_key, 404 no such thing."""

    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status
        self.description = description


def optional_arg(values, name: str) -> str | None:
    """The spec's optional-argument rule: an empty parameter is the same as an absent one."""
    value = values.get(name)
    if value is None or not value.strip():
        return None
    return value.strip()


def _comma_list(values, name: str) -> list[str] | None:
    text = optional_arg(values, name)
    if text is None:
        return None
    items = [item.strip() for item in text.split(",") if item.strip()]
    return items or None


# --- services -------------------------------------------------------------------------------------------

def active_services() -> list[Category]:
    """The active sub categories, grouped by main category in the tree's order. Where administrators gave two
    sub categories the same slug, the one the pipeline would pick (the oldest) is the service."""
    subs = db.session.scalars(
        select(Category).where(Category.parent_id.is_not(None)).order_by(Category.id)
        .options(selectinload(Category.parent))
    ).all()
    first: dict[str, Category] = {}
    for category in subs:
        first.setdefault(category.slug, category)
    services = [c for c in first.values() if c.active]
    return sorted(services, key=lambda c: (c.parent.position, c.parent.id, c.position, c.id))


def find_service(code: str) -> Category | None:
    category = find_sub_category(code)
    return category if category is not None and category.active else None


# --- API keys -------------------------------------------------------------------------------------------

def staff_for_api_key(key: str | None):
    """The active staff member whose (unrevoked) API token this is, or None."""
    from meldingen.api.auth import staff_for_token

    return staff_for_token(key)


@dataclass(frozen=True)
class Submitter:
    """Who creates a request: an application's Open311 key, or a member of staff with a token; and the
    organisations it may submit for (a request located elsewhere is refused)."""

    email: str
    id: int | None
    organisation_codes: frozenset[str]


def submitter_for(api_key: str | None, staff_from_header=None) -> Submitter | None:
    """The submitter of a POST: the application whose Open311 key this is, else the member of staff whose API
    token it is (allowed "create_report" by the authorisation table); None when neither."""
    from meldingen import authz
    from meldingen.open311.keys import application_for_key

    if api_key:
        application = application_for_key(api_key)
        if application is not None:
            codes = authz.organisation_codes_acting_for(application.organisation_id)
            return Submitter(f"open311:{application.application}", None, frozenset(codes))
        staff = staff_for_api_key(api_key)
    else:
        staff = staff_from_header
    if staff is None or not authz.may(staff, "create_report"):
        return None
    return Submitter(staff.email, staff.id, frozenset(authz.acting_organisation_codes(staff)))


# --- reading requests -----------------------------------------------------------------------------------

@dataclass
class RequestQuery:
    ids: list[str] | None
    service_codes: list[str] | None
    start: datetime
    end: datetime
    statuses: set[str] | None
    near: tuple[float, float, float] | None  # lat, lon, radius in metres
    page: int
    page_size: int


def parse_w3c_datetime(text: str, name: str) -> datetime:
    """A W3C date-time (or date). Without an offset it is Dutch local time. An unencoded "+" in a query
    string arrives as a space; that is read as the "+" the client meant."""
    text = re.sub(r" (\d\d:?\d\d)$", r"+\1", text.strip())
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise Open311Error(400, f"{name} must be a W3C date-time such as 2026-01-31T00:00:00Z, not '{text}'") from None
    if not in_date_range(value):
        raise Open311Error(400, f"{name} must be a date between {EARLIEST_YEAR} and {LATEST_YEAR}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=AMSTERDAM)
    return value.astimezone(UTC)


def _positive_int(values, name: str, default: int, maximum: int) -> int:
    text = optional_arg(values, name)
    if text is None:
        return default
    if not text.isdigit() or not 1 <= int(text) <= maximum:
        raise Open311Error(400, f"{name} must be a whole number from 1 to {maximum}")
    return int(text)


def _number(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise Open311Error(400, f"{name} must be a number, not '{text}'") from None
    if not math.isfinite(value):
        raise Open311Error(400, f"{name} must be a finite number")
    return value


def _point(values) -> tuple[float, float] | None:
    lat, lon = optional_arg(values, "lat"), optional_arg(values, "long")
    if lat is None and lon is None:
        return None
    if lat is None or lon is None:
        raise Open311Error(400, "lat and long must be sent together")
    return _number(lat, "lat"), _number(lon, "long")


def parse_request_query(values, now: datetime | None = None) -> RequestQuery:
    """GET requests' parameters: the spec's, plus page/page_size and lat/long/radius (extensions)."""
    now = now or utcnow()
    ids = _comma_list(values, "service_request_id")
    if ids is not None and len(ids) > MAX_REQUESTS:
        raise Open311Error(400, f"at most {MAX_REQUESTS} service_request_id values at once")

    codes = _comma_list(values, "service_code")
    if codes is not None:
        known = set(db.session.scalars(select(Category.slug).where(Category.parent_id.is_not(None),
                                                                  Category.slug.in_(codes))))
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise Open311Error(400, f"unknown service_code: {', '.join(unknown)}")

    start_text, end_text = optional_arg(values, "start_date"), optional_arg(values, "end_date")
    start = parse_w3c_datetime(start_text, "start_date") if start_text else None
    end = parse_w3c_datetime(end_text, "end_date") if end_text else None
    if start is None and end is None:
        start, end = now - WINDOW, now
    elif end is None:
        end = start + WINDOW
    elif start is None:
        start = end - WINDOW
    if start > end:
        raise Open311Error(400, "start_date is after end_date")
    if end - start > WINDOW:
        raise Open311Error(400, "start_date and end_date may not span more than 90 days")

    statuses = _comma_list(values, "status")
    if statuses is not None:
        statuses = {s.lower() for s in statuses}
        if not statuses <= {"open", "closed"}:
            raise Open311Error(400, "status must be open, closed or both (comma separated)")

    near = None
    point = _point(values)
    radius_text = optional_arg(values, "radius")
    if point is not None:
        radius = _number(radius_text, "radius") if radius_text else DEFAULT_RADIUS_M
        if not 0 < radius <= MAX_RADIUS_M:
            raise Open311Error(400, f"radius must be more than 0 and at most {MAX_RADIUS_M:.0f} metres")
        if not (-90 <= point[0] <= 90 and -180 <= point[1] <= 180):
            raise Open311Error(400, "lat must be within -90..90 and long within -180..180")
        near = (point[0], point[1], radius)
    elif radius_text:
        raise Open311Error(400, "radius needs lat and long")

    return RequestQuery(
        ids=[i.upper() for i in ids] if ids else None,
        service_codes=codes,
        start=start,
        end=end,
        statuses=statuses,
        near=near,
        page=_positive_int(values, "page", 1, 1_000_000),
        page_size=_positive_int(values, "page_size", MAX_REQUESTS, MAX_REQUESTS),
    )


def find_requests(query: RequestQuery) -> list[Report]:
    """Reports matching the query, newest first. `service_request_id` overrides every other filter."""
    stmt = select(Report).options(
        selectinload(Report.category).selectinload(Category.parent),
        selectinload(Report.organisation),
        selectinload(Report.duplicate_of),
    )
    if query.ids is not None:
        stmt = stmt.where(Report.reference.in_(query.ids))
    else:
        stmt = stmt.where(Report.created_at >= query.start, Report.created_at <= query.end)
        if query.service_codes:
            sub_ids = select(Category.id).where(Category.parent_id.is_not(None), Category.slug.in_(query.service_codes))
            stmt = stmt.where(Report.category_id.in_(sub_ids))
        if query.statuses is not None and len(query.statuses) == 1:
            open_codes = list(load_open_codes())
            stmt = stmt.where(Report.status.in_(open_codes) if "open" in query.statuses
                              else Report.status.not_in(open_codes))
        if query.near is not None:
            lat, lon, radius = query.near
            # The box is widened by the largest rounding of a public point (0.0005°), as the radius is measured
            # to the public point: a small radius must not find the exact spot the public output hides.
            dlat = radius / 111_320 + 0.001
            dlon = radius / (111_320 * max(math.cos(math.radians(lat)), 0.01)) + 0.001
            stmt = stmt.where(Report.lat.between(lat - dlat, lat + dlat), Report.lon.between(lon - dlon, lon + dlon))
    stmt = stmt.order_by(Report.created_at.desc(), Report.id.desc())
    offset = (query.page - 1) * query.page_size
    if query.ids is None and query.near is not None:
        lat, lon, radius = query.near
        rows = [r for r in db.session.scalars(stmt) if metres_between(lat, lon, *public_point(r)) <= radius]
        return rows[offset: offset + query.page_size]
    return list(db.session.scalars(stmt.offset(offset).limit(query.page_size)))


def metres_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


def public_details(reports: list[Report]) -> PublicDetails:
    """Open statuses, each report's last message to its residents, and organisations' own handling texts.

    Only what staff wrote for residents (`resident_message` of a status change) is public, redacted as the public
    description is; the `note` of a change is internal and never read here."""
    details = PublicDetails(open_codes=load_open_codes())
    by_id = {r.id: r for r in reports}
    if not by_id:
        return details
    for report_id, message in db.session.execute(
        select(ReportEvent.report_id, ReportEvent.resident_message)
        .where(ReportEvent.report_id.in_(by_id), ReportEvent.kind == "status",
               ReportEvent.resident_message.is_not(None))
        .order_by(ReportEvent.id)
    ):
        shown = public_message(message, by_id[report_id].category)
        if shown:
            details.notes[report_id] = shown
    org_ids = {r.organisation_id for r in reports if r.organisation_id}
    if org_ids:
        for org_id, category_id, text in db.session.execute(
            select(CategoryOverride.organisation_id, CategoryOverride.category_id, CategoryOverride.resident_text)
            .where(CategoryOverride.organisation_id.in_(org_ids), CategoryOverride.resident_text.is_not(None))
        ):
            details.notices[(org_id, category_id)] = text
    return details


# --- creating a request ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class CreatedRequest:
    """A service request made (flushed, not yet committed), and the media URLs to fetch once it is committed."""

    report: Report
    media_urls: list[str]

    def fetch_media(self) -> None:
        """Hand the media URLs to the workers (`open311.fetch_media`); only after the commit, so they find the
        report."""
        if self.media_urls:
            from meldingen import jobs

            jobs.enqueue("open311.fetch_media", report_id=self.report.id, urls=self.media_urls)


def create_service_request(values, staff) -> CreatedRequest:
    """POST requests: check the spec's parameters, then make the report through the shared pipeline.

    Personal fields (email, names, phone, device_id, account_id) are not stored: nothing here could reach the
    resident through them. `description` may be left out when `media_url` is sent (the spec's rule). Each
    `media_url` is fetched after the commit like a chat photo (`CreatedRequest.fetch_media`); `address_id` is kept
    and returned as sent, and a known BAG id gives the location when no lat/long came with it. Flushes; the caller
    commits, and rolls back after an `Open311Error`.
    """
    check_jurisdiction(values)
    code = optional_arg(values, "service_code")
    if code is None:
        raise Open311Error(400, "service_code was not provided")
    category = find_service(code)
    if category is None:
        raise Open311Error(404, f"service_code '{code}' was not found; see services.xml")

    media_urls = [u.strip() for u in values.getlist("media_url") if u and u.strip()]
    for url in media_urls:
        check_media_url_shape(url)
    description = (values.get("description") or "").strip()
    if not description and not media_urls:
        raise Open311Error(400, "description was not provided (it may be left out only when media_url is sent)")
    if len(description) > MAX_DESCRIPTION:
        raise Open311Error(400, f"description is longer than {MAX_DESCRIPTION} characters")

    point = _point(values)
    if point is not None and not (-90 <= point[0] <= 90 and -180 <= point[1] <= 180):
        raise Open311Error(400, "lat must be within -90..90 and long within -180..180")
    address_text = optional_arg(values, "address_string")
    if address_text is not None and len(address_text) > MAX_ADDRESS:
        raise Open311Error(400, f"address_string is longer than {MAX_ADDRESS} characters")
    address_id = optional_arg(values, "address_id")
    if address_id is not None and len(address_id) > MAX_ADDRESS_ID:
        raise Open311Error(400, f"address_id is longer than {MAX_ADDRESS_ID} characters")
    if point is None and address_id is not None:
        point, label = _bag_address_point(address_id)
        if point is None and address_text is None:
            raise Open311Error(400, f"address_id '{address_id}' is not a known BAG address; send lat and long "
                                    "or address_string")
        address_text = address_text or label
    if point is None and address_text is None:
        raise Open311Error(400, "a location is required: lat and long, address_string or address_id")

    if point is not None and getattr(staff, "organisation_codes", None) is not None:
        _check_submitter_serves(staff, point)

    new = NewReport(
        description=description or "(photo only)",
        channel="open311",
        lat=point[0] if point else None,
        lon=point[1] if point else None,
        address_text=address_text,
        category_slug=category.slug,
        actor=staff.email,
        actor_id=staff.id,
    )
    try:
        report = create_report(new)
    except (ReportInputError, OutsideServiceArea) as exc:  # the latter names the municipality, e.g. Rotterdam
        raise Open311Error(400, str(exc)) from None
    if address_id is not None:
        report.address_id = address_id
    if media_urls:
        add_event(report, "note", actor=staff.email, actor_id=staff.id,
                  note="Foto-adres via Open311: " + " ".join(media_urls), data={"media_url": media_urls})
    db.session.flush()
    return CreatedRequest(report, media_urls)


def check_media_url_shape(url: str) -> None:
    """A media_url must be an absolute http(s) URL with a host; where it may point is checked when fetching."""
    if len(url) > MAX_MEDIA_URL:
        raise Open311Error(400, f"media_url is longer than {MAX_MEDIA_URL} characters")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        raise Open311Error(400, "media_url is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise Open311Error(400, "media_url must be an http or https URL")


def served_jurisdictions() -> set[str]:
    """The organisation codes this endpoint answers for: the service point and the organisations it serves."""
    from flask import current_app

    from meldingen.organisations.models import Organisation

    point_code = current_app.config.get("SERVICE_POINT")
    point_id = db.session.scalar(select(Organisation.id).where(Organisation.code == point_code))
    codes = {point_code} if point_id is not None else set()
    query = select(Organisation.code).where(Organisation.active.is_(True))
    if point_id is not None:
        query = query.where((Organisation.service_point_id == point_id) | (Organisation.id == point_id))
    codes.update(db.session.scalars(query))
    return {c.upper() for c in codes if c}


def check_jurisdiction(values) -> None:
    """`jurisdiction_id` is optional (one endpoint, several organisations); when sent, it must be one we serve."""
    jurisdiction = optional_arg(values, "jurisdiction_id")
    if jurisdiction is None:
        return
    served = served_jurisdictions()
    if jurisdiction.upper() not in served:
        raise Open311Error(404, f"jurisdiction_id '{jurisdiction[:50]}' is not served here; served are: "
                                + ", ".join(sorted(served)))


def _check_submitter_serves(submitter: Submitter, point: tuple[float, float]) -> None:
    """A key of one organisation creates requests only where that organisation (or those it serves) works."""
    from meldingen.geo.lookup import InvalidPoint, lookup_point

    try:
        place = lookup_point(point[0], point[1])
    except InvalidPoint:
        return  # the pipeline answers the bad point itself
    if place.organisation is not None and place.organisation not in submitter.organisation_codes:
        raise Open311Error(403, f"this api_key may not create requests in {place.organisation}")


def _bag_address_point(bag_id: str) -> tuple[tuple[float, float] | None, str | None]:
    from meldingen.geo.models import Address

    address = db.session.scalar(select(Address).where(Address.bag_id == bag_id))
    if address is None:
        return None, None
    label = f"{address.street} {address.house_number}, {address.postcode or ''} {address.city}".replace("  ", " ")
    return (address.lat, address.lon), label

