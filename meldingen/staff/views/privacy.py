"""Staff pages of privacy: writing a report's public description, and (administrators) a resident's data:
see it, export it (right of access, JSON or CSV) and erase it (right to erasure)."""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from meldingen.audit.services import client_ip
from meldingen.extensions import db
from meldingen.privacy import residents as resident_data
from meldingen.privacy.public import PublicTextError, set_public_description
from meldingen.privacy.residents import erase_resident, resident_export_csv, visible_reporter
from meldingen.reports.access import visible_report
from meldingen.staff.roles import action_required
from meldingen.timeutil import utcnow

bp = Blueprint("privacy", __name__, url_prefix="/staff")

# Who may write what the public reads of a report (they read the resident's words to do it).
PUBLIC_TEXT_ROLES = ("admin", "head", "agent")


@bp.after_request
def _no_store(response):
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


@bp.post("/reports/<reference>/public-description")
@action_required("edit_public_text")
def report_public_description(reference: str):
    report = visible_report(current_user, reference)
    if report is None:
        abort(404)
    try:
        set_public_description(report, request.form.get("public_description", ""), actor=current_user.email,
                               actor_id=current_user.id)
    except PublicTextError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash("De openbare omschrijving is opgeslagen.")
    return redirect(url_for("staff.report_page", reference=report.reference)), 303


def _reporter_or_404(reporter_id: int):
    reporter = visible_reporter(current_user, reporter_id)
    if reporter is None:
        abort(404)
    return reporter


@bp.get("/admin/residents/<int:reporter_id>")
@action_required("resident_data")
def resident_page(reporter_id: int):
    reporter = _reporter_or_404(reporter_id)
    return render_template("privacy/resident.html", reporter=reporter, export=resident_data.resident_export(reporter),
                           sections=_sections())


@bp.get("/admin/residents/<int:reporter_id>/export.<fmt>")
@action_required("resident_data")
def resident_export(reporter_id: int, fmt: str):
    reporter = _reporter_or_404(reporter_id)
    export = resident_data.resident_export(reporter)
    stamp = utcnow().strftime("%Y%m%d-%H%M")
    if fmt == "json":
        body, mimetype = json.dumps(export, ensure_ascii=False, indent=2), "application/json"
    elif fmt == "csv":
        body, mimetype = "\ufeff" + resident_export_csv(export), "text/csv; charset=utf-8"
    else:
        abort(404)
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="bewoner-{reporter.id}-{stamp}.{fmt}"'})


@bp.post("/admin/residents/<int:reporter_id>/erase")
@action_required("resident_data")
def resident_erase(reporter_id: int):
    reporter = _reporter_or_404(reporter_id)
    if request.form.get("confirm") != "wissen":
        flash("Typ ‘wissen’ om te bevestigen dat alle gegevens van deze bewoner worden gewist.", "error")
        return redirect(url_for("privacy.resident_page", reporter_id=reporter.id)), 303
    counts = erase_resident(reporter, staff=current_user, ip=client_ip())
    db.session.commit()
    flash(f"De gegevens van deze bewoner zijn gewist ({counts['reports']} meldingen, {counts['messages']} "
          "berichten). De meldingen zelf blijven, met hun openbare omschrijving.")
    return redirect(url_for("privacy.resident_page", reporter_id=reporter.id)), 303


def _sections():
    from meldingen.staff.views.admin import SECTIONS

    return SECTIONS
