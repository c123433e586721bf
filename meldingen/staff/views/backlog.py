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
from meldingen.reports.references import find_reference
from meldingen.reports.statuses import load_status_table
from meldingen.staff import backlog as backlog_service
from meldingen.staff import report_actions
from meldingen.staff.charts import weekly_chart_svg
from meldingen.staff.roles import action_required
from meldingen.staff.views import bp
from meldingen.staff.views.fieldwork import report_or_404
from meldingen.timeutil import as_aware_utc, utcnow


@bp.get("/backlog")
@action_required("view_backlog")
def backlog():
    """The heads' one list: filters, sort, pages, select (all matching) and bulk changes, with the aggregates,
    the weekly chart and the hotspots of the same filter."""
    from meldingen.staff import worklist
    from meldingen.staff.search import SearchTooShort

    flt = _filter_from_url()
    now = utcnow()
    error = None
    try:
        rows, total = backlog_service.backlog_page(current_user, flt, now)
    except SearchTooShort as exc:
        error, flt.q = str(exc), ""
        rows, total = backlog_service.backlog_page(current_user, flt, now)
    table = load_status_table()
    areas = worklist.area_choices(current_user)
    return render_template(
        "staff/backlog.html", flt=flt, rows=rows, total=total, now=now, error=error,
        area_codes={code for _municipality, choices in areas for code, _name in choices},
        pages=max(1, math.ceil(total / backlog_service.PAGE_SIZE)),
        aggregates=backlog_service.backlog_aggregates(current_user, flt, now),
        hotspots=backlog_service.hotspots(current_user, flt, now),
        chart=weekly_chart_svg(backlog_service.weekly_in_out(current_user, now=now, flt=flt)),
        main_categories=db.session.scalars(select(Category).where(Category.parent_id.is_(None))
                                           .order_by(Category.position, Category.name)).all(),
        departments=sorted({d.code: d for d in db.session.scalars(select(Department).where(
            Department.organisation_id.in_(visible_organisation_ids(current_user))))}.values(),
            key=lambda d: d.code),
        open_statuses=sorted(table.open_codes), status_names=table.names, as_aware_utc=as_aware_utc,
        closed_statuses=sorted(set(table.names) - set(table.open_codes)),
        sorts=list(backlog_service.SORTS), areas=areas,
        colleagues=worklist.colleagues(current_user), saved_filters=worklist.saved_filters(current_user),
        bulk_statuses=[(code, table.names[code]) for code in table.names if code != "duplicate"],
        max_matching=worklist.MAX_MATCHING,
    ), (400 if error else 200)


@bp.get("/backlog.csv")
@action_required("view_backlog")
def backlog_csv():
    flt = _filter_from_url()
    delimiter = "," if request.args.get("sep") == "comma" else ";"
    staff_id = current_user.id
    stamp = utcnow().strftime("%Y%m%d-%H%M")

    def generate():
        # Streaming runs in a fresh app context with its own session: load the staff member there.
        from meldingen.accounts.models import StaffUser

        yield from backlog_service.csv_rows(db.session.get(StaffUser, staff_id), flt, delimiter)

    response = Response(stream_with_context(generate()), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="meldingen-{stamp}.csv"'
    return response


@bp.post("/reports/<reference>/assign")
@action_required("assign")
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
        db.session.commit()
        flash("Toewijzing opgeslagen.")
    return redirect(url_for("staff.report_page", reference=report.reference)), 303


@bp.get("/reports/<reference>/merge")
@action_required("view_backlog")
def report_merge_preview(reference: str):
    """Before a merge by typed reference: both reports side by side, their distance, categories and dates, and
    a reason asked for where they look like different problems."""
    from meldingen.dedup.merge_review import review_merge

    duplicate = report_or_404(reference)
    typed = (request.args.get("target") or "").replace("\x00", "").strip()[:40]
    found = find_reference(typed)
    target = visible_report(current_user, found) if found else None
    if target is None:
        flash(f"Melding ‘{typed}’ niet gevonden." if typed else "Typ het nummer van de melding.", "error")
        return redirect(url_for("staff.report_page", reference=duplicate.reference)), 303
    if target.id == duplicate.id:
        flash("Een melding kan niet met zichzelf worden samengevoegd.", "error")
        return redirect(url_for("staff.report_page", reference=duplicate.reference)), 303
    return render_template("staff/merge.html", duplicate=duplicate, target=target,
                           review=review_merge(duplicate, target), status_names=load_status_table().names)


@bp.post("/reports/<reference>/merge")
@action_required("merge")
def report_merge(reference: str):
    """Merge this report into the chosen one (the target keeps the work, its residents hear of it); where the
    two look like different problems, only with a reason."""
    from meldingen.dedup.merge_review import MergeNeedsReason, merge_with_reason
    from meldingen.dedup.services import MergeRefused

    duplicate = visible_report(current_user, reference)
    target = visible_report(current_user, request.form.get("target", ""))
    if duplicate is None or target is None:
        abort(404)
    try:
        merge_with_reason(duplicate, target, request.form.get("reason"), actor=current_user.email,
                          actor_id=current_user.id)
    except MergeNeedsReason:
        db.session.rollback()
        flash("Deze meldingen lijken over iets anders te gaan. Geef een reden om ze toch samen te voegen.", "error")
        return redirect(url_for("staff.report_merge_preview", reference=duplicate.reference,
                                target=target.reference)), 303
    except MergeRefused as exc:
        db.session.rollback()
        flash(f"Niet samengevoegd: {merge_refusal_in_dutch(exc, duplicate, target)}", "error")
        return redirect(url_for("staff.report_page", reference=duplicate.reference)), 303
    db.session.commit()
    flash(f"{duplicate.reference} is samengevoegd met {target.reference}.")
    return redirect(url_for("staff.report_page", reference=target.reference)), 303


def merge_refusal_in_dutch(exc: Exception, duplicate, target) -> str:
    text = str(exc)
    if "already merged into another" in text:
        return f"{duplicate.reference} is al samengevoegd; maak dat eerst ongedaan."
    if "already merged into" in text:
        return f"{target.reference} is al met {duplicate.reference} samengevoegd."
    if "is not merged" in text:
        return f"{duplicate.reference} is niet samengevoegd."
    if "closed" in text:
        return f"{target.reference} is afgesloten; met een afgesloten melding kan niet worden samengevoegd."
    if "different organisations" in text:
        return "meldingen van verschillende organisaties kunnen niet samen."
    if "into itself" in text:
        return "een melding kan niet met zichzelf worden samengevoegd."
    return "de status van de melding laat dit nu niet toe."


@bp.post("/reports/<reference>/unmerge")
@action_required("merge")
def report_unmerge(reference: str):
    duplicate = report_or_404(reference)
    try:
        report_actions.unmerge(duplicate, current_user)
    except report_actions.ActionRefused as exc:
        db.session.rollback()
        flash(str(exc), "error")
    except ValueError as exc:  # the duplicates service's refusal (English, for the API)
        db.session.rollback()
        flash(f"Niet gelukt: {merge_refusal_in_dutch(exc, duplicate, duplicate)}", "error")
    else:
        db.session.commit()
        flash(f"{duplicate.reference} is weer een eigen melding.")
    return redirect(url_for("staff.report_page", reference=duplicate.reference)), 303


def _filter_from_url():
    from meldingen.web.errors import DutchBadRequest

    try:
        return backlog_service.BacklogFilter.from_args(request.args)
    except backlog_service.BacklogFilterError as exc:
        raise DutchBadRequest(str(exc)) from None
