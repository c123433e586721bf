"""First-match-wins routing over plain data: conditions, time windows, fallback, shared service point."""

from datetime import UTC, datetime, timezone

import pytest

from meldingen.routing.rules import RoutingContext, Rule, RuleError, decide_route
from meldingen.timeutil import AMSTERDAM

WEDNESDAY_NOON = datetime(2026, 3, 4, 12, 0, tzinfo=AMSTERDAM)


def context(**overrides) -> RoutingContext:
    values = {
        "at": WEDNESDAY_NOON,
        "main_slug": "verlichting",
        "sub_slug": "lantaarnpaal-kapot",
        "organisation_code": "GM0363",
        "area_codes": frozenset({"GM0363", "WK036302", "BU0363AF03"}),
        "asset_type": "streetlight",
        "fallback_department_code": "STADSWERK",
    }
    values.update(overrides)
    return RoutingContext(**values)


def test_first_matching_rule_wins_even_when_a_later_one_also_matches():
    rules = [
        {"id": 1, "conditions": {"main_slugs": ["afval"]}, "department_code": "AFVAL"},
        {"id": 2, "conditions": {"main_slugs": ["verlichting"]}, "department_code": "LICHT"},
        {"id": 3, "conditions": {"sub_slugs": ["lantaarnpaal-kapot"]}, "department_code": "OTHER"},
    ]
    decision = decide_route(rules, context())
    assert (decision.organisation_code, decision.department_code, decision.rule_id) == ("GM0363", "LICHT", 2)
    assert "rule 2" in decision.reason


def test_no_matching_rule_falls_back_to_the_categorys_department():
    rules = [{"id": 1, "conditions": {"main_slugs": ["afval"]}, "department_code": "AFVAL"}]
    decision = decide_route(rules, context())
    assert (decision.organisation_code, decision.department_code, decision.rule_id) == ("GM0363", "STADSWERK", None)
    assert decide_route([], context()).department_code == "STADSWERK"


def test_all_conditions_of_a_rule_must_hold():
    rule = {"id": 7, "department_code": "X",
            "conditions": {"main_slugs": ["verlichting"], "area_codes": ["WK036399"]}}  # fmt: skip
    assert decide_route([rule], context()).rule_id is None
    assert decide_route([rule], context(area_codes=frozenset({"WK036399"}))).rule_id == 7


@pytest.mark.parametrize(
    ("conditions", "ctx", "matches"),
    [
        ({"asset_types": ["streetlight"]}, {}, True),
        ({"asset_types": ["container"]}, {}, False),
        ({"asset_types": ["container"]}, {"asset_type": None}, False),
        ({"organisation_codes": ["GM0114"]}, {}, False),
        ({"organisation_codes": ["GM0114", "GM0363"]}, {}, True),
        ({"area_codes": ["BU0363AF03"]}, {}, True),
        ({"weekdays": ["sat", "sun"]}, {}, False),
        ({"weekdays": ["wo"]}, {}, True),
        ({"weekdays": [2]}, {}, True),
    ],
)
def test_each_condition(conditions, ctx, matches):
    rule = {"id": 1, "conditions": conditions, "department_code": "X"}
    assert (decide_route([rule], context(**ctx)).rule_id == 1) is matches


NIGHT_RULE = {"id": 9, "name": "nachtdienst", "department_code": "NACHT",
              "conditions": {"main_slugs": ["verlichting"], "time_from": "22:00", "time_to": "06:00"}}  # fmt: skip


@pytest.mark.parametrize(
    ("local", "department"),
    [
        (datetime(2026, 3, 4, 23, 30, tzinfo=AMSTERDAM), "NACHT"),
        (datetime(2026, 3, 5, 2, 0, tzinfo=AMSTERDAM), "NACHT"),
        (datetime(2026, 3, 4, 22, 0, tzinfo=AMSTERDAM), "NACHT"),
        (datetime(2026, 3, 5, 6, 0, tzinfo=AMSTERDAM), "STADSWERK"),
        (datetime(2026, 3, 4, 12, 0, tzinfo=AMSTERDAM), "STADSWERK"),
    ],
)
def test_time_of_day_rule_with_a_window_across_midnight(local, department):
    assert decide_route([NIGHT_RULE], context(at=local)).department_code == department


