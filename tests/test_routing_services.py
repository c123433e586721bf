"""Routing on both databases: rules as data (first match wins), fallback, time of day, the shared service point,
the decision in the report's history, and the rules administered over the API by admins only."""

from datetime import datetime

import pytest
from sqlalchemy import delete, select

from meldingen.extensions import db
from meldingen.pipeline import create_report
from meldingen.reports.services import NewReport
from meldingen.routing.models import RoutingRule
from meldingen.timeutil import AMSTERDAM

WESTERDOKSDIJK = (52.3877221, 4.8925727)  # Amsterdam
EMMEN_CENTRE = (52.78, 6.90)  # Emmen
WEDNESDAY_NOON = datetime(2026, 3, 4, 12, 0, tzinfo=AMSTERDAM)


def only_rules(*rules: dict) -> None:
    db.session.execute(delete(RoutingRule))
    for position, rule in enumerate(rules):
        db.session.add(RoutingRule(position=position, name=rule.get("name", f"rule {position}"),
                                   conditions=rule.get("conditions", {}), active=rule.get("active", True),
                                   organisation_code=rule.get("organisation_code"),
                                   department_code=rule.get("department_code")))  # fmt: skip
    db.session.commit()


def report_at(point, sub_slug="veeg-zwerfvuil", at=WEDNESDAY_NOON):
    report = create_report(NewReport(description="test", channel="staff", lat=point[0], lon=point[1],
                                     category_slug=sub_slug, created_at=at))  # fmt: skip
    db.session.commit()
    return report


def routing_events(report):
    return [event for event in report.events if event.kind == "routing"]


def rule_id(name: str) -> int:
    return db.session.scalar(select(RoutingRule.id).where(RoutingRule.name == name))


def test_first_matching_rule_wins_and_is_written_to_the_history(app):
    only_rules(
        {"name": "grofvuil", "conditions": {"sub_slugs": ["grofvuil"]}, "department_code": "AEG"},
        {"name": "afval in Amsterdam", "conditions": {"main_slugs": ["afval"], "organisation_codes": ["GM0363"]},
         "department_code": "STW"},
        {"name": "alle afval", "conditions": {"main_slugs": ["afval"]}, "department_code": "CCA"},
    )  # fmt: skip
    report = report_at(WESTERDOKSDIJK)
    assert (report.organisation.code, report.department.code) == ("GM0363", "STW")
    [event] = routing_events(report)
    assert event.data["rule_id"] == rule_id("afval in Amsterdam")
    assert "afval in Amsterdam" in event.note

    in_emmen = report_at(EMMEN_CENTRE)
    assert (in_emmen.organisation.code, in_emmen.department.code) == ("GM0114", "CCA")
    assert routing_events(in_emmen)[0].data["rule_id"] == rule_id("alle afval")


def test_no_rule_matching_falls_back_to_the_categorys_responsible_department(app):
    only_rules({"name": "water", "conditions": {"main_slugs": ["overlast-op-het-water"]}, "department_code": "WAT"})
    report = report_at(WESTERDOKSDIJK)
    assert (report.organisation.code, report.department.code) == ("GM0363", "ASC")  # first of ASC, CCA, STW
    [event] = routing_events(report)
    assert event.data["rule_id"] is None


def test_inactive_rules_are_not_used(app):
    only_rules({"name": "uit", "active": False, "conditions": {}, "department_code": "WAT"})
    assert report_at(WESTERDOKSDIJK).department.code == "ASC"


@pytest.mark.parametrize(
    ("local_time", "department"),
    [((23, 30), "VTH"), ((3, 0), "VTH"), ((7, 0), "ASC"), ((12, 0), "ASC"), ((22, 0), "VTH")],
)
def test_time_of_day_rule_across_midnight(app, local_time, department):
    only_rules({"name": "nacht", "department_code": "VTH",
                "conditions": {"main_slugs": ["overlast-bedrijven-en-horeca"], "time_from": "22:00", "time_to": "07:00"}})  # fmt: skip
    at = datetime(2026, 3, 4, *local_time, tzinfo=AMSTERDAM)
    report = report_at(WESTERDOKSDIJK, sub_slug="geluidsoverlast-muziek", at=at)
    assert report.department.code == department


def test_shared_service_point_routes_each_report_to_the_municipality_it_lies_in(app):
    only_rules({"name": "zwerfvuil naar stadswerken", "conditions": {"sub_slugs": ["veeg-zwerfvuil"]},
                "department_code": "STW"})  # fmt: skip
    amsterdam, emmen = report_at(WESTERDOKSDIJK), report_at(EMMEN_CENTRE)
    assert (amsterdam.organisation.code, amsterdam.department.code) == ("GM0363", "STW")
    assert (emmen.organisation.code, emmen.department.code) == ("GM0114", "STW")
    assert amsterdam.department.organisation_id == amsterdam.organisation.id
    assert emmen.department.organisation_id == emmen.organisation.id


