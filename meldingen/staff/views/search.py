"""Search and bulk actions: find reports by reference, address or words with filters in the URL, select many,
and give them one status, department or assignee."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from meldingen.accounts.models import StaffUser
from meldingen.categories.models import Category
from meldingen.extensions import db
from meldingen.organisations.models import Department
from meldingen.reports.access import visible_organisation_ids
from meldingen.staff import bulk as bulk_service
from meldingen.staff import search as search_service
from meldingen.staff.roles import BACKLOG_ROLES, action_required
from meldingen.staff.views import bp
from meldingen.timeutil import as_aware_utc, utcnow

# Who may change many reports at once (the heads who decide on the backlog, and administrators).
BULK_ROLES = BACKLOG_ROLES


@bp.get("/search")
@action_required("read_reports")
def search():
    flt = search_service.SearchFilter.from_args(request.args)
    result, error = None, None
    if not flt.is_blank:
        try:
            result = search_service.search_reports(current_user, flt)
        except search_service.SearchTooShort as exc:
            error = str(exc)
    org_ids = visible_organisation_ids(current_user)
    bulk = current_user.role in BULK_ROLES
    return render_template(
        "staff/search.html", flt=flt, result=result, error=error, bulk=bulk, now=utcnow(), as_aware_utc=as_aware_utc,
        statuses=search_service.status_choices(), status_names=dict(search_service.status_choices()),
        main_categories=db.session.scalars(select(Category).where(Category.parent_id.is_(None))
                                           .order_by(Category.position, Category.name)).all(),
        departments=db.session.scalars(select(Department).where(Department.organisation_id.in_(org_ids))
                                       .order_by(Department.code)).all(),
        colleagues=db.session.scalars(select(StaffUser).where(StaffUser.organisation_id.in_(org_ids),
                                                              StaffUser.active.is_(True))
                                      .order_by(StaffUser.name, StaffUser.email)).all() if bulk else [],
    ), (400 if error else 200)


@bp.post("/search/bulk")
@action_required("assign")
def search_bulk():
    back = request.form.get("back", "")
    if not back.startswith("/staff/search"):
        back = url_for("staff.search")
    action = request.form.get("action", "")
    value = request.form.get(action, "") if action in bulk_service.ACTIONS else ""
    try:
        outcome = bulk_service.apply_bulk(current_user, request.form.getlist("reference"), action, value,
                                          request.form.get("note"))
    except bulk_service.BulkInputError as exc:
        flash(str(exc), "error")
        return redirect(back), 303
    db.session.commit()
    if outcome.changed:
        flash(f"{len(outcome.changed)} {'melding' if len(outcome.changed) == 1 else 'meldingen'} bijgewerkt: "
              + ", ".join(outcome.changed) + ".")
    if outcome.unchanged:
        flash(f"Al zo: {', '.join(outcome.unchanged)}.")
    for reference, reason in outcome.refused:
        flash(f"{reference} niet bijgewerkt: {reason}.", "error")
    return redirect(back), 303


