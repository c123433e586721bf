"""Field crews on the street: "mijn werk" (assigned to me, then my department, nearest first), the service
worker that keeps it readable without signal and queues status changes, and the printable work order."""

from __future__ import annotations

from flask import Response, current_app, render_template, request, url_for
from flask_login import current_user

from meldingen.reports.statuses import load_status_table
from meldingen.staff import mywork, workorder
from meldingen.staff.roles import action_required
from meldingen.staff.views import bp
from meldingen.staff.views.fieldwork import _parse_point, _photo_url, report_or_404
from meldingen.staff.words import SYSTEM_NOTES, history_lines


@bp.get("/werk")
@action_required("view_map")
def my_work():
    here = _parse_point(request.args.get("lat"), request.args.get("lon"))
    items = mywork.my_work(current_user, here)
    return render_template("staff/mywork.html", items=items, here=here, photo_url=_photo_url,
                           status_names=load_status_table().names)


@bp.get("/sw.js")
def service_worker():
    """The crew's service worker, served from /staff/ so that it may look after every staff page."""
    path = current_app.static_folder + "/staff/sw.js"
    with open(path, encoding="utf-8") as handle:
        body = handle.read()
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
