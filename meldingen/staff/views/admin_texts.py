"""Administrators' standard texts: the ready replies staff pick for "bericht aan melder", per status and
category, and the reply texts agents insert in the inbox; general ones kept by the service point, an
organisation's own by its administrator."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from meldingen.categories.models import Category
from meldingen.extensions import db
from meldingen.notify.models import StandardText
from meldingen.notify.standard_texts import PURPOSES, StandardTextRefused, save_standard_text
from meldingen.reports.statuses import load_status_table
from meldingen.staff.roles import action_required, is_service_point_staff
from meldingen.staff.views import bp
from meldingen.staff.views.admin import SECTIONS, _organisations
from meldingen.web.errors import db_int


def _kept_organisation_ids() -> list[int | None]:
    ids: list[int | None] = [o.id for o in _organisations()]
    if is_service_point_staff(current_user):
        ids.append(None)
    return ids


@bp.get("/admin/standard-texts")
@action_required("edit_templates")
def admin_standard_texts():
    kept = _kept_organisation_ids()
    texts = [t for t in db.session.scalars(select(StandardText).order_by(StandardText.purpose, StandardText.status,
                                                                         StandardText.position,
                                                                         StandardText.id))
             if t.organisation_id in kept]
    mains = db.session.scalars(select(Category).where(Category.parent_id.is_(None))
                               .order_by(Category.position, Category.name)).all()
    table = load_status_table()
    return render_template("staff/admin/standard_texts.html", sections=SECTIONS,
                           shared=is_service_point_staff(current_user), texts=texts, mains=mains,
                           status_names=table.names, organisations={o.id: o for o in _organisations()},
                           purposes=PURPOSES)


@bp.post("/admin/standard-texts")
@bp.post("/admin/standard-texts/<int:text_id>")
@action_required("edit_templates")
def admin_standard_text_save(text_id: int | None = None):
    kept = _kept_organisation_ids()
    text = None
    if text_id is not None:
        text = db.session.get(StandardText, text_id)
        if text is None or text.organisation_id not in kept:
            abort(404)
    code = request.form.get("organisation") or ""
    organisation_id = next((o.id for o in _organisations() if o.code == code), None) if code else None
    if code and organisation_id is None:
        abort(403)
    if text is not None and "organisation" not in request.form:
        organisation_id = text.organisation_id
    data = {**request.form.to_dict(), "organisation_id": organisation_id, "active": request.form.get("active") == "1"}
    if data.get("category_id"):
        data["category_id"] = str(db_int(data["category_id"]))
    try:
        saved = save_standard_text(data, text, organisation_ids=kept)
    except StandardTextRefused as exc:
        db.session.rollback()
        flash(f"Standaardtekst niet opgeslagen. {exc}", "error")
        return redirect(url_for("staff.admin_standard_texts")), 303
    db.session.commit()
    flash(f"Standaardtekst ‘{saved.title}’ opgeslagen.")
    return redirect(url_for("staff.admin_standard_texts")), 303
