"""Department heads: the backlog with filters in the URL, hotspots, the weekly chart, CSV export, reassigning
and merging duplicates."""

from __future__ import annotations

import math

from flask import Response, abort, flash, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user
from sqlalchemy import select

from meldingen.categories.models import Category
from meldingen.extensions import db
from meldingen.organisations.models import Department
from meldingen.reports.access import visible_organisation_ids, visible_report
from meldingen.reports.statuses import load_status_table
from meldingen.staff import backlog as backlog_service
from meldingen.staff import report_actions
from meldingen.staff.charts import weekly_chart_svg
from meldingen.staff.roles import BACKLOG_ROLES, roles_required
from meldingen.staff.views import bp
from meldingen.staff.views.fieldwork import report_or_404
from meldingen.timeutil import as_aware_utc, utcnow


@bp.get("/backlog")
@roles_required(*BACKLOG_ROLES)
def backlog():
    flt = _filter_from_url()
    now = utcnow()
    rows, total = backlog_service.backlog_page(current_user, flt, now)
    table = load_status_table()
    return render_template(
        "staff/backlog.html", flt=flt, rows=rows, total=total, now=now,
        pages=max(1, math.ceil(total / backlog_service.PAGE_SIZE)),
        aggregates=backlog_service.backlog_aggregates(current_user, flt, now),
        hotspots=backlog_service.hotspots(current_user, flt, now),
        chart=weekly_chart_svg(backlog_service.weekly_in_out(current_user, now=now)),
        main_categories=db.session.scalars(select(Category).where(Category.parent_id.is_(None))
                                           .order_by(Category.position, Category.name)).all(),
        departments=sorted({d.code: d for d in db.session.scalars(select(Department).where(
            Department.organisation_id.in_(visible_organisation_ids(current_user))))}.values(),
            key=lambda d: d.code),
        open_statuses=sorted(table.open_codes), status_names=table.names, as_aware_utc=as_aware_utc,
        sorts=list(backlog_service.SORTS),
    )


@bp.get("/backlog.csv")
@roles_required(*BACKLOG_ROLES)
def backlog_csv():
    flt = _filter_from_url()
    delimiter = "," if request.args.get("sep") == "comma" else ";"
    staff_id = current_user.id
    stamp = utcnow().strftime("%Y%m%d-%H%M")

    def generate():
        # Streaming runs in a fresh app context with its own session: load the staff member there.
        from meldingen.staff.models import StaffUser

        yield from backlog_service.csv_rows(db.session.get(StaffUser, staff_id), flt, delimiter)

    response = Response(stream_with_context(generate()), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="meldingen-{stamp}.csv"'
    return response


@bp.post("/reports/<reference>/assign")
@roles_required(*BACKLOG_ROLES)
def report_assign(reference: str):
    report = report_or_404(reference)
    department = request.form.get("department")
    assignee = request.form.get("assignee")
    from meldingen.web.errors import db_int

    assignee_id = db_int(assignee) if assignee not in (None, "") else (0 if assignee == "" else None)
    try:
        report_actions.reassign(report, current_user, department, assignee_id)
    except report_actions.ActionRefused as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash("Toewijzing opgeslagen.")
    return redirect(url_for("staff.report_page", reference=report.reference)), 303


@bp.post("/reports/<reference>/merge")
@roles_required(*BACKLOG_ROLES)
def report_merge(reference: str):
    """Merge this report into the chosen candidate (the target keeps the work, its residents hear of it)."""
    duplicate = visible_report(current_user, reference)
    target = visible_report(current_user, request.form.get("target", ""))
    if duplicate is None or target is None:
        abort(404)
    try:
        report_actions.merge_duplicate(duplicate, target, current_user)
    except report_actions.ActionRefused as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("staff.report_page", reference=duplicate.reference)), 303
    except ValueError as exc:  # the duplicates service refusing, e.g. across organisations
        db.session.rollback()
        flash(f"Niet samengevoegd: {exc}", "error")
        return redirect(url_for("staff.report_page", reference=duplicate.reference)), 303
    flash(f"{duplicate.reference} is samengevoegd met {target.reference}.")
    return redirect(url_for("staff.report_page", reference=target.reference)), 303


@bp.post("/reports/<reference>/unmerge")
@roles_required(*BACKLOG_ROLES)
def report_unmerge(reference: str):
    duplicate = report_or_404(reference)
    try:
        report_actions.unmerge(duplicate, current_user)
    except (report_actions.ActionRefused, ValueError) as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash(f"{duplicate.reference} is weer een eigen melding.")
    return redirect(url_for("staff.report_page", reference=duplicate.reference)), 303


def _filter_from_url():
    from meldingen.web.errors import DutchBadRequest

    try:
        return backlog_service.BacklogFilter.from_args(request.args)
    except backlog_service.BacklogFilterError as exc:
        raise DutchBadRequest(str(exc)) from None
