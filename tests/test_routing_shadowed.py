"""Routing rules that never fire: a rule behind an earlier one that takes all its reports (a catch-all, or the
same conditions wider) is named on save and on the list, and the order can be changed there."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from meldingen.categories.models import Category
from meldingen.extensions import db
from meldingen.routing.models import RoutingRule
from meldingen.routing.rules import Rule, covers, shadowed_rules

PASSWORD = "correct horse battery"


def rule(id, **conditions) -> Rule:
    return Rule.from_data(conditions, id=id, department_code="STW")


def test_a_catch_all_rule_covers_every_later_rule():
    catch_all = rule(1)
    assert covers(catch_all, rule(2, main_slugs=["afval"], weekdays=[0, 1], time_from="22:00", time_to="06:00"))
    assert not covers(rule(2, main_slugs=["afval"]), catch_all)


@pytest.mark.parametrize(("earlier", "later", "expected"), [
    ({"main_slugs": ["afval", "verlichting"]}, {"main_slugs": ["afval"]}, True),
    ({"main_slugs": ["afval"]}, {"main_slugs": ["afval", "verlichting"]}, False),
    ({"main_slugs": ["afval"]}, {"sub_slugs": ["container-vol"]}, True),  # a sub under the main
    ({"main_slugs": ["afval"]}, {"sub_slugs": ["lantaarnpaal"]}, False),
    ({"area_codes": ["WK036300"]}, {"area_codes": ["WK036300"], "asset_types": ["streetlight"]}, True),
    ({"area_codes": ["WK036300"]}, {"main_slugs": ["afval"]}, False),  # the later one is not limited to the area
    ({"weekdays": [5, 6]}, {"weekdays": [6]}, True),
    ({"weekdays": [6]}, {"weekdays": [5, 6]}, False),
    ({"time_from": "08:00", "time_to": "18:00"}, {"time_from": "09:00", "time_to": "12:00"}, True),
    ({"time_from": "09:00", "time_to": "12:00"}, {"time_from": "08:00", "time_to": "18:00"}, False),
    ({"time_from": "22:00", "time_to": "06:00"}, {"time_from": "22:00", "time_to": "06:00"}, True),
])
def test_an_earlier_rule_covers_a_later_one_only_when_it_takes_all_its_reports(earlier, later, expected):
    main_of_sub = {"container-vol": frozenset({"afval"}), "lantaarnpaal": frozenset({"verlichting"})}
    assert covers(rule(1, **earlier), rule(2, **later), main_of_sub) is expected


def test_shadowed_rules_name_the_first_earlier_rule_that_takes_them():
    rules = [rule(1, main_slugs=["afval"]), rule(2), rule(3, main_slugs=["afval"], weekdays=[0]),
             rule(4, main_slugs=["verlichting"])]
    found = shadowed_rules(rules)
    assert {k: v.id for k, v in found.items()} == {3: 1, 4: 2}
    assert shadowed_rules([rule(1, main_slugs=["afval"]), rule(2, main_slugs=["verlichting"])]) == {}


@pytest.fixture
def admin_client(app, make_staff):
    client = app.test_client()
    user, _ = make_staff("admin", "GM0363")
    assert client.post("/staff/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return client


def test_a_new_rule_saved_behind_a_catch_all_is_warned_about_and_can_be_moved_before_it(app, admin_client):
    for existing in db.session.scalars(select(RoutingRule)):
        db.session.delete(existing)
    db.session.commit()
    sub = db.session.scalars(select(Category).where(Category.parent_id.is_not(None)).order_by(Category.id)).first()
    assert admin_client.post("/staff/admin/rules", data={
        "name": "Alles naar STW", "active": "1", "organisation_codes": ["GM0363"],
        "department_code": "STW"}).status_code == 303
    admin_client.get("/staff/admin/rules")  # the first save's message shown
    saved = admin_client.post("/staff/admin/rules", data={
        "name": "Verlichting naar AEG", "active": "1", "organisation_codes": ["GM0363"], "sub_slugs": [sub.slug],
        "department_code": "AEG"}, follow_redirects=True)  # no position: it goes last
    page = saved.get_data(as_text=True)
    assert "Regel ‘Verlichting naar AEG’ opgeslagen." in page
    assert "Let op: regel ‘Verlichting naar AEG’ wordt nooit gebruikt. Regel ‘Alles naar STW’" in page
    assert 'id="never-fire-warning"' in page and "Wordt nooit gebruikt: regel ‘Alles naar STW’" in page

    new = db.session.scalar(select(RoutingRule).where(RoutingRule.name == "Verlichting naar AEG"))
    moved = admin_client.post(f"/staff/admin/rules/{new.id}/move", data={"direction": "up"}, follow_redirects=True)
    page = moved.get_data(as_text=True)
    assert "never-fire-warning" not in page and "Let op" not in page
    db.session.expire_all()
    order = db.session.scalars(select(RoutingRule.name).order_by(RoutingRule.position, RoutingRule.id)).all()
    assert order == ["Verlichting naar AEG", "Alles naar STW"]

    # Moving the catch-all first again says which rule it now hides.
    catch_all = db.session.scalar(select(RoutingRule).where(RoutingRule.name == "Alles naar STW"))
    page = admin_client.post(f"/staff/admin/rules/{catch_all.id}/move", data={"direction": "up"},
                             follow_redirects=True).get_data(as_text=True)
    assert "door regel ‘Alles naar STW’ worden deze regels nooit meer gebruikt: ‘Verlichting naar AEG’" in page


def test_a_municipal_admin_cannot_move_a_rule_of_another_organisation(app, admin_client):
    other = RoutingRule(name="Emmen", position=1, active=True, conditions={"organisation_codes": ["GM0114"]},
                        department_code="STW")
    db.session.add(other)
    db.session.commit()
    assert admin_client.post(f"/staff/admin/rules/{other.id}/move", data={"direction": "up"}).status_code == 404


def test_departments_are_picked_from_the_organisations_departments_not_typed(app, admin_client, make_staff):
    page = admin_client.get("/staff/admin/accounts").get_data(as_text=True)
    assert '<select name="department"' in page and '<option value="STW">STW · ' in page
    assert 'name="department" placeholder' not in page

    shared = app.test_client()
    user, _ = make_staff("admin", "DSP")
    shared.post("/staff/login", data={"email": user.email, "password": PASSWORD})
    page = shared.get("/staff/admin/categories").get_data(as_text=True)
    assert '<select name="department_codes" multiple' in page
    sub = db.session.scalars(select(Category).where(Category.parent_id.is_not(None)).order_by(Category.id)).first()
    form = {"name": sub.name, "handling_days": "3", "active": "1", "department_codes_shown": "1",
            "department_codes": ["STW", "AEG"]}
    assert shared.post(f"/staff/admin/categories/{sub.id}", data=form).status_code == 303
    db.session.expire_all()
    assert db.session.get(Category, sub.id).department_codes == ["STW", "AEG"]
    form.pop("department_codes")  # none picked: none kept
    shared.post(f"/staff/admin/categories/{sub.id}", data=form)
    db.session.expire_all()
    assert db.session.get(Category, sub.id).department_codes == []


def test_an_admin_is_warned_only_about_rules_they_read(app, admin_client):
    for existing in db.session.scalars(select(RoutingRule)):
        db.session.delete(existing)
    db.session.add_all([
        RoutingRule(name="Emmen alles", position=1, active=True, conditions={"organisation_codes": ["GM0114"]},
                    department_code="STW"),
        RoutingRule(name="Emmen afval", position=2, active=True,
                    conditions={"organisation_codes": ["GM0114"], "main_slugs": ["afval"]}, department_code="AEG"),
    ])
    db.session.commit()
    page = admin_client.get("/staff/admin/rules").get_data(as_text=True)  # Amsterdam's administrator
    assert "never-fire-warning" not in page and "Emmen" not in page
