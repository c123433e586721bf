"""Deciding a report's organisation and department, and writing the decision to its history."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from meldingen.extensions import db
from meldingen.routing.rules import RoutingContext
from meldingen.routing.rules import decide_route as evaluate_rules
from meldingen.timeutil import utcnow


@dataclass
class RoutingDecision:
    organisation_code: str | None
    department_code: str | None
    rule_id: int | None
    reason: str


def fallback_decision(organisation_code: str | None, category) -> RoutingDecision:
    """No rule matched: the organisation of the point and the category's first responsible department."""
    department_codes = (category.department_codes or []) if category is not None else []
    return RoutingDecision(
        organisation_code=organisation_code,
        department_code=_first_existing_department(organisation_code, department_codes),
        rule_id=None,
        reason="category's responsible department",
    )


def _first_existing_department(organisation_code: str | None, codes: list[str]) -> str | None:
    from meldingen.organisations.models import Department, Organisation

    if organisation_code is None or not codes:
        return None
    existing = set(
        db.session.scalars(
            select(Department.code).join(Organisation).where(Organisation.code == organisation_code)
        )
    )
    for code in codes:
        if code in existing:
            return code
    return None


def active_rules() -> list:
    """The active routing rules in the order they are tried."""
    from meldingen.routing.models import RoutingRule

    return list(
        db.session.scalars(
            select(RoutingRule).where(RoutingRule.active.is_(True)).order_by(RoutingRule.position, RoutingRule.id)
        )
    )


def routing_context(report, place, category) -> RoutingContext:
    """What the rules look at: category, the organisation and areas of the point, the asset, the local time."""
    areas = place.areas if place is not None else {}
    return RoutingContext(
        at=report.created_at or utcnow(),
        main_slug=category.main_slug if category is not None else None,
        sub_slug=category.slug if category is not None and not category.is_main else None,
        organisation_code=place.organisation if place is not None else None,
        area_codes=frozenset(code for code in areas.values() if code),
        asset_type=(place.asset or {}).get("type") if place is not None else None,
    )


def decide_route(report, place, category, rules=None) -> RoutingDecision:
    """The first active rule (by position) that matches decides; otherwise the category's department.

    A rule without an organisation sends the report to the organisation whose area holds the point, which is
    how one shared service point routes each report to the municipality it lies in. A rule without a
    department leaves the department to the category, resolved within the chosen organisation.
    """
    context = routing_context(report, place, category)
    decision = evaluate_rules(active_rules() if rules is None else rules, context)
    if decision.rule_id is None:
        return fallback_decision(context.organisation_code, category)
    department = decision.department_code
    if department is None:
        department = fallback_decision(decision.organisation_code, category).department_code
    return RoutingDecision(decision.organisation_code, department, decision.rule_id, decision.reason)


def apply_route(report, decision: RoutingDecision, actor: str = "system") -> None:
    from meldingen.organisations.models import Department, Organisation
    from meldingen.reports.services import add_event

    org = None
    if decision.organisation_code:
        org = db.session.scalar(select(Organisation).where(Organisation.code == decision.organisation_code))
    dept = None
    if org is not None and decision.department_code:
        dept = db.session.scalar(
            select(Department).where(Department.organisation_id == org.id, Department.code == decision.department_code)
        )
    report.organisation = org
    report.department = dept
    add_event(
        report,
        "routing",
        actor=actor,
        note=routing_note(decision, org, dept),
        data={
            "organisation": decision.organisation_code,
            "department": decision.department_code,
            "rule_id": decision.rule_id,
            "reason": decision.reason,
        },
    )


def routing_note(decision: RoutingDecision, organisation, department) -> str:
    """The routing decision in the history, in Dutch with the names staff use: "Doorgezet naar Gemeente
    Amsterdam, afdeling Stadswerken, volgens regel ‘Verlichting ’s nachts’"."""
    from meldingen.routing.models import RoutingRule

    where = organisation.name if organisation is not None else (decision.organisation_code or "geen organisatie")
    text = f"Doorgezet naar {where}"
    if department is not None:
        text += f", afdeling {department.name}"
    elif decision.department_code:
        text += f", afdeling {decision.department_code}"
    rule = db.session.get(RoutingRule, decision.rule_id) if isinstance(decision.rule_id, int) else None
    if rule is not None:
        return f"{text}, volgens regel ‘{rule.name}’"
    if decision.rule_id is not None:
        return f"{text}, volgens een routeringsregel"
    return f"{text}: geen regel past, de afdeling van de categorie"


