"""/api/v1/reports/{reference}/photos: staff add a photo to a report they may see."""

from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields

from meldingen.api.auth import current_staff, token_required
from meldingen.api.idempotency import honours_idempotency_key
from meldingen.api.reports import photo_url
from meldingen.extensions import db
from meldingen.media.images import ImageRejected
from meldingen.media.services import store_photo
from meldingen.reports.access import visible_report
from meldingen.reports.services import add_event

blp = Blueprint("photos", __name__, url_prefix="/reports", description="Photos of reports")


class PhotoSchema(Schema):
    url = fields.String()
    thumbnail_url = fields.String()


UPLOAD_BODY = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary", "description": "JPEG, PNG, WebP or HEIC"}}}}}}


@blp.route("/<reference>/photos")
class ReportPhotos(MethodView):
    @token_required("add_photo")
    @honours_idempotency_key
    @blp.response(201, PhotoSchema)
    @blp.doc(security=[{"bearer": []}], requestBody=UPLOAD_BODY)
    @blp.alt_response(400, description="malformed image or no file")
    @blp.alt_response(413, description="image too large")
    @blp.alt_response(415, description="not an image")
    def post(self, reference: str):
        """Add a photo (multipart, field `file`); it is checked by content, turned upright and stripped of EXIF."""
        staff = current_staff()
        report = visible_report(staff, reference)
        if report is None:
            abort(404, message="no such report")
        upload = request.files.get("file")
        if upload is None:
            abort(400, message="send the photo as multipart/form-data in the field 'file'")
        data = upload.read(current_app.config["MAX_PHOTO_BYTES"] + 1)  # one byte more tells "too large"
        try:
            photo = store_photo(data, source="staff", report_id=report.id, uploaded_by_id=staff.id)
        except ImageRejected as exc:
            abort(exc.http_status, message=exc.reason)
        add_event(report, "photo", actor=staff.email, actor_id=staff.id, data={"photo": photo.token})
        db.session.commit()
        return {"url": photo_url(photo, False), "thumbnail_url": photo_url(photo, True)}
