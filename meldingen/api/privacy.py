"""/api/v1/reports/{reference}/public-description and …/resident: the public text, and a resident's data."""

from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from meldingen.api.auth import current_staff, token_required
from meldingen.api.reports import report_or_404, serialise
from meldingen.api.schemas import ReportSchema
from meldingen.extensions import db
from meldingen.privacy.public import MAX_PUBLIC_DESCRIPTION, PublicTextError, set_public_description
from meldingen.privacy.residents import erase_resident, resident_export

blp = Blueprint("privacy_api", __name__, url_prefix="/reports",
                description="What the public sees of a report, and the resident's rights")


class PublicDescriptionSchema(Schema):
    public_description = fields.String(required=True, validate=validate.Length(max=MAX_PUBLIC_DESCRIPTION))


@blp.route("/<string:reference>/public-description")
class PublicDescription(MethodView):
    @token_required("edit_public_text")
    @blp.arguments(PublicDescriptionSchema)
    @blp.response(200, ReportSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, data, reference):
        """Write the public description (what Open311 and public pages show) instead of the redacted text."""
        staff = current_staff()
        report = report_or_404(staff, reference)
        try:
            set_public_description(report, data["public_description"], actor=staff.email, actor_id=staff.id)
        except PublicTextError as exc:
            db.session.rollback()
            abort(422, message=str(exc), errors={"public_description": [str(exc)]})
        db.session.commit()
        return serialise(report)


def _reporter_of(reference: str):
    report = report_or_404(current_staff(), reference)
    if report.reporter is None:
        abort(404, message="this report was not made by a resident on a chat channel")
    return report.reporter


@blp.route("/<string:reference>/resident")
class ResidentExport(MethodView):
    @token_required("resident_data")
    @blp.response(200)
    @blp.doc(security=[{"bearer": []}])
    def get(self, reference):
        """Everything held about the resident who made this report (right of access)."""
        return resident_export(_reporter_of(reference))


@blp.route("/<string:reference>/resident/erase")
class ResidentErase(MethodView):
    @token_required("resident_data")
    @blp.response(200)
    @blp.doc(security=[{"bearer": []}])
    def post(self, reference):
        """Erase the resident's platform id, name and chat texts (right to erasure); the report stays."""
        counts = erase_resident(_reporter_of(reference), staff=current_staff(), ip=request.remote_addr)
        db.session.commit()
        return {"erased": counts}
