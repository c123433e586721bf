"""Field crews, phone first: the map and list of their team's open reports, one report, and its status buttons."""

from __future__ import annotations

import json
import math

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from meldingen import authz
from meldingen.categories.models import Category
from meldingen.extensions import db
from meldingen.media.images import ImageRejected
from meldingen.pipeline import change_category
from meldingen.reports.access import scope_reports, visible_report
from meldingen.reports.models import Report, Status
from meldingen.reports.services import ReportInputError
from meldingen.reports.statuses import TransitionRefused, load_status_table
from meldingen.staff import mapdata, mywork, report_actions, route
from meldingen.staff.roles import action_required
from meldingen.staff.views import bp
from meldingen.staff.words import SYSTEM_NOTES, history_lines, status_refusal
from meldingen.timeutil import as_aware_utc, utcnow

LIST_LIMIT = 100  # a page of the list under the map
MAX_RESIDENT_MESSAGE = 2000


@bp.get("/map")
@action_required("view_map")
def map_page():
    sort = request.args.get("sort", "age")
    here = _parse_point(request.args.get("lat"), request.args.get("lon"))
    if sort != "distance" or here is None:
        sort = "age"
    total = db.session.scalar(_open_reports_for_list(current_user, func.count()))
    pages = max(1, -(-total // LIST_LIMIT))
    page = min(max(1, _page_number(request.args.get("page"))), pages)
    order = [*mywork.nearness(here), Report.id] if sort == "distance" and here else [Report.created_at, Report.id]
    reports = db.session.scalars(_open_reports_for_list(current_user, Report).order_by(*order)
                                 .limit(LIST_LIMIT).offset((page - 1) * LIST_LIMIT)
                                 .options(selectinload(Report.category))).all()
    now = utcnow()
    rows = [{"report": report, "distance": _distance_m(here, (report.lat, report.lon)) if here else None,
             "age": mapdata.report_age_days(report, now),
             "late": report.deadline is not None and as_aware_utc(report.deadline) < now} for report in reports]
    return render_template("staff/map.html", rows=rows, sort=sort, here=here, total=total, page=page, pages=pages,
                           first=(page - 1) * LIST_LIMIT + 1, tile_url=current_app.config.get("TILE_URL") or "")


@bp.get("/map/reports.geojson")
@action_required("view_map")
def map_reports():
    # Asked again on every visit and every return online: the same pins answer 304 to the browser's ETag.
    response = Response(mapdata.open_reports_geojson(current_user), mimetype="application/geo+json")
    response.headers["Cache-Control"] = "private, no-cache"
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/map/areas.geojson")
@action_required("view_map")
def map_areas():
    return Response(json.dumps(mapdata.area_outlines_geojson(current_user), separators=(",", ":")),
                    mimetype="application/geo+json")


def _open_reports_for_list(staff, *columns):
    """The map's open reports (those with a place), as `columns`."""
    return scope_reports(
        select(*columns).select_from(Report).join(Status, Status.code == Report.status)
        .where(Status.is_open.is_(True), Report.duplicate_of_id.is_(None), Report.lat.is_not(None)), staff)


def _page_number(value) -> int:
    try:
        return max(1, min(int(value), 100_000))
    except (TypeError, ValueError):
        return 1


def _parse_point(lat, lon):
    try:
        point = float(lat), float(lon)
    except (TypeError, ValueError):
        return None
    if not (-90 <= point[0] <= 90 and -180 <= point[1] <= 180) or any(math.isnan(v) for v in point):
        return None
    return point


def _distance_m(a, b) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


# --- one report --------------------------------------------------------------------------------------------

def report_or_404(reference: str) -> Report:
    """The report if the signed-in staff member may see it; 404 otherwise."""
    report = visible_report(current_user, reference)
    if report is None:
        abort(404)
    return report


@bp.get("/reports/<reference>")
@action_required("read_reports")
def report_page(reference: str):
    report = report_or_404(reference)
    table = load_status_table()
    allowed = [s for s in table.allowed_from(report.status) if s != "duplicate"]
    buttons = [s for s in allowed if authz.may_set_status(current_user, s)]
    manage = authz.may(current_user, "assign")
    context: dict[str, object] = {}
    if authz.may(current_user, "change_category"):
        context["category_tree"] = _active_category_tree()
    if manage:
        from meldingen.accounts.models import StaffUser

        context["departments"] = report.organisation.departments if report.organisation else []
        context["assignees"] = db.session.scalars(
            select(StaffUser).where(StaffUser.organisation_id == report.organisation_id,
                                    StaffUser.active.is_(True)).order_by(StaffUser.email)).all()
    may_merge = authz.may(current_user, "merge")
    if may_merge:
        context["candidates"] = report_actions.duplicate_candidates(report, current_user) \
            if report.duplicate_of_id is None and report.is_open else []
    if buttons:
        from meldingen.notify.hooks import subscribers
        from meldingen.notify.standard_texts import texts_for_report

        context["standard_texts"] = [t for t in texts_for_report(report) if t.status is None or t.status in buttons]
        following = len(subscribers(report))
        context["subscriber_count"] = following
        context["confirmed_statuses"] = [s for s in buttons if s in CONFIRMED_ALWAYS
                                         or (following and s in table.notify)]
        # The sentences the page's dialog shows when the preview cannot be fetched (no signal): the change is
        # still confirmed as what it is, and kept on the phone with that confirmation.
        context["summaries"] = {s: (status_change_summary(report, s, None)["sentence"],
                                    status_change_summary(report, s, "-")["sentence"]) for s in buttons}
    if report.is_open and authz.may(current_user, "view_map"):  # the crew's own work: take it, plan it
        context["may_take"] = (authz.may(current_user, "take_report") and report.assignee_id != current_user.id
                               and report.organisation_id == current_user.organisation_id)
        context["may_route"] = True
        context["on_route"] = report.reference in route.route_references(current_user)
    needs_note = {s: table.moves.get((report.status, s), False) for s in buttons}
    return render_template(
        "staff/report.html", report=report, buttons=buttons, status_names=table.names, needs_note=needs_note,
        history=history_lines(report), system_notes=SYSTEM_NOTES,
        note_required_for=[table.names.get(s, s) for s, needed in needs_note.items() if needed], manage=manage,
        may_merge=may_merge,
        late=report.is_open and report.deadline is not None and as_aware_utc(report.deadline) < utcnow(),
        photo_url=_photo_url, **context)


def _active_category_tree() -> list[tuple[Category, list[Category]]]:
    mains = db.session.scalars(
        select(Category).where(Category.parent_id.is_(None), Category.active.is_(True)).order_by(Category.position)
    ).all()
    return [(main, [sub for sub in main.children if sub.active]) for main in mains]


@bp.post("/reports/<reference>/category")
@action_required("change_category")
def report_category(reference: str):
    """Correct the category: the report is routed again and the text is kept to train the classifier."""
    report = report_or_404(reference)
    from meldingen.web.errors import db_int

    category = db.session.get(Category, db_int(request.form.get("category") or 0))
    try:
        change_category(report, category, actor=current_user.email, actor_id=current_user.id,
                        staff_user=current_user)
    except ReportInputError:
        db.session.rollback()
        reason = "kies een subcategorie" if category is None or category.parent_id is None else \
            f"de categorie ‘{category.name}’ wordt niet meer gebruikt"
        flash(f"Categorie niet gewijzigd: {reason}.", "error")
    else:
        db.session.commit()
        flash("Categorie opgeslagen; de melding is opnieuw doorgezet.")
    return redirect(url_for("staff.report_page", reference=report.reference)), 303


def _photo_url(photo, thumbnail: bool = False) -> str:
    return url_for("media.photo", token=photo.token, thumbnail=1 if thumbnail else None)


# What a status change does to a report, said as staff would ("De melding wordt afgehandeld").
STATUS_OUTCOMES = {
    "new": "teruggezet naar ‘Gemeld’", "in_progress": "in behandeling genomen", "planned": "ingepland",
    "on_hold": "in afwachting gezet", "forwarded": "doorgezet naar een externe partij", "done": "afgehandeld",
    "cancelled": "geannuleerd", "reopened": "heropend",
}
# Changes confirmed even when no resident hears of them: they end the report for everyone who follows it.
CONFIRMED_ALWAYS = frozenset({"cancelled"})


def status_change_summary(report: Report, new_status: str, resident_message: str | None) -> dict:
    """What a status change will do, in one Dutch sentence, and whether staff confirm it first: a change that
    messages residents, or that cancels the report, is confirmed as what it is. The count is the residents who
    will get a message (those following on a channel we can answer on), so the sentence and the outbox agree."""
    from meldingen.notify.hooks import residents_told, subscribers

    names = load_status_table().names
    outcome = STATUS_OUTCOMES.get(new_status) or f"op ‘{names.get(new_status, new_status)}’ gezet"
    told = residents_told(report, new_status, resident_message)
    residents = len(subscribers(report)) if told else 0
    if residents:
        who = "1 melder krijgt" if residents == 1 else f"{residents} melders krijgen"
        sentence = f"De melding wordt {outcome} en {who} dit bericht."
    elif told:
        sentence = (f"De melding wordt {outcome}. Niemand volgt deze melding op een kanaal waarop wij kunnen "
                    "antwoorden: er gaat geen bericht uit.")
    else:
        sentence = f"De melding wordt {outcome}. De melders krijgen hiervan geen bericht."
    return {"sentence": sentence, "residents": residents, "status_name": names.get(new_status, new_status),
            "confirm": bool(residents) or bool((resident_message or "").strip()) or new_status in CONFIRMED_ALWAYS}


@bp.post("/reports/<reference>/status")
@action_required("change_status")
def report_status(reference: str):
    """A status change with an internal note; with "bericht aan melder" also a message to the residents.
    A change that messages residents or cancels the report is made only after staff confirmed it as what it is
    (the confirmation step, or the page's dialog), so a stray Enter can never close a report or message anyone."""
    from meldingen.notify.hooks import preview_status_messages

    report = report_or_404(reference)
    new_status = request.form.get("status", "")
    if not new_status:  # the form's default button: an implicit submission changes nothing
        flash("Er is niets gewijzigd. Kies een knop met de nieuwe status.", "error")
        return redirect(url_for("staff.report_page", reference=report.reference, _anchor="status-update")), 303
    if not authz.may_set_status(current_user, new_status):
        abort(403)
    note = request.form.get("note")
    resident_message = None
    if request.form.get("to_resident") == "1":
        resident_message = (request.form.get("resident_message") or "").strip()
        if not resident_message:
            flash("Schrijf het bericht aan de melder, of zet ‘bericht aan melder’ uit.", "error")
            return redirect(url_for("staff.report_page", reference=report.reference, _anchor="status-update")), 303
        if len(resident_message) > MAX_RESIDENT_MESSAGE:
            flash(f"Het bericht aan de melder mag hoogstens {MAX_RESIDENT_MESSAGE} tekens lang zijn.", "error")
            return redirect(url_for("staff.report_page", reference=report.reference, _anchor="status-update")), 303
    summary = status_change_summary(report, new_status, resident_message) \
        if new_status in load_status_table().names else None
    if summary and summary["confirm"] and request.form.get("confirmed") != "1":
        previews = [p for p in preview_status_messages(report, new_status, resident_message) if p["residents"]] \
            if summary["residents"] else []
        return render_template("staff/confirm_message.html", report=report, status=new_status,
                               status_name=summary["status_name"], summary=summary, note=note or "",
                               resident_message=resident_message or "",
                               had_photo=bool(request.files.get("photo") and request.files["photo"].filename),
                               previews=previews)
    try:
        report_actions.update_status_with_photo(report, current_user, new_status, note,
                                                request.files.get("photo"), resident_message=resident_message)
    except TransitionRefused:
        db.session.rollback()
        flash(f"Niet gelukt: {status_refusal(report.status, new_status, load_status_table().names)}.", "error")
        return redirect(url_for("staff.report_page", reference=report.reference, _anchor="status-update")), 303
    except ImageRejected as exc:
        db.session.rollback()
        from meldingen.media.refusals import refusal_text

        flash(f"De foto is niet opgeslagen: {refusal_text([exc.code])}.", "error")
        return redirect(url_for("staff.report_page", reference=report.reference, _anchor="status-update")), 303
    db.session.commit()
    names = load_status_table().names
    told = ""
    if summary and summary["residents"]:
        what = "uw bericht" if resident_message else "hiervan bericht"
        told = f" 1 melder krijgt {what}." if summary["residents"] == 1 else \
            f" {summary['residents']} melders krijgen {what}."
    flash(f"Melding {report.reference} staat nu op ‘{names.get(new_status, new_status)}’.{told}")
    return redirect(url_for("staff.report_page", reference=report.reference, _anchor="status-update")), 303


@bp.get("/reports/<reference>/message-preview")
@action_required("change_status")
def report_message_preview(reference: str):
    """The exact texts residents would get for this status and message, per language (the page's preview)."""
    from meldingen.notify.hooks import preview_status_messages

    report = report_or_404(reference)
    status = request.args.get("status", "")
    if status not in load_status_table().names:
        abort(400)
    message = (request.args.get("message") or "")[:MAX_RESIDENT_MESSAGE]
    summary = status_change_summary(report, status, message)
    return {"previews": preview_status_messages(report, status, message), "summary": summary["sentence"],
            "residents": summary["residents"], "confirm": summary["confirm"]}
