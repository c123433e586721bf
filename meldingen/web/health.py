"""GET /healthz: is the service and its database up."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from sqlalchemy import text

from meldingen.extensions import db, limiter

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not healthy", with the part that failed
        log.warning("health check: database failed: %s", exc.__class__.__name__)
        db.session.rollback()
        return jsonify(status="unavailable", database="failed"), 503
    return jsonify(status="ok", database="ok")
