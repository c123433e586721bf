"""Administrators' answers to residents' questions that are not reports (with a link, given at once by the chat)
and the office hours in which a person answers the rest; general ones kept by the service point, an
organisation's own by its administrator. Beside the standard texts, and administered the same way."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from meldingen.extensions import db
from meldingen.notify.models import QuestionAnswer
from meldingen.notify.question_answers import QuestionAnswerRefused, save_question_answer
from meldingen.organisations.hours import WEEKDAYS, OfficeHoursRefused, hours_of, save_office_hours
from meldingen.organisations.models import OfficeHours
from meldingen.staff.roles import action_required, is_service_point_staff
from meldingen.staff.views import bp
from meldingen.staff.views.admin import SECTIONS, _organisations
from meldingen.staff.views.admin_texts import _kept_organisation_ids


def _organisation_id_from_form(kept: list[int | None]) -> int | None:
    code = request.form.get("organisation") or ""
    organisation_id = next((o.id for o in _organisations() if o.code == code), None) if code else None
    if (code and organisation_id is None) or organisation_id not in kept:
        abort(403)
    return organisation_id


@bp.get("/admin/questions")
@action_required("edit_templates")
def admin_questions():
    kept = _kept_organisation_ids()
    answers = [a for a in db.session.scalars(select(QuestionAnswer).order_by(QuestionAnswer.language,
                                                                             QuestionAnswer.position, QuestionAnswer.id))
               if a.organisation_id in kept]
    owners = sorted({h.organisation_id for h in db.session.scalars(select(OfficeHours))} & set(kept),
                    key=lambda i: (i is not None, i or 0))
    organisations = {o.id: o for o in _organisations()}
    hours = [(owner, organisations[owner] if owner is not None else None, hours_of(owner)) for owner in owners]
    return render_template("staff/admin/questions.html", sections=SECTIONS, shared=is_service_point_staff(current_user),
                           answers=answers, hours=hours, weekdays=WEEKDAYS["nl"], organisations=organisations)


@bp.post("/admin/questions")
@bp.post("/admin/questions/<int:answer_id>")
@action_required("edit_templates")
def admin_question_save(answer_id: int | None = None):
    kept = _kept_organisation_ids()
    answer = None
    if answer_id is not None:
        answer = db.session.get(QuestionAnswer, answer_id)
        if answer is None or answer.organisation_id not in kept:
            abort(404)
    organisation_id = answer.organisation_id if answer is not None and "organisation" not in request.form \
        else _organisation_id_from_form(kept)
    data = {**request.form.to_dict(), "organisation_id": organisation_id, "active": request.form.get("active") == "1"}
    try:
        saved = save_question_answer(data, answer, organisation_ids=kept)
    except QuestionAnswerRefused as exc:
        db.session.rollback()
        flash(f"Antwoord niet opgeslagen. {exc}", "error")
        return redirect(url_for("staff.admin_questions")), 303
    db.session.commit()
    flash(f"Antwoord ‘{saved.title}’ opgeslagen.")
    return redirect(url_for("staff.admin_questions")), 303


@bp.post("/admin/office-hours")
@action_required("edit_templates")
def admin_office_hours_save() -> ResponseReturnValue:
    kept = _kept_organisation_ids()
    organisation_id = _organisation_id_from_form(kept)
    days: dict[int, tuple[str, str]] = {}
    for weekday in range(7):
        opens = (request.form.get(f"opens_{weekday}") or "").strip()
        closes = (request.form.get(f"closes_{weekday}") or "").strip()
        if opens or closes:
            days[weekday] = (opens, closes)
    try:
        save_office_hours(organisation_id, days)
    except OfficeHoursRefused as exc:
        db.session.rollback()
        flash(f"Openingstijden niet opgeslagen. {exc}", "error")
        return redirect(url_for("staff.admin_questions")), 303
    db.session.commit()
    flash("Openingstijden opgeslagen." if days else "Openingstijden opgeslagen: de hele week gesloten.")
    return redirect(url_for("staff.admin_questions")), 303
