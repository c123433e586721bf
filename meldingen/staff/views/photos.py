"""/media/photos/<token>: a stored photo or its thumbnail, only for staff who may see its report."""

from __future__ import annotations

from flask import Blueprint, abort, request, send_file
from flask_login import current_user
from sqlalchemy import select

from meldingen.extensions import db
from meldingen.media.models import Photo
from meldingen.media.services import photo_file
from meldingen.reports.models import Report

bp = Blueprint("media", __name__)


def _viewer():
    """Staff signed in to the staff pages, or presenting an API token."""
    from meldingen.api.auth import staff_from_bearer_token

    if getattr(current_user, "is_authenticated", False):
        return current_user
    return staff_from_bearer_token()


def may_see_photo(staff, photo: Photo) -> bool:
    from meldingen.reports.access import scope_reports, visible_organisation_ids
    from meldingen.residents.models import Conversation

    if photo.report_id is not None:
        return db.session.scalar(scope_reports(select(Report.id).where(Report.id == photo.report_id), staff)) \
            is not None
    if photo.conversation_id is not None:  # still in a chat: the staff who may work that conversation
        conversation = db.session.get(Conversation, photo.conversation_id)
        if conversation is None:
            return False
        if conversation.organisation_id is None:
            return staff.organisation is not None and staff.organisation.kind == "service_point"
        return conversation.organisation_id in visible_organisation_ids(staff)
    return False


@bp.get("/media/photos/<token>")
def photo(token: str):
    staff = _viewer()
    if staff is None:
        abort(401)
    found = db.session.scalar(select(Photo).where(Photo.token == token))
    if found is None or not may_see_photo(staff, found):
        abort(404)  # not 403: whether a photo exists is itself not for everyone
    thumbnail = request.args.get("thumbnail") in ("1", "true")
    response = send_file(photo_file(found, thumbnail), mimetype="image/jpeg", max_age=0, conditional=True)
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