def test_rule_by_area_and_asset_type(app, runner, tmp_path):
    lights = tmp_path / "lights.csv"
    lights.write_text(f"id,lat,lon\nOVL-7,{WESTERDOKSDIJK[0]},{WESTERDOKSDIJK[1]}\n")
    assert runner.invoke(args=["import", "assets", str(lights), "--type", "street_light", "--id-column", "id"]).exit_code == 0
    only_rules(
        {"name": "lichtmast", "conditions": {"asset_types": ["street_light"]}, "department_code": "OVL"},
        {"name": "Emmen-Centrum", "conditions": {"area_codes": ["BU01144000"]}, "department_code": "THO"},
    )
    assert report_at(WESTERDOKSDIJK, sub_slug="klok").department.code == "OVL"
    assert report_at(EMMEN_CENTRE).department.code == "THO"


def test_deadline_follows_the_routed_organisations_handling_time(app):
    from meldingen.categories.models import Category, CategoryOverride
    from meldingen.organisations.models import Organisation

    only_rules()
    category = db.session.scalar(select(Category).where(Category.slug == "veeg-zwerfvuil"))
    emmen = db.session.scalar(select(Organisation).where(Organisation.code == "GM0114"))
    db.session.add(CategoryOverride(organisation_id=emmen.id, category_id=category.id, handling_days=30,
                                    calendar_days=True))  # fmt: skip
    db.session.commit()
    in_emmen, in_amsterdam = report_at(EMMEN_CENTRE), report_at(WESTERDOKSDIJK)
    local_days = in_emmen.deadline.astimezone(AMSTERDAM).date() - in_emmen.created_at.astimezone(AMSTERDAM).date()
    assert local_days.days == 30  # in local dates: summer time starts on the way
    assert in_amsterdam.deadline != in_emmen.deadline


# --- the rules over the API ---------------------------------------------------------------------------------


def test_admin_adds_orders_changes_and_deletes_rules(client, auth, make_staff):
    _, token = make_staff("admin", "DSP")
    created = client.post("/api/v1/routing-rules", headers=auth(token), json={
        "name": "nachtdienst", "conditions": {"main_slugs": ["afval"], "time_from": "22:00", "time_to": "06:00"},
        "department_code": "VTH"})  # fmt: skip
    assert created.status_code == 201, created.get_json()
    rule = created.get_json()
    assert rule["position"] > max(r["position"] for r in client.get(
        "/api/v1/routing-rules", headers=auth(token)).get_json()["items"] if r["id"] != rule["id"])  # goes last

    moved = client.patch(f"/api/v1/routing-rules/{rule['id']}", headers=auth(token), json={"position": -1})
    assert moved.status_code == 200
    first = client.get("/api/v1/routing-rules", headers=auth(token)).get_json()["items"][0]
    assert first["id"] == rule["id"] and first["conditions"]["time_to"] == "06:00"

    assert client.delete(f"/api/v1/routing-rules/{rule['id']}", headers=auth(token)).status_code == 204
    assert client.get(f"/api/v1/routing-rules/{rule['id']}", headers=auth(token)).status_code == 404


def test_a_rule_added_over_the_api_routes_the_next_report(app, client, auth, make_staff):
    only_rules()
    _, token = make_staff("admin", "DSP")
    client.post("/api/v1/routing-rules", headers=auth(token),
                json={"name": "zwerfvuil", "conditions": {"sub_slugs": ["veeg-zwerfvuil"]}, "department_code": "CCA"})
    assert report_at(WESTERDOKSDIJK).department.code == "CCA"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"conditions": {"colour": ["red"]}, "department_code": "STW"}, None),
        ({"conditions": {"time_from": "22:00"}, "department_code": "STW"}, "go together"),
        ({"conditions": {"weekdays": ["someday"]}, "department_code": "STW"}, "weekdays"),
        ({"conditions": {}}, "needs an organisation_code"),
        ({"conditions": {}, "organisation_code": "GM9999"}, "unknown organisation"),
        ({"conditions": {}, "department_code": "NOPE"}, "unknown department"),
    ],
)
def test_invalid_rules_are_refused_with_a_reason(client, auth, make_staff, body, reason):
    _, token = make_staff("admin", "DSP")
    response = client.post("/api/v1/routing-rules", headers=auth(token), json=body)
    assert response.status_code == 422
    if reason:
        assert reason in response.get_json()["message"]


def test_only_admins_change_rules_and_heads_may_read_them(client, auth, make_staff):
    _, head = make_staff("head", "GM0363")
    _, agent = make_staff("agent", "DSP")
    body = {"conditions": {}, "department_code": "STW"}
    assert client.post("/api/v1/routing-rules", headers=auth(head), json=body).status_code == 403
    assert client.get("/api/v1/routing-rules", headers=auth(head)).status_code == 200
    assert client.get("/api/v1/routing-rules", headers=auth(agent)).status_code == 403
    assert client.get("/api/v1/routing-rules").status_code == 401


def test_municipal_admin_may_only_keep_rules_limited_to_its_own_municipality(client, auth, make_staff):
    _, token = make_staff("admin", "GM0363")
    everywhere = client.post("/api/v1/routing-rules", headers=auth(token),
                             json={"conditions": {}, "department_code": "STW"})
    assert everywhere.status_code == 403
    own = client.post("/api/v1/routing-rules", headers=auth(token),
                      json={"conditions": {"organisation_codes": ["GM0363"]}, "department_code": "STW"})
    assert own.status_code == 201
