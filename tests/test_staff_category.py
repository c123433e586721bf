"""Staff correct a report's category on its page: routed again, kept for the classifier, by the right roles."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from meldingen.categories.models import Category
from meldingen.classify.models import TrainingExample
from meldingen.extensions import db
from tests.factories import make_report
from tests.test_staff_fieldwork import sign_in

pytestmark = pytest.mark.rolled_back  # one shared database, rolled back after each test


def light_category():
    return db.session.scalar(select(Category).where(Category.slug == "straatverlichting-openbare-klok"))


@pytest.mark.parametrize("role", ["agent", "head", "admin"])
def test_staff_who_read_the_words_correct_the_category(client, make_staff, role):
    user, _ = make_staff(role, "DSP" if role == "agent" else "GM0363")
    report = make_report("Lantaarnpaal bij de brug brandt niet meer")
    sign_in(client, user)
    page = client.get(f"/staff/reports/{report.reference}").get_data(as_text=True)
    assert 'name="category"' in page
    response = client.post(f"/staff/reports/{report.reference}/category", data={"category": light_category().id})
    assert response.status_code == 303
    db.session.expire_all()
    assert report.category.slug == "straatverlichting-openbare-klok" and report.category_confirmed
    assert report.department.code == "OVL"
    example = db.session.scalar(select(TrainingExample).where(TrainingExample.report_id == report.id))
    assert example.created_by_id == user.id


def test_field_crews_do_not_change_categories(client, make_staff):
    crew, _ = make_staff("crew", "GM0363", "STW")
    report = make_report()
    sign_in(client, crew)
    assert 'name="category"' not in client.get(f"/staff/reports/{report.reference}").get_data(as_text=True)
    response = client.post(f"/staff/reports/{report.reference}/category", data={"category": light_category().id})
    assert response.status_code == 403
    db.session.expire_all()
    assert report.category.slug == "onderhoud-stoep-straat-en-fietspad"


def test_another_organisations_report_is_not_found(client, make_staff):
    head, _ = make_staff("head", "GM0114")
    report = make_report()
    sign_in(client, head)
    response = client.post(f"/staff/reports/{report.reference}/category", data={"category": light_category().id})
    assert response.status_code == 404


def test_a_main_category_is_refused_with_a_message(client, make_staff):
    head, _ = make_staff("head", "GM0363")
    report = make_report()
    main = db.session.scalar(select(Category).where(Category.slug == "afval", Category.parent_id.is_(None)))
    sign_in(client, head)
    response = client.post(f"/staff/reports/{report.reference}/category", data={"category": main.id},
                           follow_redirects=True)
    assert "kies een subcategorie" in response.get_data(as_text=True)
    db.session.expire_all()
    assert report.category.slug == "onderhoud-stoep-straat-en-fietspad"
