"""Administrators' stuck list: background work that kept failing, with retry and dismiss (rules in recovery/stuck)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from meldingen.extensions import db
from meldingen.reports.access import visible_organisation_ids
from meldingen.staff import stuck
from meldingen.staff.roles import action_required, is_service_point_staff
from meldingen.staff.views import bp
from meldingen.staff.views.admin import SECTIONS

KIND_NAMES = {"inbound": "Binnengekomen bericht", "outbound": "Bericht aan melder", "conversation": "Gesprek"}


def _scope() -> list[int] | None:
    return None if is_service_point_staff(current_user) else visible_organisation_ids(current_user)


def _visible(kind: str, item_id: int) -> bool:
    return any(i.kind == kind and i.id == item_id for i in stuck.stuck_items(_scope()))


@bp.get("/admin/stuck")
@action_required("administer")
def admin_stuck():
    return render_template("staff/admin/stuck.html", sections=SECTIONS, items=stuck.stuck_items(_scope()),
                           kind_names=KIND_NAMES, shared=is_service_point_staff(current_user))


@bp.post("/admin/stuck/<any(inbound, outbound, conversation):kind>/<int:item_id>/retry")
@action_required("administer")
def admin_stuck_retry(kind: str, item_id: int):
    if not _visible(kind, item_id):
        abort(404)
    restarted = stuck.retry(kind, item_id, current_user.email)
    if restarted is not None:
        db.session.commit()
        restarted.enqueue()
        flash("Opnieuw gestart.")
    return redirect(url_for("staff.admin_stuck")), 303


@bp.post("/admin/stuck/<any(inbound, outbound, conversation):kind>/<int:item_id>/dismiss")
@action_required("administer")
def admin_stuck_dismiss(kind: str, item_id: int):
    if not _visible(kind, item_id):
        abort(404)
    if stuck.dismiss(kind, item_id, current_user.email):
        db.session.commit()
        flash("Afgesloten.")
    return redirect(url_for("staff.admin_stuck")), 303