# --- administering the rules (the API and the staff pages call these) ---------------------------------------


class RuleRefused(ValueError):
    """A rule change that is not valid or not allowed; the message says why."""

    def __init__(self, message: str, status: int = 422, dutch: str | None = None):
        super().__init__(message)
        self.status = status
        self.dutch = dutch or message  # for the administration pages


MAX_POSITION = 1_000_000_000  # within the integer column, with room to insert after the last rule

RULE_FIELDS = ("name", "position", "active", "conditions", "organisation_code", "department_code")


def rule_to_dict(rule) -> dict:
    return {
        "id": rule.id,
        "position": rule.position,
        "name": rule.name,
        "active": rule.active,
        "conditions": rule.conditions or {},
        "organisation_code": rule.organisation_code,
        "department_code": rule.department_code,
    }


def may_administer_rule(staff, conditions: dict, organisation_code: str | None = None) -> bool:
    """Admins of the service point keep every rule of the organisations it serves; an organisation's own admin
    only rules limited to its organisation(s). Either routes only to an organisation the author acts for."""
    from meldingen import authz

    if staff.organisation is None:
        return False
    acting = authz.acting_organisation_codes(staff)
    if organisation_code is not None and organisation_code not in acting:
        return False
    if authz.is_service_point_staff(staff):
        return True
    limited_to = set((conditions or {}).get("organisation_codes") or [])
    return bool(limited_to) and limited_to <= acting


def may_read_rule(staff, rule) -> bool:
    """A rule concerns an organisation when it routes to it or applies to its reports; rules that apply to every
    organisation and keep the point's organisation are shared. Staff read only rules that concern theirs."""
    from meldingen import authz

    if staff.organisation is None:
        return False
    if authz.is_service_point_staff(staff):
        return True
    acting = authz.acting_organisation_codes(staff)
    limited_to = set((rule.conditions or {}).get("organisation_codes") or [])
    if rule.organisation_code is not None and rule.organisation_code not in acting:
        return False
    return not limited_to or bool(limited_to & acting)


def readable_rules(staff) -> list:
    """The rules this staff member may read, in the order they are tried."""
    from meldingen.routing.models import RoutingRule

    rules = db.session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id))
    return [rule for rule in rules if may_read_rule(staff, rule)]


def save_rule(data: dict, staff, rule=None):
    """Create (rule=None) or change a routing rule after checking it; raises RuleRefused. Does not commit."""
    from meldingen.organisations.models import Department, Organisation
    from meldingen.routing.models import RoutingRule
    from meldingen.routing.rules import Rule, RuleError

    values = {key: getattr(rule, key) for key in RULE_FIELDS} if rule is not None else {
        "name": "", "position": None, "active": True, "conditions": {}, "organisation_code": None,
        "department_code": None}  # fmt: skip
    if rule is not None and not may_administer_rule(staff, rule.conditions, rule.organisation_code):
        raise RuleRefused("this rule is not limited to your organisation", status=403)
    values.update({key: data[key] for key in RULE_FIELDS if key in data})
    try:
        checked = Rule.from_data(values["conditions"], organisation_code=values["organisation_code"],
                                 department_code=values["department_code"])
    except RuleError as exc:
        raise RuleRefused(str(exc)) from None
    if checked.organisation_code is not None and db.session.scalar(
        select(Organisation.id).where(Organisation.code == checked.organisation_code)
    ) is None:
        raise RuleRefused(f"unknown organisation '{checked.organisation_code}'",
                          dutch=f"Organisatie {checked.organisation_code} bestaat niet.")
    if not may_administer_rule(staff, checked.conditions()):
        raise RuleRefused("limit the rule to your own organisation: conditions.organisation_codes = "
                          f"[\"{staff.organisation.code}\"]", status=403)
    if not may_administer_rule(staff, checked.conditions(), checked.organisation_code):
        raise RuleRefused(f"a rule may route only to an organisation you act for, not to "
                          f"'{checked.organisation_code}'", status=403)
    if checked.department_code is not None and db.session.scalar(
        select(Department.id).where(Department.code == checked.department_code).limit(1)
    ) is None:
        raise RuleRefused(f"unknown department '{checked.department_code}'",
                          dutch=f"Afdeling {checked.department_code} bestaat niet.")
    check_rule_names_exist(checked)
    if values["position"] is not None and not -MAX_POSITION <= int(values["position"]) <= MAX_POSITION:
        raise RuleRefused(f"position must be a whole number from {-MAX_POSITION} to {MAX_POSITION}")
    if values["position"] is None:
        last = db.session.scalar(select(RoutingRule.position).order_by(RoutingRule.position.desc()).limit(1))
        values["position"] = min((last or 0) + 10, MAX_POSITION)  # last, within the range a position may take
    if rule is None:
        rule = RoutingRule()
        db.session.add(rule)
    rule.name = (values["name"] or "").strip() or f"rule at position {values['position']}"
    rule.position = int(values["position"])
    rule.active = bool(values["active"])
    rule.conditions = checked.conditions()
    rule.organisation_code = checked.organisation_code
    rule.department_code = checked.department_code
    db.session.flush()
    return rule


