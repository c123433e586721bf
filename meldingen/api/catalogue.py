"""/api/v1/categories and /api/v1/organisations: what an integrator reads first. The category tree (slugs, Dutch
and English names, handling times, active flags, parent) and the organisations the caller acts for with their
departments: the values `category`, `organisation_code` and `department_code` take elsewhere in the API.
Read with any API token, as the reports are."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from meldingen import authz
from meldingen.api.auth import current_staff, token_required
from meldingen.categories.models import Category, CategoryOverride
from meldingen.extensions import db
from meldingen.organisations.models import Organisation

blp = Blueprint("catalogue", __name__, description="Categories, organisations and departments")

HANDLING = ("working days (Dutch public holidays skipped) from the report to its deadline; `calendar_days`: "
            "counted as calendar days; null: no deadline")


class CategorySchema(Schema):
    slug = fields.String(metadata={"example": "onderhoud-stoep-straat-en-fietspad"})
    name = fields.String(metadata={"description": "Dutch", "example": "Onderhoud stoep, straat en fietspad"})
    name_en = fields.String(allow_none=True, metadata={"description": "English; null where none is set",
                                                       "example": "Maintenance of pavement, street and cycle path"})
    parent = fields.String(allow_none=True, metadata={"description": "the main category's slug; null for a main "
                                                                     "category", "example": "wegen-verkeer-straatmeubilair"})
    active = fields.Boolean(metadata={"description": "inactive categories take no new reports"})
    position = fields.Integer()
    handling_days = fields.Integer(allow_none=True, metadata={"description": HANDLING, "example": 5})
    calendar_days = fields.Boolean()
    handling_days_by_organisation = fields.Dict(
        keys=fields.String(), values=fields.Integer(allow_none=True),
        metadata={"description": "the caller's organisations that set a handling time of their own (code: days)"})
    departments = fields.List(fields.String(), metadata={"description": "codes of the responsible departments, "
                                                                        "the default first"})
    asset_types = fields.List(fields.String(), metadata={"description": "registered objects a report is about"})
    sub_categories = fields.List(fields.Nested(lambda: CategorySchema()),
                                 metadata={"description": "a main category's sub categories (reports carry one)"})


class CategoryTreeSchema(Schema):
    items = fields.List(fields.Nested(CategorySchema), metadata={"description": "main categories, in order"})


class DepartmentSchema(Schema):
    code = fields.String(metadata={"example": "STW"})
    name = fields.String(metadata={"example": "Stadswerken"})


class OrganisationSchema(Schema):
    code = fields.String(metadata={"example": "GM0363"})
    name = fields.String(metadata={"example": "Amsterdam"})
    kind = fields.String(metadata={"description": "municipality, service_point or other", "example": "municipality"})
    active = fields.Boolean()
    service_point = fields.String(allow_none=True, metadata={"description": "code of the shared service point "
                                                                            "that serves it, if any"})
    departments = fields.List(fields.Nested(DepartmentSchema))


class OrganisationListSchema(Schema):
    items = fields.List(fields.Nested(OrganisationSchema))


def category_to_dict(category: Category, overrides: dict[int, dict[str, int | None]]) -> dict:
    item = {
        "slug": category.slug, "name": category.name, "name_en": category.name_en,
        "parent": category.parent.slug if category.parent is not None else None,
        "active": bool(category.active), "position": category.position or 0,
        "handling_days": category.handling_days, "calendar_days": bool(category.calendar_days),
        "handling_days_by_organisation": overrides.get(category.id, {}),
        "departments": list(category.department_codes or []), "asset_types": list(category.asset_types or []),
    }
    if category.parent_id is None:
        item["sub_categories"] = [category_to_dict(sub, overrides) for sub in category.children]
    return item


@blp.route("/categories")
class Categories(MethodView):
    @token_required()
    @blp.response(200, CategoryTreeSchema, example={"items": [{
        "slug": "wegen-verkeer-straatmeubilair", "name": "Wegen, verkeer, straatmeubilair",
        "name_en": "Roads, traffic, street furniture", "parent": None, "active": True, "position": 1,
        "handling_days": None, "calendar_days": False, "handling_days_by_organisation": {}, "departments": [],
        "asset_types": [], "sub_categories": [{
            "slug": "onderhoud-stoep-straat-en-fietspad", "name": "Onderhoud stoep, straat en fietspad",
            "name_en": "Maintenance of pavement, street and cycle path", "parent": "wegen-verkeer-straatmeubilair",
            "active": True, "position": 3, "handling_days": 5, "calendar_days": False,
            "handling_days_by_organisation": {"GM0363": 3}, "departments": ["STW"], "asset_types": []}]}]})
    @blp.doc(security=[{"bearer": []}])
    def get(self) -> dict:
        """The category tree: main categories with their sub categories, inactive ones included (flagged)."""
        staff = current_staff()
        mains = db.session.scalars(
            select(Category).where(Category.parent_id.is_(None))
            .options(selectinload(Category.children)).order_by(Category.position, Category.id)).all()
        ids = authz.acting_organisation_ids(staff)
        overrides: dict[int, dict[str, int | None]] = {}
        for override, code in db.session.execute(
                select(CategoryOverride, Organisation.code)
                .join(Organisation, CategoryOverride.organisation_id == Organisation.id)
                .where(CategoryOverride.organisation_id.in_(ids), CategoryOverride.handling_days.is_not(None))):
            overrides.setdefault(override.category_id, {})[code] = override.handling_days
        return {"items": [category_to_dict(main, overrides) for main in mains]}


@blp.route("/organisations")
class Organisations(MethodView):
    @token_required()
    @blp.response(200, OrganisationListSchema, example={"items": [{
        "code": "GM0363", "name": "Amsterdam", "kind": "municipality", "active": True, "service_point": "DSP",
        "departments": [{"code": "STW", "name": "Stadswerken"}]}]})
    @blp.doc(security=[{"bearer": []}])
    def get(self) -> dict:
        """The organisations the caller acts for (a shared service point: itself and the ones it serves), each
        with its departments."""
        ids = authz.acting_organisation_ids(current_staff())
        rows = db.session.scalars(
            select(Organisation).where(Organisation.id.in_(ids))
            .options(selectinload(Organisation.departments), selectinload(Organisation.service_point))
            .order_by(Organisation.code)).all()
        return {"items": [{
            "code": o.code, "name": o.name, "kind": o.kind, "active": bool(o.active),
            "service_point": o.service_point.code if o.service_point is not None else None,
            "departments": [{"code": d.code, "name": d.name} for d in o.departments],
        } for o in rows]}
