"""/api/v1/routing-rules: the ordered routing rules, read by heads and admins, changed by admins only; each sees and
changes only the rules that concern the organisations they act for (meldingen.routing.services)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from meldingen.api.auth import current_staff, token_required
from meldingen.extensions import db
from meldingen.routing.models import RoutingRule
from meldingen.routing.rules import CONDITION_KEYS
from meldingen.routing.services import (
    MAX_POSITION,
    RuleRefused,
    delete_rule,
    may_read_rule,
    readable_rules,
    rule_to_dict,
    save_rule,
)

blp = Blueprint("routing_rules", __name__, url_prefix="/routing-rules",
                description="Routing rules: ordered, first match wins")  # fmt: skip


class JSONBoolean(fields.Boolean):
    """true or false, as the document says: not 0, 1, "yes" (marshmallow's Boolean takes those)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class RoutingRuleSchema(Schema):
    """A rule routes to an organisation, a department or both: one of the two is required (the document's
    `anyOf`)."""

    id = fields.Integer(dump_only=True)
    position = fields.Integer(strict=True, validate=validate.Range(min=-MAX_POSITION, max=MAX_POSITION),
                              metadata={"description": "rules are tried by ascending position"})
    name = fields.String(validate=validate.Length(max=200))
    active = JSONBoolean(metadata={"description": "JSON true or false"})
    conditions = fields.Dict(
        keys=fields.String(validate=validate.OneOf(CONDITION_KEYS)),
        metadata={"description": "all given conditions must hold; lists mean 'any of'. Keys: "
                                 + ", ".join(CONDITION_KEYS)},
    )  # fmt: skip
    organisation_code = fields.String(allow_none=True, metadata={"description": "None: the point's organisation"})
    department_code = fields.String(allow_none=True, metadata={"description": "None: the category's department"})


    @validates_schema
    def _a_target(self, data, **kwargs):
        if not (data.get("organisation_code") or data.get("department_code")):
            raise ValidationError("a rule needs an organisation_code, a department_code or both",
                                  "organisation_code")


class RoutingRulePatchSchema(RoutingRuleSchema):
    """Some fields of a rule; at least one (the document's `minProperties`)."""

    @validates_schema
    def _a_target(self, data, **kwargs):
        if not data:
            raise ValidationError("send at least one field to change", "_schema")


class RoutingRuleListSchema(Schema):
    items = fields.List(fields.Nested(RoutingRuleSchema))


def _rule_or_404(rule_id: int) -> RoutingRule:
    rule = db.session.get(RoutingRule, rule_id)
    if rule is None or not may_read_rule(current_staff(), rule):
        abort(404, message="no such routing rule")
    return rule


def _save(data: dict, rule=None) -> dict:
    try:
        rule = save_rule(data, current_staff(), rule)
    except RuleRefused as exc:
        db.session.rollback()
        abort(exc.status, message=str(exc))
    db.session.commit()
    return rule_to_dict(rule)


@blp.route("")
class RoutingRules(MethodView):
    @token_required("read_rules")
    @blp.response(200, RoutingRuleListSchema)
    @blp.doc(security=[{"bearer": []}])
    def get(self):
        """All rules in the order they are tried."""
        return {"items": [rule_to_dict(rule) for rule in readable_rules(current_staff())]}

    @token_required("edit_rules")
    @blp.arguments(RoutingRuleSchema)
    @blp.response(201, RoutingRuleSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, data):
        """Add a rule; without a position it goes last."""
        return _save(data)


@blp.route("/<int:rule_id>")
class RoutingRuleItem(MethodView):
    @token_required("read_rules")
    @blp.response(200, RoutingRuleSchema)
    @blp.doc(security=[{"bearer": []}])
    def get(self, rule_id):
        return rule_to_dict(_rule_or_404(rule_id))

    @token_required("edit_rules")
    @blp.arguments(RoutingRulePatchSchema)
    @blp.response(200, RoutingRuleSchema)
    @blp.doc(security=[{"bearer": []}])
    def patch(self, data, rule_id):
        """Change some fields of a rule (position, conditions, target, active)."""
        return _save(data, _rule_or_404(rule_id))

    @token_required("edit_rules")
    @blp.arguments(RoutingRuleSchema)
    @blp.response(200, RoutingRuleSchema)
    @blp.doc(security=[{"bearer": []}])
    def put(self, data, rule_id):
        """Replace a rule; fields left out take their defaults."""
        defaults = {"name": "", "active": True, "conditions": {}, "organisation_code": None, "department_code": None}
        return _save({**defaults, **data}, _rule_or_404(rule_id))

    @token_required("edit_rules")
    @blp.response(204)
    @blp.doc(security=[{"bearer": []}])
    def delete(self, rule_id):
        try:
            delete_rule(_rule_or_404(rule_id), current_staff())
        except RuleRefused as exc:
            db.session.rollback()
            abort(exc.status, message=str(exc))
        db.session.commit()
