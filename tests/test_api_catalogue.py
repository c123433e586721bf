"""What an integrator reads first: GET /api/v1/categories (the tree) and GET /api/v1/organisations (with their
departments), token-protected like the other reads, and in the OpenAPI document."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from meldingen.categories.models import Category, CategoryOverride
from meldingen.extensions import db
from meldingen.organisations.models import Organisation

pytestmark = pytest.mark.rolled_back


def test_categories_need_a_token_and_answer_a_problem_without_one(client):
    response = client.get("/api/v1/categories")
    assert response.status_code == 401 and response.mimetype == "application/problem+json"


def test_the_category_tree_has_slugs_names_handling_times_active_flags_and_parents(client, auth, make_staff):
    _, token = make_staff("crew", "GM0363")
    sub = db.session.scalar(select(Category).where(Category.slug == "onderhoud-stoep-straat-en-fietspad"))
    inactive = db.session.scalar(select(Category).where(Category.parent_id.is_not(None), Category.id != sub.id))
    inactive.active = False
    amsterdam = db.session.scalar(select(Organisation).where(Organisation.code == "GM0363"))
    emmen = db.session.scalar(select(Organisation).where(Organisation.code == "GM0114"))
    db.session.add_all([CategoryOverride(organisation_id=amsterdam.id, category_id=sub.id, handling_days=2),
                        CategoryOverride(organisation_id=emmen.id, category_id=sub.id, handling_days=9)])
    db.session.commit()
    response = client.get("/api/v1/categories", headers=auth(token))
    assert response.status_code == 200
    mains = response.get_json()["items"]
    main_count = db.session.query(Category).filter(Category.parent_id.is_(None)).count()
    assert len(mains) == main_count and all(main["parent"] is None for main in mains)
    subs = {s["slug"]: s for main in mains for s in main["sub_categories"]}
    assert all(s["parent"] == main["slug"] for main in mains for s in main["sub_categories"])
    pavement = subs[sub.slug]
    assert pavement["name"] == sub.name and pavement["name_en"] == sub.name_en
    assert pavement["handling_days"] == sub.handling_days and pavement["active"] is True
    assert pavement["parent"] == sub.parent.slug
    assert pavement["handling_days_by_organisation"] == {"GM0363": 2}  # not Emmen's: not the caller's
    assert subs[inactive.slug]["active"] is False


def test_organisations_are_those_the_caller_acts_for_with_their_departments(client, auth, make_staff):
    _, amsterdam = make_staff("head", "GM0363")
    answer = client.get("/api/v1/organisations", headers=auth(amsterdam)).get_json()["items"]
    assert [o["code"] for o in answer] == ["GM0363"]
    organisation = db.session.scalar(select(Organisation).where(Organisation.code == "GM0363"))
    assert {d["code"] for d in answer[0]["departments"]} == {d.code for d in organisation.departments}
    _, service_point = make_staff("agent", "DSP")
    served = client.get("/api/v1/organisations", headers=auth(service_point)).get_json()["items"]
    expected = {"DSP"} | set(db.session.scalars(
        select(Organisation.code).where(Organisation.service_point_id == organisation.service_point_id)))
    assert {o["code"] for o in served} == expected and "GM0363" in expected


def test_both_are_in_the_openapi_document_with_examples(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/categories", "/api/v1/organisations"):
        operation = paths[path]["get"]
        assert operation["security"] == [{"bearer": []}]
        assert operation["responses"]["200"]["content"]["application/json"]["example"]["items"]
