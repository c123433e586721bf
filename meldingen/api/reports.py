"""/api/v1/reports: list, get, create and change the status of reports."""

from __future__ import annotations

import math

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields
from sqlalchemy import and_, func, select

from meldingen import authz
from meldingen.api import changes
from meldingen.api.auth import current_staff, token_required
from meldingen.api.idempotency import honours_idempotency_key
from meldingen.api.problems import NOT_SERVED
from meldingen.api.schemas import (
    ReportCreateSchema,
    ReportPageSchema,
    ReportQuerySchema,
    ReportSchema,
    StatusChangeSchema,
    report_to_dict,
)
from meldingen.categories.models import Category
from meldingen.extensions import db
from meldingen.organisations.models import Organisation
from meldingen.pipeline import change_category, create_report
from meldingen.reports.access import scope_reports, visible_report
from meldingen.reports.models import Report
from meldingen.reports.services import (
    NewReport,
    NotActingFor,
    OutsideServiceArea,
    ReportInputError,
    change_status,
    find_sub_category,
)
from meldingen.reports.statuses import TransitionRefused, UnknownStatus

blp = Blueprint("reports", __name__, url_prefix="/reports", description="Reports (meldingen)")


def photo_url(photo, thumbnail: bool) -> str:
    return url_for("media.photo", token=photo.token, thumbnail=1 if thumbnail else None, _external=False)


def report_or_404(staff, reference: str):
    """The report if this staff member may see it; 404 otherwise (never a hint that it exists elsewhere)."""
    report = visible_report(staff, reference)
    if report is None:
        abort(404, message="no such report")
    return report


def serialise(report) -> dict:
    try:
        return report_to_dict(report, photo_url=photo_url)
    except Exception as exc:  # the media blueprint may not be registered in a minimal app
        if "media.photo" in str(exc):
            return report_to_dict(report)
        raise


def filtered_reports(args: dict, staff):
    query = scope_reports(select(Report), staff)
    if args.get("status"):
        query = query.where(Report.status.in_(args["status"].split(",")))
    if args.get("category"):
        slugs = args["category"].split(",")
        parent = Category.__table__.alias("parent")
        sub_ids = select(Category.id).outerjoin(parent, Category.parent_id == parent.c.id).where(
            Category.parent_id.is_not(None), (Category.slug.in_(slugs)) | (parent.c.slug.in_(slugs))
        )
        query = query.where(Report.category_id.in_(sub_ids))
    if args.get("organisation"):
        query = query.join(Organisation, Report.organisation_id == Organisation.id).where(
            Organisation.code.in_(args["organisation"].split(","))
        )
    if args.get("channel"):
        query = query.where(Report.channel.in_(args["channel"].split(",")))
    if args.get("bbox"):
        min_lon, min_lat, max_lon, max_lat = args["bbox"]
        query = query.where(and_(Report.lon >= min_lon, Report.lon <= max_lon,
                                 Report.lat >= min_lat, Report.lat <= max_lat))
    if args.get("created_after"):
        query = query.where(Report.created_at >= args["created_after"])
    if args.get("created_before"):
        query = query.where(Report.created_at < args["created_before"])
    if args.get("hide_duplicates"):
        query = query.where(Report.duplicate_of_id.is_(None))
    if args.get("updated_after"):
        query = query.where(Report.updated_at > args["updated_after"])
    return query


def changes_page(query, args: dict, total: int, size: int) -> dict:
    """One page of the walk by change (api/changes.py): `next` while more reports follow."""
    page = 1
    if args.get("cursor"):
        before = changes.up_to_key(query, args["cursor"])
        page += (db.session.scalar(select(func.count()).select_from(before.subquery())) or 0) // size
        query = changes.after_key(query, args["cursor"])
    rows = db.session.scalars(changes.by_change(query).limit(size + 1)).all()
    answer = {"items": [serialise(r) for r in rows[:size]], "page": page,
              "pages": max(1, math.ceil(total / size)), "total": total}
    if len(rows) > size:
        answer["next"] = changes.next_link(rows[size - 1])
    return answer


