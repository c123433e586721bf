"""Administration: categories, departments, routing rules, reply templates, area/asset imports, channels (secrets
masked) and staff accounts; shared things only for the service point's administrators."""

from __future__ import annotations

import io
import json

import pytest

from meldingen.accounts.models import StaffUser
from meldingen.categories.models import Category
from meldingen.channels.models import Channel
from meldingen.extensions import db
from meldingen.notify.models import ReplyTemplate
from meldingen.organisations.models import Department, Organisation
from meldingen.routing.models import RoutingRule

pytestmark = pytest.mark.rolled_back  # one shared database, rolled back after each test

PASSWORD = "correct horse battery"


def sign_in(client, user):
    assert client.post("/staff/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


@pytest.fixture
def shared_admin(app, make_staff):
    client = app.test_client()
    sign_in(client, make_staff("admin", "DSP")[0])
    return client


@pytest.fixture
def city_admin(app, make_staff):
    client = app.test_client()
    sign_in(client, make_staff("admin", "GM0363")[0])
    return client


def a_sub_category():
    return db.session.query(Category).filter(Category.parent_id.is_not(None)).order_by(Category.id).first()


def test_service_point_admin_changes_handling_time_text_and_active(shared_admin):
    sub = a_sub_category()
    response = shared_admin.post(f"/staff/admin/categories/{sub.id}", data={
        "name": sub.name, "handling_days": "7", "calendar_days": "1", "resident_text": "We komen binnen een week.",
        "department_codes": "stw, asc"})
    assert response.status_code == 303
    db.session.expire_all()
    assert (sub.handling_days, sub.calendar_days, sub.active) == (7, True, False)
    assert sub.resident_text == "We komen binnen een week." and sub.department_codes == ["STW", "ASC"]


def test_service_point_admin_adds_a_sub_category(shared_admin):
    main = db.session.query(Category).filter(Category.parent_id.is_(None)).first()
    shared_admin.post("/staff/admin/categories", data={"parent_id": main.id, "name": "Zwerfkatten",
                                                       "slug": "zwerfkatten", "handling_days": "3", "active": "1"})
    created = db.session.query(Category).filter_by(slug="zwerfkatten").one()
    assert created.parent_id == main.id and created.handling_days == 3 and created.active


def test_municipal_admin_sees_but_cannot_change_the_shared_category_tree(city_admin):
    sub = a_sub_category()
    page = city_admin.get("/staff/admin/categories").get_data(as_text=True)
    assert "Alleen-lezen" in page and sub.name in page
    assert city_admin.post(f"/staff/admin/categories/{sub.id}", data={"handling_days": "1"}).status_code == 403
    assert city_admin.post("/staff/admin/imports", data={"kind": "areas"}).status_code == 403


def test_admin_adds_and_renames_departments_of_own_organisation_only(city_admin):
    city_admin.post("/staff/admin/departments", data={"organisation": "GM0363", "code": "grn", "name": "Groen"})
    dept = db.session.query(Department).join(Organisation).filter(Organisation.code == "GM0363",
                                                                  Department.code == "GRN").one()
    city_admin.post("/staff/admin/departments", data={"organisation": "GM0363", "code": "GRN", "name": "Groenbeheer"})
    db.session.expire_all()
    assert dept.name == "Groenbeheer"
    assert city_admin.post("/staff/admin/departments", data={"organisation": "GM0114", "code": "X",
                                                             "name": "Niet van mij"}).status_code == 403


def test_routing_rules_go_through_the_routing_service(city_admin, shared_admin):
    form = {"name": "Eigen regel", "position": "5", "active": "1", "sub_slugs": [a_sub_category().slug],
            "organisation_codes": ["GM0363"], "department_code": "STW"}
    response = city_admin.post("/staff/admin/rules", data=form)
    assert response.status_code == 303
    rule = db.session.query(RoutingRule).filter_by(name="Eigen regel").one()
    assert rule.department_code == "STW" and rule.position == 5
    assert rule.conditions == {"sub_slugs": [a_sub_category().slug], "organisation_codes": ["GM0363"]}
    # a municipality's admin may not make a rule for everyone
    refused = city_admin.post("/staff/admin/rules", data={"name": "Voor iedereen", "department_code": "STW"})
    assert refused.status_code == 403
    assert shared_admin.post(f"/staff/admin/rules/{rule.id}/delete").status_code == 303
    assert db.session.get(RoutingRule, rule.id) is None


def test_reply_templates_are_edited_and_overridden_per_organisation(city_admin, shared_admin):
    shared_admin.post("/staff/admin/templates", data={"key": "report_done", "language": "nl", "organisation": "",
                                                      "body": "Uw melding {reference} is afgehandeld."})
    default = db.session.query(ReplyTemplate).filter_by(key="report_done", organisation_id=None).one()
    assert city_admin.post("/staff/admin/templates", data={"id": default.id, "body": "kaping"}).status_code == 403
    city_admin.post("/staff/admin/templates", data={"key": "report_done", "language": "nl", "organisation": "GM0363",
                                                    "body": "Amsterdam: {reference} is klaar."})
    own = db.session.query(ReplyTemplate).join(Organisation, Organisation.id == ReplyTemplate.organisation_id) \
        .filter(Organisation.code == "GM0363", ReplyTemplate.key == "report_done").one()
    assert own.body == "Amsterdam: {reference} is klaar."
    db.session.expire_all()
    assert default.body == "Uw melding {reference} is afgehandeld."


def test_area_and_asset_files_are_imported_from_an_upload(shared_admin):
    from meldingen.geo.models import Area, Asset

    square = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"code": "WK999901",
              "name": "Proefwijk"}, "geometry": {"type": "Polygon", "coordinates": [[[4.89, 52.38], [4.90, 52.38],
              [4.90, 52.39], [4.89, 52.39], [4.89, 52.38]]]}}]}  # fmt: skip
    page = shared_admin.post("/staff/admin/imports", data={
        "kind": "areas", "level": "district", "code_property": "code", "name_property": "name",
        "file": (io.BytesIO(json.dumps(square).encode()), "wijk.geojson")}, content_type="multipart/form-data")
    assert page.status_code == 200 and "1 nieuw" in page.get_data(as_text=True)
    assert db.session.query(Area).filter_by(code="WK999901").one().name == "Proefwijk"
    csv_text = "nummer,lat,lon\nL1,52.3877,4.8925\nL2,niet,4.8\n"
    page = shared_admin.post("/staff/admin/imports", data={
        "kind": "assets", "asset_type": "lantaarnpaal", "id_column": "nummer",
        "file": (io.BytesIO(csv_text.encode()), "palen.csv")}, content_type="multipart/form-data")
    text = page.get_data(as_text=True)
    assert "1 nieuw" in text and "1 overgeslagen" in text
    assert db.session.query(Asset).filter_by(type="lantaarnpaal", external_id="L1").count() == 1


