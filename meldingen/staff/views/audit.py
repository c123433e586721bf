"""/staff/admin/audit: the audit log for an organisation's administrators, as a page and as CSV. Read only."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, Response, render_template, request
from flask_login import current_user

from meldingen.audit.services import (
    ACTION_NAMES,
    DETAIL_NAMES,
    OBJECT_NAMES,
    OUTCOMES,
    AuditFilter,
    entries_csv,
    readable_entries,
)
from meldingen.extensions import db
from meldingen.staff.roles import ROLE_NAMES, action_required
from meldingen.timeutil import local_zone, utcnow

bp = Blueprint("audit", __name__, url_prefix="/staff/admin")
PAGE_SIZE = 100
CSV_LIMIT = 100_000


def _filter_from_args(args) -> tuple[AuditFilter, list[str]]:
    errors = []
    flt = AuditFilter(actor=(args.get("actor") or "").strip()[:254], action=(args.get("action") or "").strip()[:80],
                      object_id=(args.get("object") or "").strip()[:80], outcome=(args.get("outcome") or "")[:10])
    for name, attr, extra in (("from", "since", timedelta(0)), ("to", "until", timedelta(days=1))):
        value = (args.get(name) or "").strip()
        if value:
            try:
                day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=local_zone())
            except ValueError:
                errors.append(f"‘{value}’ is geen datum (jjjj-mm-dd).")
                continue
            if not 1900 <= day.year <= 2999:  # the log holds no other years; year 1 or 9999 cannot even be moved to UTC
                errors.append(f"‘{value}’ ligt buiten de jaren van het auditlog.")
                continue
            setattr(flt, attr, day + extra)
    return flt, errors


@bp.get("/audit")
@action_required("read_audit")
def audit_log():
    flt, errors = _filter_from_args(request.args)
    page = max(1, min(request.args.get("page", 1, type=int) or 1, 100_000))
    rows = db.session.scalars(readable_entries(current_user, flt).offset((page - 1) * PAGE_SIZE)
                              .limit(PAGE_SIZE + 1)).all()
    from meldingen.staff.roles import is_service_point_staff
    from meldingen.staff.views.admin import SECTIONS

    return render_template("audit/log.html", entries=rows[:PAGE_SIZE], more=len(rows) > PAGE_SIZE, page=page,
                           args=request.args, query_args={k: v for k, v in request.args.items() if k != "page"},
                           errors=errors, sections=SECTIONS,
                           shared=is_service_point_staff(current_user), action_names=ACTION_NAMES,
                           outcomes=OUTCOMES, object_names=OBJECT_NAMES, detail_names=DETAIL_NAMES,
                           role_names=ROLE_NAMES)


@bp.get("/audit.csv")
@action_required("read_audit")
def audit_csv():
    flt, _ = _filter_from_args(request.args)
    entries = db.session.scalars(readable_entries(current_user, flt).limit(CSV_LIMIT)).all()
    stamp = utcnow().strftime("%Y%m%d-%H%M")
    return Response("\ufeff" + entries_csv(entries), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="auditlog-{stamp}.csv"',
                             "Cache-Control": "no-store"})
