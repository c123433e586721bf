"""/api/v1/reports/{reference}/candidates, /merge and /unmerge: staff see and decide duplicate reports."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from meldingen.api.auth import current_staff, token_required
from meldingen.api.reports import report_or_404, serialise
from meldingen.api.schemas import ReportSchema
from meldingen.dedup.merge_review import MAX_REASON_LENGTH, merge_with_reason, review_merge
from meldingen.dedup.services import (
    MergeRefused,
    find_duplicate_candidates,
    stored_candidates,
    unmerge_report,
)
from meldingen.extensions import db
from meldingen.reports.access import scope_reports
from meldingen.reports.models import Report

blp = Blueprint("duplicates", __name__, url_prefix="/reports", description="Duplicate reports")



class CandidateSchema(Schema):
    reference = fields.String()
    status = fields.String()
    category = fields.String(allow_none=True, metadata={"description": "sub category slug"})
    created_at = fields.DateTime()
    reporters_count = fields.Integer()
    score = fields.Float(metadata={"description": "0..1; merged automatically at 0.8 and above"})
    reasons = fields.Dict(metadata={"description": "the evidence: distance, asset, typed number, text, time"})
    source = fields.String(metadata={"description": "'search' (found now) or 'stored' (kept at intake)"})


class CandidatesSchema(Schema):
    reference = fields.String()
    duplicate_of = fields.String(allow_none=True)
    candidates = fields.List(fields.Nested(CandidateSchema))


class MergeSchema(Schema):
    into = fields.String(required=True, metadata={"description": "reference of the known report"})
    reason = fields.String(load_default=None, validate=validate.Length(max=MAX_REASON_LENGTH), metadata={
        "description": "why these are one problem; required (else 409) where the reports differ in category, "
                       "lie further apart than the category's duplicate distance, or a place is unknown"})


class MergePreviewQuery(Schema):
    into = fields.String(required=True, metadata={"description": "reference of the known report"})


class MergeSideSchema(Schema):
    reference = fields.String()
    status = fields.String()
    category = fields.String(allow_none=True)
    created_at = fields.DateTime()
    reporters_count = fields.Integer()


class MergeReviewSchema(Schema):
    duplicate = fields.Nested(MergeSideSchema)
    into = fields.Nested(MergeSideSchema)
    distance_m = fields.Float(allow_none=True)
    duplicate_distance_m = fields.Float(metadata={"description": "the known report's category's duplicate distance"})
    same_category = fields.Boolean()
    days_apart = fields.Float()
    needs_reason = fields.Boolean()
    concerns = fields.List(fields.String())


@blp.route("/<string:reference>/candidates")
class Candidates(MethodView):
    @token_required("read_candidates")
    @blp.response(200, CandidatesSchema)
    @blp.doc(security=[{"bearer": []}])
    def get(self, reference):
        """Open reports that may be the same problem, best first, with the reasons."""
        staff = current_staff()
        report = report_or_404(staff, reference)
        found: dict[int, dict] = {}
        if report.duplicate_of_id is None and report.is_open:
            for candidate in find_duplicate_candidates(report, limit=20):
                found[candidate.report.id] = _candidate(candidate, "search")
        for candidate in stored_candidates(report):
            if candidate.report.id not in found and candidate.report.is_open \
                    and candidate.report.duplicate_of_id is None:
                found[candidate.report.id] = _candidate(candidate, "stored")
        visible = set(db.session.scalars(scope_reports(
            select(Report.id).where(Report.id.in_(list(found) or [0])), staff)))
        items = sorted((item for rid, item in found.items() if rid in visible), key=lambda i: -i["score"])
        return {"reference": report.reference,
                "duplicate_of": report.duplicate_of.reference if report.duplicate_of is not None else None,
                "candidates": items}


def _candidate(candidate, source: str) -> dict:
    report = candidate.report
    return {"reference": report.reference, "status": report.status,
            "category": report.category.slug if report.category is not None else None,
            "created_at": report.created_at, "reporters_count": report.reporters_count,
            "score": candidate.score, "reasons": candidate.reasons, "source": source}


@blp.route("/<string:reference>/merge")
class Merge(MethodView):
    @token_required("merge")
    @blp.arguments(MergePreviewQuery, location="query")
    @blp.response(200, MergeReviewSchema)
    @blp.doc(security=[{"bearer": []}])
    def get(self, args, reference):
        """What a merge into `into` would join: distance, categories, dates, and whether it needs a reason."""
        staff = current_staff()
        return review_merge(report_or_404(staff, reference), report_or_404(staff, args["into"])).as_dict()

    @token_required("merge")
    @blp.arguments(MergeSchema)
    @blp.response(200, ReportSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, data, reference):
        """Merge this report into a known one; 409 with the reason when it cannot be done, or when the two look
        like different problems (category, distance, unknown place) and no `reason` was given."""
        staff = current_staff()
        duplicate = report_or_404(staff, reference)
        target = report_or_404(staff, data["into"])
        try:
            merge_with_reason(duplicate, target, data.get("reason"), actor=staff.email, actor_id=staff.id)
        except MergeRefused as exc:
            db.session.rollback()
            abort(409, message=str(exc))
        db.session.commit()
        return serialise(duplicate)


@blp.route("/<string:reference>/unmerge")
class Unmerge(MethodView):
    @token_required("merge")
    @blp.response(200, ReportSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, reference):
        """Undo a merge: the report is its own again (status "new") and its residents return to it."""
        staff = current_staff()
        duplicate = report_or_404(staff, reference)
        try:
            unmerge_report(duplicate, actor=staff.email, actor_id=staff.id)
        except MergeRefused as exc:
            db.session.rollback()
            abort(409, message=str(exc))
        db.session.commit()
        return serialise(duplicate)