def test_channel_secrets_are_shown_masked_and_kept_when_left_empty(city_admin):
    city_admin.post("/staff/admin/channels", data={
        "kind": "telegram", "name": "Amsterdam bot", "address": "123456", "organisation": "GM0363", "active": "1",
        "secrets": "bot_token=123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ1234\nsecret_token=supergeheim-abcd"})
    channel = db.session.query(Channel).filter_by(address="123456").one()
    page = city_admin.get("/staff/admin/channels").get_data(as_text=True)
    assert "••••1234" in page and "ABCDEFGHIJ" not in page and "supergeheim" not in page
    city_admin.post(f"/staff/admin/channels/{channel.id}", data={"name": "Amsterdam bot", "address": "123456",
                                                                 "active": "1", "secrets": "bot_token="})
    db.session.expire_all()
    assert channel.secrets["bot_token"] == "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ1234"


def test_mask_secret():
    from meldingen.staff.views.admin import mask_secret

    assert mask_secret("sk_live_abcdefgh1234") == "••••1234"
    assert mask_secret("short") == "••••" and mask_secret("") == ""


def test_admin_creates_staff_accounts_in_own_organisation_only(city_admin):
    response = city_admin.post("/staff/admin/accounts", data={
        "email": "Nieuwe.Ploeg@Amsterdam.test", "role": "crew", "organisation": "GM0363", "department": "STW",
        "password": "lang genoeg wachtwoord", "name": "Nieuwe ploeg"})
    assert response.status_code == 303
    user = db.session.query(StaffUser).filter_by(email="nieuwe.ploeg@amsterdam.test").one()
    assert user.role == "crew" and user.department.code == "STW"
    assert city_admin.post("/staff/admin/accounts", data={
        "email": "x@emmen.test", "role": "crew", "organisation": "GM0114", "password": "lang genoeg wachtwoord"
    }).status_code == 403
    city_admin.post(f"/staff/admin/accounts/{user.id}/active", data={"active": "0"})
    db.session.expire_all()
    assert user.active is False
