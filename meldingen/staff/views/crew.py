"""Field crews on the street: "mijn werk" (assigned to me, then my department, nearest first, a page at a time),
taking a report for oneself, today's route, the service worker that keeps them readable without signal and
queues status changes, and the printable work order."""

from __future__ import annotations

import json

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from meldingen.extensions import db
from meldingen.reports.statuses import load_status_table
from meldingen.staff import mywork, report_actions, route, workorder
from meldingen.staff.roles import action_required
from meldingen.staff.views import bp
from meldingen.staff.views.fieldwork import _page_number, _parse_point, _photo_url, report_or_404
from meldingen.staff.words import SYSTEM_NOTES, history_lines


@bp.get("/werk")
@action_required("view_map")
def my_work():
    here = _parse_point(request.args.get("lat"), request.args.get("lon"))
    work = mywork.my_work_page(current_user, here, _page_number(request.args.get("page")))
    return render_template("staff/mywork.html", items=work.items, work=work, here=here, photo_url=_photo_url,
                           status_names=load_status_table().names, on_route=route.route_references(current_user))


@bp.post("/reports/<reference>/take")
@action_required("take_report")
def report_take(reference: str):
    """Take the report for oneself: one's own name as its assignee (the history and the audit log say who)."""
    report = report_or_404(reference)
    try:
        taken = report_actions.take(report, current_user)
    except report_actions.ActionRefused as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(f"Melding {report.reference} staat op uw naam." if taken else
              f"Melding {report.reference} stond al op uw naam.")
    return redirect(url_for("staff.report_page", reference=report.reference)), 303


# --- today's route -------------------------------------------------------------------------------------------

@bp.get("/route")
@action_required("view_map")
def my_route():
    here = _parse_point(request.args.get("lat"), request.args.get("lon"))
    return render_template("staff/route.html", stops=route.route(current_user, here), here=here,
                           photo_url=_photo_url, status_names=load_status_table().names, day=route.today())


@bp.post("/reports/<reference>/route")
@action_required("view_map")
def route_add(reference: str):
    report = report_or_404(reference)
    try:
        added = route.add_stop(current_user, report)
    except route.RouteRefused as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(f"Melding {report.reference} staat op uw route van vandaag." if added else
              f"Melding {report.reference} stond al op uw route.")
    return redirect(_back(report.reference)), 303


@bp.post("/reports/<reference>/route/remove")
@action_required("view_map")
def route_remove(reference: str):
    report = report_or_404(reference)
    if route.remove_stop(current_user, report):
        db.session.commit()
        flash(f"Melding {report.reference} is van uw route gehaald.")
    return redirect(_back(report.reference)), 303


@bp.post("/route/order")
@action_required("view_map")
def route_order():
    """Nearest neighbour from the position the phone gave (else from the first stop)."""
    here = _parse_point(request.form.get("lat"), request.form.get("lon"))
    route.order_nearest_neighbour(current_user, here)
    db.session.commit()
    flash("Uw route is geordend: steeds naar de dichtstbijzijnde volgende melding"
          + (", vanaf uw positie." if here else ", vanaf de eerste melding."))
    return redirect(url_for("staff.my_route", lat=f"{here[0]:.5f}" if here else None,
                            lon=f"{here[1]:.5f}" if here else None)), 303


def _back(reference: str) -> str:
    """Where a route button was pressed, at the card pressed: "mijn werk" or the route as they were (page,
    position), else the report page. Only those pages of this site, never an address from elsewhere."""
    back = request.form.get("back") or ""
    if back == "route":
        back = url_for("staff.my_route")
    elif back == "werk":
        back = url_for("staff.my_work")
    if back.startswith(("/staff/werk", "/staff/route")) and not any(c in back for c in ("//", "\\", "#", "\n")):
        return f"{back}#work-{reference}"
    return url_for("staff.report_page", reference=reference)


# The staff pages' styles and scripts, kept by the service worker when it installs.
PRECACHE = ("staff/staff.css", "staff/worklists.css", "staff/pins.js", "staff/report.js", "staff/map.js",
            "staff/mywork.js", "vendor/leaflet/leaflet.css", "vendor/leaflet/leaflet.js",
            "vendor/leaflet.markercluster/MarkerCluster.css", "vendor/leaflet.markercluster/MarkerCluster.Default.css",
            "vendor/leaflet.markercluster/leaflet.markercluster.js")


@bp.get("/sw.js")
def service_worker():
    """The crew's service worker, served from /staff/ so that it may look after every staff page; the asset
    URLs it keeps at install are written above it as they are served (url_for), so they match what pages ask."""
    path = current_app.static_folder + "/staff/sw.js"
    with open(path, encoding="utf-8") as handle:
        body = "var PRECACHE = " + json.dumps([url_for("static", filename=f) for f in PRECACHE]) + ";\n" + handle.read()
    response = Response(body, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/staff/"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/reports/<reference>/werkbon")
@action_required("read_reports")
def work_order(reference: str):
    report = report_or_404(reference)
    link = workorder.report_link(report, url_for("staff.report_page", reference=report.reference))
    return render_template("staff/workorder.html", report=report, link=link, qr_svg=workorder.qr_svg(link),
                           status_names=load_status_table().names, photo_url=_photo_url,
                           history=history_lines(report), system_notes=SYSTEM_NOTES,
                           tile_url=current_app.config.get("TILE_URL") or "")
