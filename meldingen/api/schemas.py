"""Marshmallow schemas of the report as the API and Open311 show it, and of what creates or changes one."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from meldingen.inputs.bounds import BoundedDateTime, page_field
from meldingen.privacy.public import public_text
from meldingen.timeutil import isoformat


class LocationSchema(Schema):
    lat = fields.Float(required=True, allow_nan=False)
    lon = fields.Float(required=True, allow_nan=False)


class ReportCreateSchema(Schema):
    description = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    location = fields.Nested(LocationSchema)
    address = fields.String(validate=validate.Length(min=2, max=300))
    category = fields.String(validate=validate.Length(max=100), metadata={"description": "sub category slug"})

    @validates_schema
    def _location_or_address(self, data, **kwargs):
        if "location" not in data and "address" not in data:
            raise ValidationError("give a location {lat, lon} or an address", "location")


class StatusChangeSchema(Schema):
    status = fields.String(required=True, validate=validate.Length(min=1, max=30))
    note = fields.String(load_default=None, validate=validate.Length(max=5000),
                         metadata={"description": "internal: staff see it in the history, residents never"})
    resident_message = fields.String(
        load_default=None, validate=validate.Length(max=2000),
        metadata={"description": "sent to every resident who follows the report, inside the status message"})


class ReportQuerySchema(Schema):
    status = fields.String()
    category = fields.String()
    organisation = fields.String()
    channel = fields.String()
    bbox = fields.String(metadata={"description": "minlon,minlat,maxlon,maxlat"})
    created_after = BoundedDateTime(default_timezone=None)  # a zone is required
    created_before = BoundedDateTime(default_timezone=None)
    hide_duplicates = fields.Boolean(load_default=False)
    updated_after = BoundedDateTime(default_timezone=None, metadata={
        "description": "only reports changed after this moment (ISO 8601 with zone)"})
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

            if data.get("sort") != "updated_at":
                raise ValidationError("a cursor pages sort=updated_at only", "cursor")
            data["cursor"] = decode_cursor(data["cursor"])


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    try:
        parts = [float(p) for p in text.split(",")]
    except ValueError:
        raise ValidationError("bbox must be four numbers: minlon,minlat,maxlon,maxlat", "bbox") from None
    if len(parts) != 4 or parts[0] > parts[2] or parts[1] > parts[3]:
        raise ValidationError("bbox must be minlon,minlat,maxlon,maxlat with min <= max", "bbox")
    return tuple(parts)


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
