"""Administration that refuses nonsense: routing rules from pickers, checked against the categories, areas and
organisations that exist; handling days as whole numbers from 0; long lists searchable and paged; Dutch reasons."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from meldingen.categories.models import Category
from meldingen.extensions import db
from meldingen.organisations.models import Department, Organisation
from meldingen.routing.models import RoutingRule
from meldingen.staff.admin_forms import FormRefused, parse_handling_days, rule_from_form

pytestmark = pytest.mark.rolled_back  # one shared database, rolled back after each test

PASSWORD = "correct horse battery"


@pytest.mark.parametrize("typed", ["drie", "-3", "3.5", "3,5", "١٢", "99999999999999999999", "366"])
def test_handling_days_that_are_not_a_whole_number_from_0_to_365_are_refused(typed):
    with pytest.raises(FormRefused, match="heel aantal dagen"):
        parse_handling_days(typed)


@pytest.mark.parametrize("typed, days", [("0", 0), (" 5 ", 5), ("365", 365), ("", None), (None, None)])
def test_handling_days_accept_whole_numbers_and_empty_for_no_deadline(typed, days):
    assert parse_handling_days(typed) == days


def test_a_rule_form_becomes_conditions_from_pickers_weekdays_and_times():
    form = MultiDict([("name", "Nachtdienst"), ("sub_slugs", "klok"), ("sub_slugs", "straatverlichting-openbare-klok"),
                      ("weekdays", "5"), ("weekdays", "6"), ("time_from", "22:00"), ("time_to", "07:00"),
                      ("organisation_codes", "gm0363"), ("department_code", "ovl"), ("active", "1")])
    data = rule_from_form(form)
    assert data["conditions"] == {"sub_slugs": ["klok", "straatverlichting-openbare-klok"],
                                  "organisation_codes": ["GM0363"], "weekdays": [5, 6],
                                  "time_from": "22:00", "time_to": "07:00"}
    assert data["department_code"] == "OVL" and data["active"] is True


@pytest.mark.parametrize("form, reason", [
    ({"name": "x", "department_code": "STW", "time_from": "22:00"}, "zowel ‘van’ als ‘tot’"),
    ({"name": "x", "department_code": "STW", "time_from": "25:00", "time_to": "07:00"}, "uu:mm"),
    ({"name": "x", "department_code": "STW", "weekdays": "9"}, "ma tot en met zo"),
    ({"name": "x"}, "Kies waar de melding heen gaat"),
    ({"name": "", "department_code": "STW"}, "naam"),
    ({"name": "x", "department_code": "STW", "position": "-3"}, "heel getal"),
])
def test_a_rule_form_with_nonsense_is_refused_with_a_dutch_reason(form, reason):
    with pytest.raises(FormRefused, match=reason):
        rule_from_form(MultiDict(form))


@pytest.fixture
def admin(app, make_staff):
    client = app.test_client()
    user, _ = make_staff("admin", "DSP")
    assert client.post("/staff/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return client


def test_a_rule_naming_what_does_not_exist_is_not_saved_and_the_form_keeps_the_input(admin):
    for field, value, named in [
        ("sub_slugs", "lantaarnpaal-straatverlichting", "subcategorie bestaat niet: lantaarnpaal-straatverlichting"),
        ("main_slugs", "verlichting", "hoofdcategorie bestaat niet: verlichting"),
        ("area_codes", "WK9999ZZ", "gebied bestaat niet: WK9999ZZ"),
        ("organisation_codes", "GM9999", "organisatie bestaat niet: GM9999"),
    ]:
        answer = admin.post("/staff/admin/rules", data={"name": "Lantaarnpalen", "department_code": "OVL",
                                                        field: value, "active": "1"})
        page = answer.get_data(as_text=True)
        assert answer.status_code == 422 and named in page and 'value="Lantaarnpalen"' in page
    assert db.session.query(RoutingRule).filter_by(name="Lantaarnpalen").count() == 0


def test_the_api_refuses_a_rule_for_an_unknown_category_too(client, make_staff):
    _user, token = make_staff("admin", "DSP")
    answer = client.post("/api/v1/routing-rules", headers={"Authorization": f"Bearer {token}"},
                         json={"name": "Typfout", "conditions": {"sub_slugs": ["lantaarnpaal-straatverlichting"]},
                               "department_code": "OVL"})
    assert answer.status_code == 422 and "lantaarnpaal-straatverlichting" in answer.get_data(as_text=True)


def test_a_rule_for_what_exists_is_saved_and_listed_in_words(admin):
    sub = db.session.query(Category).filter(Category.slug == "straatverlichting-openbare-klok").first()
    answer = admin.post("/staff/admin/rules", data={"name": "Lampen in het weekend", "sub_slugs": sub.slug,
                                                    "weekdays": ["5", "6"], "department_code": "OVL",
                                                    "area_codes": "GM0363", "active": "1"})
    assert answer.status_code == 303
    page = admin.get("/staff/admin/rules?q=weekend").get_data(as_text=True)
    assert "Lampen in het weekend" in page and "za, zo" in page and f"subcategorie: {sub.slug}" in page
    rule = db.session.query(RoutingRule).filter_by(name="Lampen in het weekend").one()
    form = admin.get(f"/staff/admin/rules/{rule.id}").get_data(as_text=True)
    assert f'<option value="{sub.slug}" selected>' in form


def test_handling_days_nonsense_on_the_category_page_is_refused_and_nothing_changes(admin):
    sub = db.session.query(Category).filter(Category.parent_id.is_not(None)).order_by(Category.id).first()
    before = (sub.handling_days, sub.calendar_days)
    for typed in ("drie", "-3", "3.5"):
        answer = admin.post(f"/staff/admin/categories/{sub.id}", data={"handling_days": typed, "calendar_days": "1",
                                                                       "active": "1"}, follow_redirects=True)
        assert "heel aantal dagen" in answer.get_data(as_text=True)
        db.session.expire_all()
        changed = db.session.get(Category, sub.id)
        assert (changed.handling_days, changed.calendar_days) == before


def test_departments_are_shown_per_organisation_searchable_and_paged(admin):
    amsterdam = db.session.query(Organisation).filter_by(code="GM0363").one()
    for i in range(30):
        db.session.add(Department(organisation=amsterdam, code=f"T{i:02d}", name=f"Team {i:02d}"))
    db.session.commit()
    first = admin.get("/staff/admin/departments?organisatie=GM0363").get_data(as_text=True)
    assert "pagina 1 van 2" in first and first.count('aria-label="Naam van') == 25
    assert "Emmen" not in first.split('id="departments"')[1]  # one organisation at a time
    second = admin.get("/staff/admin/departments?organisatie=GM0363&page=2").get_data(as_text=True)
    assert second.count('aria-label="Naam van') == len(amsterdam.departments) - 25
    found = admin.get("/staff/admin/departments?organisatie=GM0363&q=team 07").get_data(as_text=True)
    assert found.count('aria-label="Naam van') == 1 and "T07" in found