@blp.route("")
class Reports(MethodView):
    @token_required()
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.response(200, ReportPageSchema)
    @blp.doc(security=[{"bearer": []}])
    def get(self, args):
        """List the reports the caller may see, newest first, with filters and paging; with `sort=updated_at`,
        oldest change first, paged by the `next` link's cursor (a report changed meanwhile is met once, later)."""
        query = filtered_reports(args, current_staff())
        total = db.session.scalar(select(func.count()).select_from(query.subquery()))
        page, size = args["page"], args["page_size"]
        if args["sort"] == "updated_at":
            return changes_page(query, args, total, size)
        rows = db.session.scalars(
            query.order_by(Report.created_at.desc(), Report.id.desc()).offset((page - 1) * size).limit(size)
        ).all()
        return {"items": [serialise(r) for r in rows], "page": page,
                "pages": max(1, math.ceil(total / size)), "total": total}

    @token_required("create_report")
    @honours_idempotency_key
    @blp.arguments(ReportCreateSchema)
    @blp.response(201, ReportSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, data):
        """Make a report through the same pipeline as a chat."""
        staff = current_staff()
        location = data.get("location") or {}
        new = NewReport(
            description=data["description"],
            channel="staff",
            lat=location.get("lat"),
            lon=location.get("lon"),
            address_text=data.get("address"),
            category_slug=data.get("category"),
            actor=staff.email,
            actor_id=staff.id,
            acting_for=frozenset(authz.acting_organisation_codes(staff)),
        )
        try:
            report = create_report(new)
        except ReportInputError as exc:
            db.session.rollback()
            abort(422, message=str(exc), errors={exc.field or "_schema": [str(exc)]})
        except NotActingFor as exc:
            db.session.rollback()
            abort(403, message=str(exc))
        except OutsideServiceArea as exc:
            db.session.rollback()
            where = exc.municipality_name or "buiten Nederland"
            message = f"this location is not served here ({where})"
            abort(422, message=message, type=NOT_SERVED,
                  errors={"location" if data.get("location") else "address": [message]},
                  extra={"municipality": exc.municipality_code, "municipality_name": exc.municipality_name})
        db.session.commit()
        return serialise(report)


@blp.route("/<string:reference>")
class ReportItem(MethodView):
    @token_required()
    @blp.response(200, ReportSchema)
    @blp.doc(security=[{"bearer": []}])
    def get(self, reference):
        """One report; 404 when it does not exist or belongs to another organisation."""
        return serialise(report_or_404(current_staff(), reference))


@blp.route("/<string:reference>/status")
class ReportStatus(MethodView):
    @token_required("change_status")
    @blp.arguments(StatusChangeSchema)
    @blp.response(200, ReportSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, data, reference):
        """Change the status; 409 with the reason when the status table does not allow the move."""
        staff = current_staff()
        report = report_or_404(staff, reference)
        if not authz.may_set_status(staff, data["status"]):
            abort(403, message=f"your role ({staff.role}) may not set the status '{data['status']}'")
        try:
            change_status(report, data["status"], data.get("note"), actor=staff.email, actor_id=staff.id,
                          resident_message=data.get("resident_message"))
        except UnknownStatus as exc:
            db.session.rollback()
            abort(422, message=exc.reason, errors={"json": {"status": [exc.reason]}})
        except TransitionRefused as exc:
            db.session.rollback()
            abort(409, message=exc.reason)
        db.session.commit()
        return serialise(report)


class CategoryChangeSchema(Schema):
    category = fields.String(required=True, metadata={"description": "sub category slug"})
    note = fields.String(load_default=None)


@blp.route("/<string:reference>/category")
class ReportCategory(MethodView):
    @token_required("change_category")
    @blp.arguments(CategoryChangeSchema)
    @blp.response(200, ReportSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, data, reference):
        """Set the category; the report is routed again and the text kept to train the classifier."""
        staff = current_staff()
        report = report_or_404(staff, reference)
        try:
            change_category(report, find_sub_category(data["category"]), actor=staff.email, actor_id=staff.id,
                            staff_user=staff, note=data.get("note"))
        except ReportInputError as exc:
            db.session.rollback()
            abort(422, message=str(exc), errors={exc.field or "category": [str(exc)]})
        db.session.commit()
        return serialise(report)
