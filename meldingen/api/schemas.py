"""Marshmallow schemas of the report as the API and Open311 show it, and of what creates or changes one."""

from __future__ import annotations

import math

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from meldingen.inputs.bounds import BoundedDateTime, page_field
from meldingen.privacy.public import public_text
from meldingen.reports.statuses import DEFAULT_STATUSES
from meldingen.timeutil import isoformat

# Text that is more than white space (a JSON Schema `pattern` is searched for anywhere in the text).
NOT_BLANK = validate.Regexp(r"[\s\S]*[^\s\x00-\x1f\x7f]", error="must contain more than white space")
# Text with something left once control characters are taken out (meldingen.inputs.text).
NOT_ONLY_CONTROL = validate.Regexp(r"[\s\S]*[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]",
                                   error="must contain more than control characters")
_NUMBER = r"\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*"
BBOX_PATTERN = rf"^{_NUMBER},{_NUMBER},{_NUMBER},{_NUMBER}$"


class LocationSchema(Schema):
    """WGS84; (0, 0), the position of a device that has none, is refused (the document says so with `not`)."""

    lat = fields.Float(required=True, allow_nan=False, validate=validate.Range(min=-90, max=90),
                       metadata={"example": 52.3877})
    lon = fields.Float(required=True, allow_nan=False, validate=validate.Range(min=-180, max=180),
                       metadata={"example": 4.8926})


class ReportCreateSchema(Schema):
    """A `location` or an `address` (or both: the location counts) is required (the document's `anyOf`)."""

    description = fields.String(required=True, validate=[validate.Length(min=1, max=5000), NOT_BLANK],
                                metadata={"example": "Losse stoeptegel, je struikelt erover"})
    location = fields.Nested(LocationSchema)
    address = fields.String(validate=[validate.Length(min=2, max=300), NOT_BLANK],
                            metadata={"description": "a typed Dutch address; an unknown one makes a report without "
                                                     "a place", "example": "Westerdoksdijk 40A"})
    category = fields.String(validate=validate.Length(max=100), metadata={
        "description": "an active sub category's slug (GET /api/v1/categories); empty or absent: the classifier "
                       "suggests one", "example": "onderhoud-stoep-straat-en-fietspad"})

    @validates_schema
    def _location_or_address(self, data, **kwargs):
        if "location" not in data and "address" not in data:
            raise ValidationError("give a location {lat, lon} or an address", "location")


class StatusChangeSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(
        [code for code, *_ in DEFAULT_STATUSES], error="'{input}' is not a status; use one of: {choices}"),
                           metadata={"description": "a status of the status table; 409 where it forbids the move",
                                     "example": "planned"})
    note = fields.String(load_default=None, validate=validate.Length(max=5000),
                         metadata={"description": "internal: staff see it in the history, residents never"})
    resident_message = fields.String(
        load_default=None, validate=validate.Length(max=2000),
        metadata={"description": "sent to every resident who follows the report, inside the status message"})


# The years a date-time may have (meldingen.inputs.bounds), said in the document as a pattern.
YEARS_PATTERN = r"^(19[0-9][0-9]|2[01][0-9][0-9]|2200)-"


