"""Search and bulk actions: find reports by reference, address or words with filters in the URL, select many
(or every one a filter finds), and give them one status, department or assignee; filters kept by name.

Heads and administrators have one list for this, the backlog (`/staff/backlog`): their search links lead there
with the same filter."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from meldingen.accounts.models import StaffUser
from meldingen.categories.models import Category
from meldingen.extensions import db
from meldingen.organisations.models import Department
from meldingen.reports.access import visible_organisation_ids
from meldingen.staff import backlog as backlog_service
from meldingen.staff import bulk as bulk_service
from meldingen.staff import search as search_service
from meldingen.staff import worklist
from meldingen.staff.roles import BACKLOG_ROLES, action_required, may
from meldingen.staff.views import bp
from meldingen.timeutil import as_aware_utc, utcnow

# Who may change many reports at once (the heads who decide on the backlog, and administrators).
BULK_ROLES = BACKLOG_ROLES


@bp.get("/search")
@action_required("read_reports")
def search():
    if may("view_backlog"):  # one list for heads: the backlog does all the search did, and more
        return redirect(url_for("staff.backlog", **worklist.search_args_for_list(request.args))), 302
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
        saved_filters=worklist.saved_filters(current_user),
    ), (400 if error else 200)


@bp.post("/search/bulk")
@action_required("assign")
def search_bulk():
    back = request.form.get("back", "")
    if not back.startswith(worklist.LIST_PATHS):
        back = url_for("staff.search")
    action = request.form.get("action", "")
    value = request.form.get(action, "") if action in bulk_service.ACTIONS else ""
    references, limit = request.form.getlist("reference"), bulk_service.MAX_REPORTS
    try:
        if request.form.get("all_matching") == "1":
            # Every report the list's filter finds, on every page: read again now, not as the page showed it.
            references = matching_references(request.form.get("filter", ""))
            limit = worklist.MAX_MATCHING
        outcome = bulk_service.apply_bulk(current_user, references, action, value, request.form.get("note"),
                                          limit=limit)
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


def matching_references(query_string: str) -> list[str]:
    """The references the list's filter (its URL query) finds; BulkInputError for a filter that cannot be read
    or finds more than one bulk change may take."""
    from meldingen.staff.search import SearchTooShort

    args = {key: values[0] for key, values in parse_qs(query_string[:2000]).items()}
    try:
        flt = backlog_service.BacklogFilter.from_args(args)
        found = backlog_service.matching_references(current_user, flt, worklist.MAX_MATCHING + 1)
    except (backlog_service.BacklogFilterError, SearchTooShort) as exc:
        raise bulk_service.BulkInputError(str(exc)) from None
    if len(found) > worklist.MAX_MATCHING:
        raise bulk_service.BulkInputError(f"Dit filter vindt meer dan {worklist.MAX_MATCHING} meldingen. Maak het "
                                          f"filter kleiner en probeer het opnieuw.")
    return found


@bp.post("/filters")
@action_required("read_reports")
def saved_filter_save():
    """Keep the list's filter (its URL) under a name, for this member of staff."""
    url = request.form.get("url", "")
    try:
        saved = worklist.save_filter(current_user, request.form.get("name", ""), url)
    except worklist.SavedFilterRefused as exc:
        db.session.rollback()
        flash(f"Filter niet bewaard. {exc}", "error")
        path = urlsplit(url).path
        return redirect(path if path in worklist.LIST_PATHS else url_for("staff.search")), 303
    db.session.commit()
    flash(f"Filter ‘{saved.name}’ bewaard.")
    return redirect(saved.url), 303


@bp.post("/filters/<int:filter_id>/delete")
@action_required("read_reports")
def saved_filter_delete(filter_id: int):
    if not worklist.delete_filter(current_user, filter_id):
        abort(404)
    db.session.commit()
    flash("Filter verwijderd.")
    back = request.form.get("back", "")
    return redirect(back if back.startswith(worklist.LIST_PATHS) else url_for("staff.search")), 303
