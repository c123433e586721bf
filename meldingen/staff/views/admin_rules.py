"""Administrators' routing rules: a list that can be searched and paged, and one form per rule built from
pickers (categories, organisations, areas, weekdays, times, target department) — validated against what exists
by the routing services, refused with a Dutch reason and the typed values kept."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select

from meldingen.categories.models import Category
from meldingen.extensions import db
from meldingen.geo.models import Area, Asset
from meldingen.organisations.models import Department
from meldingen.routing.models import RoutingRule
from meldingen.staff.admin_forms import WEEKDAYS, FormRefused, rule_from_form
from meldingen.staff.roles import action_required, is_service_point_staff
from meldingen.staff.views import bp
from meldingen.staff.views.admin import SECTIONS, _organisations
from meldingen.web.errors import db_int

RULES_PAGE_SIZE = 25


def _render(template: str, status: int = 200, **context):
    return render_template(f"staff/admin/{template}", sections=SECTIONS, shared=is_service_point_staff(current_user),
                           **context), status


@bp.get("/admin/rules")
@action_required("read_rules")
def admin_rules():
    from meldingen.routing.services import may_administer_rule, may_read_rule

    query = (request.args.get("q") or "").strip()[:100]
    page = db_int(request.args.get("page") or 1, low=1, high=100_000)
    stmt = select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id)
    if query:
        like = f"%{query}%"
        stmt = stmt.where(or_(RoutingRule.name.ilike(like), RoutingRule.department_code.ilike(like),
                              RoutingRule.organisation_code.ilike(like)))
    rules = [r for r in db.session.scalars(stmt) if may_read_rule(current_user, r)]  # other organisations': unseen
    pages = max(1, -(-len(rules) // RULES_PAGE_SIZE))
    shown = rules[(page - 1) * RULES_PAGE_SIZE: page * RULES_PAGE_SIZE]
    return _render("rules.html", rules=shown, total=len(rules), query=query, page=page, pages=pages,
                   editable={r.id: may_administer_rule(current_user, r.conditions, r.organisation_code) for r in shown},
                   describe=describe_rule, never_fire=_never_fire(rules), moving=not query)


@bp.get("/admin/rules/new")
@bp.get("/admin/rules/<int:rule_id>")
@action_required("edit_rules")
def admin_rule_form(rule_id: int | None = None):
    rule = _readable_rule(rule_id) if rule_id is not None else None
    values = _values_of(rule) if rule is not None else {"active": True, "organisation_codes": _own_codes()}
    return _render("rule_form.html", rule=rule, values=values, **_choices())


@bp.post("/admin/rules")
@bp.post("/admin/rules/<int:rule_id>")
@action_required("edit_rules")
def admin_rule_save(rule_id: int | None = None):
    from meldingen.routing.services import RuleRefused, save_rule

    rule = _readable_rule(rule_id) if rule_id is not None else None
    try:
        data = rule_from_form(request.form)
        saved = save_rule(data, current_user, rule)
    except (FormRefused, RuleRefused) as exc:
        db.session.rollback()
        if isinstance(exc, RuleRefused) and exc.status == 403:
            abort(403)
        reason = exc.dutch if isinstance(exc, RuleRefused) else str(exc)
        flash(f"Regel niet opgeslagen. {reason}", "error")
        return _render("rule_form.html", status=422, rule=rule, values=_values_from_form(request.form),
                       **_choices())
    warning = shadow_warning(saved)
    db.session.commit()
    flash(f"Regel ‘{saved.name}’ opgeslagen.")
    if warning:
        flash(warning, "warning")
    return redirect(url_for("staff.admin_rules")), 303


@bp.post("/admin/rules/<int:rule_id>/move")
@action_required("edit_rules")
def admin_rule_move(rule_id: int):
    """One place up or down in the order in which rules are tried (the first that fits decides)."""
    from meldingen.routing.services import RuleRefused, may_read_rule, move_rule

    rule = _readable_rule(rule_id)
    places = -1 if request.form.get("direction") == "up" else 1
    readable = [r for r in db.session.scalars(select(RoutingRule)) if may_read_rule(current_user, r)]
    try:
        move_rule(rule, current_user, places, readable)
    except RuleRefused:
        db.session.rollback()
        abort(403)
    warning = shadow_warning(rule)
    db.session.commit()
    flash(f"Regel ‘{rule.name}’ {'omhoog' if places < 0 else 'omlaag'} gezet.")
    if warning:
        flash(warning, "warning")
    return redirect(url_for("staff.admin_rules")), 303


def _never_fire(readable: list[RoutingRule]) -> dict:
    """{id of a rule this member of staff reads that never fires: the earlier rule, by name where they may read
    it}, for the list."""
    from meldingen.routing.services import rules_that_never_fire

    ids = {r.id for r in readable}
    return {rid: _rule_label(earlier) for rid, earlier in rules_that_never_fire().items() if rid in ids}


def _rule_label(rule: RoutingRule) -> str:
    from meldingen.routing.services import may_read_rule

    if may_read_rule(current_user, rule):
        return f"regel ‘{rule.name}’ (positie {rule.position})"
    return f"een regel van een andere organisatie (positie {rule.position})"


def shadow_warning(rule: RoutingRule) -> str | None:
    """A plain warning when the rule never fires (an earlier rule takes all its reports) or makes later rules
    never fire; None when the order is fine."""
    from meldingen.routing.services import may_read_rule, rules_that_never_fire

    never = rules_that_never_fire()
    if rule.id in never:
        earlier = _rule_label(never[rule.id])
        return (f"Let op: regel ‘{rule.name}’ wordt nooit gebruikt. {earlier[0].upper()}{earlier[1:]} "
                f"staat eerder en past al op dezelfde meldingen. Zet ‘{rule.name}’ hoger in de lijst.")
    hidden = [r for rid, earlier in never.items() if earlier.id == rule.id
              and (r := db.session.get(RoutingRule, rid)) is not None and may_read_rule(current_user, r)]
    if hidden:
        names = ", ".join(f"‘{r.name}’" for r in hidden)
        return (f"Let op: door regel ‘{rule.name}’ worden deze regels nooit meer gebruikt: {names}. Zet ze hoger "
                f"in de lijst.")
    return None


@bp.post("/admin/rules/<int:rule_id>/delete")
@action_required("edit_rules")
def admin_rule_delete(rule_id: int):
    from meldingen.routing.services import RuleRefused, delete_rule

    rule = _readable_rule(rule_id)
    try:
        delete_rule(rule, current_user)
    except RuleRefused:
        db.session.rollback()
        abort(403)
    db.session.commit()
    flash("Regel verwijderd.")
    return redirect(url_for("staff.admin_rules")), 303


def _readable_rule(rule_id: int) -> RoutingRule:
    """The rule, if it concerns one of the organisations this member of staff acts for; else 404, as if absent."""
    from meldingen.routing.services import may_read_rule

    rule = db.session.get(RoutingRule, rule_id)
    if rule is None or not may_read_rule(current_user, rule):
        abort(404)
    return rule


def _own_codes() -> list[str]:
    return [] if is_service_point_staff(current_user) else [current_user.organisation.code]


def _choices() -> dict:
    organisations = [o for o in _organisations() if o.kind != "service_point"]
    mains = db.session.scalars(select(Category).where(Category.parent_id.is_(None))
                               .order_by(Category.position, Category.name)).all()
    codes = [o.code for o in organisations]
    areas = db.session.execute(
        select(Area.code, Area.name, Area.level, Area.municipality_code)
        .where(Area.level.in_(("municipality", "district")),
               or_(Area.code.in_(codes), Area.municipality_code.in_(codes)))
        .order_by(Area.level.desc(), Area.name)).all()
    departments = db.session.execute(select(Department.code, Department.name)
                                     .where(Department.organisation_id.in_([o.id for o in organisations]))
                                     .order_by(Department.code)).all()
    unique_departments = list({code: (code, name) for code, name in departments}.values())
    asset_types = db.session.scalars(select(Asset.type).distinct().order_by(Asset.type)).all()
    return {"organisations": organisations, "mains": mains, "areas": areas, "departments": unique_departments,
            "asset_types": asset_types, "weekdays": WEEKDAYS}


def _values_of(rule: RoutingRule) -> dict:
    conditions = rule.conditions or {}
    return {"name": rule.name, "position": rule.position, "active": rule.active,
            "organisation_code": rule.organisation_code or "", "department_code": rule.department_code or "",
            **{key: conditions.get(key) or [] for key in ("main_slugs", "sub_slugs", "organisation_codes",
                                                            "area_codes", "asset_types", "weekdays")},
            "time_from": conditions.get("time_from") or "", "time_to": conditions.get("time_to") or ""}


def _values_from_form(form) -> dict:
    values = {key: form.get(key, "") for key in ("name", "position", "organisation_code", "department_code",
                                                  "time_from", "time_to")}
    for key in ("main_slugs", "sub_slugs", "organisation_codes", "area_codes", "asset_types"):
        values[key] = form.getlist(key)
    values["weekdays"] = [int(d) for d in form.getlist("weekdays") if d.isdigit()]
    values["active"] = form.get("active") == "1"
    return values


def describe_rule(rule: RoutingRule) -> str:
    """A rule's conditions in words, for the list: "subcategorie: klok; ma, di; 22:00–07:00"."""
    conditions = rule.conditions or {}
    parts = []
    for key, label in (("main_slugs", "hoofdcategorie"), ("sub_slugs", "subcategorie"),
                       ("organisation_codes", "gemeente"), ("area_codes", "gebied"), ("asset_types", "object")):
        if conditions.get(key):
            parts.append(f"{label}: {', '.join(conditions[key])}")
    if conditions.get("weekdays"):
        names = dict(WEEKDAYS)
        parts.append(", ".join(names.get(d, str(d)) for d in conditions["weekdays"]))
    if conditions.get("time_from"):
        parts.append(f"{conditions['time_from']}–{conditions['time_to']}")
    return "; ".join(parts) or "alle meldingen"