def test_time_of_day_is_judged_in_amsterdam_local_time_also_in_summer():
    # 20:30 UTC on a July evening is 22:30 in Amsterdam (UTC+2): the night rule applies.
    at = datetime(2026, 7, 1, 20, 30, tzinfo=UTC)
    assert decide_route([NIGHT_RULE], context(at=at)).department_code == "NACHT"
    # The same UTC time in January is 21:30 local: it does not.
    at = datetime(2026, 1, 7, 20, 30, tzinfo=UTC)
    assert decide_route([NIGHT_RULE], context(at=at)).department_code == "STADSWERK"


def test_weekend_daytime_rule():
    rule = {"id": 4, "department_code": "WEEKEND",
            "conditions": {"weekdays": ["za", "zo"], "time_from": "08:00", "time_to": "18:00"}}  # fmt: skip
    saturday_ten = datetime(2026, 3, 7, 10, 0, tzinfo=AMSTERDAM)
    assert decide_route([rule], context(at=saturday_ten)).department_code == "WEEKEND"
    assert decide_route([rule], context(at=WEDNESDAY_NOON)).department_code == "STADSWERK"


def test_shared_service_point_routes_each_report_to_the_municipality_it_lies_in():
    # One rule of the service point, no organisation named: the report goes to the municipality of its point.
    rules = [{"id": 1, "conditions": {"organisation_codes": ["GM0114", "GM0118"]}, "department_code": "BOR"}]
    emmen = decide_route(rules, context(organisation_code="GM0114", area_codes=frozenset({"GM0114"})))
    assen = decide_route(rules, context(organisation_code="GM0118", area_codes=frozenset({"GM0118"})))
    assert (emmen.organisation_code, emmen.department_code) == ("GM0114", "BOR")
    assert (assen.organisation_code, assen.department_code) == ("GM0118", "BOR")


def test_rule_may_send_a_report_to_another_organisation():
    rule = {"id": 5, "conditions": {"asset_types": ["waterway"]}, "organisation_code": "WS0155"}
    decision = decide_route([rule], context(asset_type="waterway"))
    assert (decision.organisation_code, decision.department_code) == ("WS0155", "STADSWERK")


def test_rule_objects_with_attributes_are_accepted():
    class Row:
        id, name, organisation_code, department_code = 3, "", None, "LICHT"
        conditions = {"main_slugs": ["verlichting"]}

    assert decide_route([Row()], context()).rule_id == 3


def test_invalid_rule_is_skipped_not_fatal():
    rules = [{"id": 1, "conditions": {"colour": ["red"]}, "department_code": "X"},
             {"id": 2, "conditions": {}, "department_code": "Y"}]  # fmt: skip
    assert decide_route(rules, context()).rule_id == 2


@pytest.mark.parametrize(
    ("conditions", "message"),
    [
        ({"colour": ["red"]}, "unknown condition"),
        ({"time_from": "22:00"}, "go together"),
        ({"time_from": "25:00", "time_to": "06:00"}, "HH:MM"),
        ({"time_from": "08:00", "time_to": "08:00"}, "differ"),
        ({"weekdays": ["someday"]}, "weekdays"),
        ({"weekdays": 2.5e-42}, "weekdays"),  # a number that is not a day was a TypeError (a 500 in the API)
        ({"weekdays": {"mon": 1}}, "weekdays"),
        ({"main_slugs": [1]}, "main_slugs"),
    ],
)
def test_invalid_conditions_are_explained(conditions, message):
    with pytest.raises(RuleError, match=message):
        Rule.from_data(conditions, department_code="X")


def test_rule_without_target_is_refused():
    with pytest.raises(RuleError, match="needs an organisation_code"):
        Rule.from_data({}, id=1)


def test_conditions_round_trip_to_their_stored_form():
    stored = {"main_slugs": ["verlichting"], "weekdays": [5, 6], "time_from": "22:00", "time_to": "06:00"}
    assert Rule.from_data(stored, department_code="X").conditions() == stored