def check_rule_names_exist(rule) -> None:
    """Every category slug, organisation and area a rule names must exist, or the rule would never match (a
    typo like `lantaarnpaal-straatverlichting` would save and silently route nothing). Raises RuleRefused."""
    from meldingen.categories.models import Category
    from meldingen.geo.models import Area
    from meldingen.organisations.models import Organisation

    checks = [
        (rule.main_slugs, select(Category.slug).where(Category.parent_id.is_(None)), "main category",
         "hoofdcategorie"),
        (rule.sub_slugs, select(Category.slug).where(Category.parent_id.is_not(None)), "sub category",
         "subcategorie"),
        (rule.organisation_codes, select(Organisation.code), "organisation", "organisatie"),
        (rule.area_codes, select(Area.code), "area", "gebied"),
    ]
    for names, query, what, wat in checks:
        if not names:
            continue
        column = query.selected_columns[0]
        known = set(db.session.scalars(query.where(column.in_(sorted(names)))))
        unknown = sorted(set(names) - known)
        if unknown:
            listed = ", ".join(unknown)
            raise RuleRefused(f"unknown {what}: {listed}",
                              dutch=f"Deze {wat} bestaat niet: {listed}. Kies uit de lijst.")


def delete_rule(rule, staff) -> None:
    if not may_administer_rule(staff, rule.conditions, rule.organisation_code):
        raise RuleRefused("this rule is not limited to your organisation", status=403)
    db.session.delete(rule)


def rules_that_never_fire() -> dict:
    """{id of an active rule that never fires: the earlier active rule (a row) that takes all its reports}."""
    from meldingen.categories.models import Category
    from meldingen.routing.rules import shadowed_rules

    parent = Category.__table__.alias("parent")
    main_of_sub: dict[str, set[str]] = {}
    for sub, main in db.session.execute(select(Category.slug, parent.c.slug)
                                        .join(parent, Category.parent_id == parent.c.id)):
        main_of_sub.setdefault(sub, set()).add(main)
    rows = active_rules()
    by_id = {row.id: row for row in rows}
    found = shadowed_rules(rows, {sub: frozenset(mains) for sub, mains in main_of_sub.items()})
    return {rule_id: by_id[earlier.id] for rule_id, earlier in found.items()}


def move_rule(rule, staff, places: int, readable=None) -> None:
    """Move a rule `places` up (negative) or down among the rules in `readable` (those the staff member sees;
    default all), then number every rule 10, 20, 30 … in the new order: the order of the other rules is kept.
    Raises RuleRefused (403) for a rule the staff member may not change. Flushes."""
    from meldingen.routing.models import RoutingRule

    if not may_administer_rule(staff, rule.conditions, rule.organisation_code):
        raise RuleRefused("this rule is not limited to your organisation", status=403)
    ordered = list(db.session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id)))
    seen = [r for r in ordered if readable is None or r in readable]
    index = seen.index(rule)
    target = max(0, min(len(seen) - 1, index + places))
    if target == index:
        return
    ordered.remove(rule)
    neighbour = seen[target]
    at = ordered.index(neighbour)
    ordered.insert(at if places < 0 else at + 1, rule)
    for i, row in enumerate(ordered, start=1):
        if row.position != i * 10:
            row.position = i * 10
    db.session.flush()
