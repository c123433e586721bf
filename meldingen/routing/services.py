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
        note=f"Routed to {decision.organisation_code or '-'} / {decision.department_code or '-'}: {decision.reason}",
        data={
            "organisation": decision.organisation_code,
            "department": decision.department_code,
            "rule_id": decision.rule_id,
            "reason": decision.reason,
        },
    )


# --- administering the rules (the API and the staff pages call these) ---------------------------------------


class RuleRefused(ValueError):
    """A rule change that is not valid or not allowed; the message says why."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


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


def may_administer_rule(staff, conditions: dict) -> bool:
    """Admins of the service point keep every rule; an organisation's own admin only rules limited to it."""
    from flask import current_app

    organisation = staff.organisation
    if organisation is None:
        return False
    if organisation.kind == "service_point" or organisation.code == current_app.config.get("SERVICE_POINT"):
        return True
    return list((conditions or {}).get("organisation_codes") or []) == [organisation.code]


def save_rule(data: dict, staff, rule=None):
    """Create (rule=None) or change a routing rule after checking it; raises RuleRefused. Does not commit."""
    from meldingen.organisations.models import Department, Organisation
    from meldingen.routing.models import RoutingRule
    from meldingen.routing.rules import Rule, RuleError

    values = {key: getattr(rule, key) for key in RULE_FIELDS} if rule is not None else {
        "name": "", "position": None, "active": True, "conditions": {}, "organisation_code": None,
        "department_code": None}  # fmt: skip
    if rule is not None and not may_administer_rule(staff, rule.conditions):
        raise RuleRefused("this rule is not limited to your organisation", status=403)
    values.update({key: data[key] for key in RULE_FIELDS if key in data})
    try:
        checked = Rule.from_data(values["conditions"], organisation_code=values["organisation_code"],
                                 department_code=values["department_code"])
    except RuleError as exc:
        raise RuleRefused(str(exc)) from None
    if not may_administer_rule(staff, checked.conditions()):
        raise RuleRefused("limit the rule to your own organisation: conditions.organisation_codes = "
                          f"[\"{staff.organisation.code}\"]", status=403)
    if checked.organisation_code is not None and db.session.scalar(
        select(Organisation.id).where(Organisation.code == checked.organisation_code)
    ) is None:
        raise RuleRefused(f"unknown organisation '{checked.organisation_code}'")
    if checked.department_code is not None and db.session.scalar(
        select(Department.id).where(Department.code == checked.department_code).limit(1)
    ) is None:
        raise RuleRefused(f"unknown department '{checked.department_code}'")
    if values["position"] is not None and not -MAX_POSITION <= int(values["position"]) <= MAX_POSITION:
        raise RuleRefused(f"position must be a whole number from {-MAX_POSITION} to {MAX_POSITION}")
    if values["position"] is None:
        last = db.session.scalar(select(RoutingRule.position).order_by(RoutingRule.position.desc()).limit(1))
        values["position"] = (last or 0) + 10
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


def delete_rule(rule, staff) -> None:
    if not may_administer_rule(staff, rule.conditions):
        raise RuleRefused("this rule is not limited to your organisation", status=403)
    db.session.delete(rule)