class ReportQuerySchema(Schema):
    status = fields.String()
    category = fields.String()
    organisation = fields.String()
    channel = fields.String()
    bbox = fields.String(validate=validate.Regexp(BBOX_PATTERN, error="bbox must be four numbers: minlon,minlat,"
                                                                      "maxlon,maxlat"),
                         metadata={"description": "minlon,minlat,maxlon,maxlat (two opposite corners, WGS84)",
                                   "example": "4.88,52.37,4.90,52.39"})
    created_after = BoundedDateTime(default_timezone=None, metadata={"pattern": YEARS_PATTERN})  # a zone is required
    created_before = BoundedDateTime(default_timezone=None, metadata={"pattern": YEARS_PATTERN})
    hide_duplicates = fields.Boolean(load_default=False)
    updated_after = BoundedDateTime(default_timezone=None, metadata={
        "description": "only reports changed after this moment (ISO 8601 with zone)", "pattern": YEARS_PATTERN})
    sort = fields.String(load_default="created_at", validate=validate.OneOf(["created_at", "updated_at"]), metadata={
        "description": "created_at: newest first, by page; updated_at: oldest change first, by cursor (`next`)"})
    cursor = fields.String(validate=validate.Length(max=200), metadata={
        "description": "from the previous page's `next` link (sort=updated_at)"})
    page = page_field()
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))

    @validates_schema
    def _bbox(self, data, **kwargs):
        if "bbox" in data:
            data["bbox"] = parse_bbox(data["bbox"])

    @validates_schema
    def _cursor(self, data, **kwargs):
        if "cursor" in data:
            from meldingen.api.changes import decode_cursor

            data["sort"] = "updated_at"  # a cursor pages by change, whatever else `sort` said
            data["cursor"] = decode_cursor(data["cursor"])


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    try:
        parts = [float(p) for p in text.split(",")]
    except ValueError:
        raise ValidationError("bbox must be four numbers: minlon,minlat,maxlon,maxlat", "bbox") from None
    if len(parts) != 4 or any(math.isnan(p) for p in parts):
        raise ValidationError("bbox must be four numbers: minlon,minlat,maxlon,maxlat", "bbox")
    # Two opposite corners in either order: the box between them, within the globe's ranges.
    lons = sorted(max(-180.0, min(180.0, p)) for p in parts[0::2])
    lats = sorted(max(-90.0, min(90.0, p)) for p in parts[1::2])
    return lons[0], lats[0], lons[1], lats[1]


class ReportSchema(Schema):
    """The report as in INTERFACE.md; built from a dict made by `report_to_dict`."""

    reference = fields.String()
    status = fields.String()
    created_at = fields.String()
    updated_at = fields.String()
    deadline = fields.String(allow_none=True)
    category = fields.Dict(allow_none=True)
    description = fields.String()
    public_description = fields.String()
    location = fields.Dict(allow_none=True)
    address = fields.Dict(allow_none=True)
    areas = fields.Dict()
    organisation = fields.String(allow_none=True)
    department = fields.String(allow_none=True)
    channel = fields.String()
    photos = fields.List(fields.Dict())
    duplicate_of = fields.String(allow_none=True)
    duplicates = fields.List(fields.String())
    reporters_count = fields.Integer()
    history = fields.List(fields.Dict())


class ReportPageSchema(Schema):
    items = fields.List(fields.Nested(ReportSchema))
    page = fields.Integer()
    pages = fields.Integer()
    total = fields.Integer()
    next = fields.String(metadata={"description": "sort=updated_at: the URL of the next page; absent on the last"})


def report_to_dict(report, *, photo_url=None) -> dict:
    """The public shape of a report. Never includes the reporter's platform id."""
    category = report.category
    address = None
    if report.address_street:
        address = {
            "street": report.address_street,
            "number": report.address_number,
            "postcode": report.address_postcode,
            "city": report.address_city,
        }
    photos = []
    if photo_url is not None:
        photos = [{"url": photo_url(p, False), "thumbnail_url": photo_url(p, True)} for p in report.photos]
    return {
        "reference": report.reference,
        "status": report.status,
        "created_at": isoformat(report.created_at),
        "updated_at": isoformat(report.updated_at),
        "deadline": isoformat(report.deadline),
        "category": (
            {"main_slug": category.main_slug, "sub_slug": category.slug, "name": category.name,
             "confirmed": report.category_confirmed}
            if category is not None else None
        ),
        "description": report.description,
        "public_description": public_text(report),
        "location": {"lat": report.lat, "lon": report.lon} if report.lat is not None else None,
        "address": address,
        "areas": {
            "municipality": report.municipality_code,
            "district": report.district_code,
            "neighbourhood": report.neighbourhood_code,
        },
        "organisation": report.organisation.code if report.organisation is not None else None,
        "department": report.department.code if report.department is not None else None,
        "channel": report.channel,
        "photos": photos,
        "duplicate_of": report.duplicate_of.reference if report.duplicate_of is not None else None,
        "duplicates": [d.reference for d in report.duplicates],
        "reporters_count": report.reporters_count,
        "history": [
            {"at": isoformat(e.at), "kind": e.kind, "status": e.status, "by": e.actor, "note": e.note,
             "resident_message": e.resident_message}
            for e in report.events
        ],
    }
