""""Mijn werk" for a field crew (assigned to me first, then my department, nearest first), the service worker
that keeps it offline, and the printable work order with its QR code."""

from __future__ import annotations

import re

import pytest

from meldingen.extensions import db
from tests.factories import AMSTERDAM, make_report

pytestmark = pytest.mark.rolled_back  # one shared database, rolled back after each test

PASSWORD = "correct horse battery"
BARENTSZPLEIN = (52.3892794, 4.8910276)
BICKERSGRACHT = (52.3867425, 4.8886499)


def signed_in(app, user):
    client = app.test_client()
    assert client.post("/staff/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return client


@pytest.fixture
def crew_work(app, make_staff):
    tile = make_report("Losse stoeptegel bij de ingang")  # Westerdoksdijk, the crew's department
    near = make_report("Stoep verzakt bij het plein", point=BARENTSZPLEIN)
    far = make_report("Gat in het fietspad", point=BICKERSGRACHT)
    crew, _ = make_staff("crew", "GM0363", tile.department.code)
    return crew, tile, near, far


def test_my_work_lists_my_assigned_reports_first_then_my_departments_nearest_first(crew_work):
    from meldingen.staff.mywork import my_work

    crew, tile, near, far = crew_work
    far.assignee_id = crew.id
    db.session.commit()
    # Standing on Bickersgracht: `far` is mine, so first; then the department's, nearest first.
    standing = (BICKERSGRACHT[0] + 0.0001, BICKERSGRACHT[1])
    items = my_work(crew, here=standing)
    refs = [i.report.reference for i in items]
    assert refs.index(far.reference) == 0 and items[0].mine
    assert refs.index(tile.reference) < refs.index(near.reference)  # Westerdoksdijk is nearer than the plein
    assert items[0].distance_m < 20
    # Standing on Barentszplein the department's order turns round; mine stays first.
    refs = [i.report.reference for i in my_work(crew, here=BARENTSZPLEIN)]
    assert refs[0] == far.reference and refs.index(near.reference) < refs.index(tile.reference)


def test_my_work_leaves_out_closed_and_merged_reports_and_other_departments(crew_work, make_staff):
    from sqlalchemy import select

    from meldingen.organisations.models import Department
    from meldingen.reports.services import change_status
    from meldingen.staff.mywork import my_work

    crew, tile, near, far = crew_work
    change_status(near, "done", "Hersteld")
    other = db.session.scalar(select(Department).where(Department.organisation_id == tile.organisation_id,
                                                       Department.id != tile.department_id))
    far.department_id = other.id
    db.session.commit()
    assert [i.report.reference for i in my_work(crew)] == [tile.reference]


def test_the_my_work_page_on_a_phone_links_each_report_and_its_photos_for_offline_use(app, crew_work):
    crew, tile, near, far = crew_work
    client = signed_in(app, crew)
    html = client.get(f"/staff/werk?lat={AMSTERDAM[0]}&lon={AMSTERDAM[1]}").get_data(as_text=True)
    assert f'data-report-url="/staff/reports/{tile.reference}"' in html
    assert "gesorteerd vanaf uw positie" in html and re.search(r'class="distance">\d+ m<', html)
    assert client.get("/staff/werk?lat=abc&lon=999").status_code == 200  # a bad position: sorted by deadline


def test_the_service_worker_is_served_for_the_staff_scope_and_queues_status_posts(client):
    response = client.get("/staff/sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/staff/"
    body = response.get_data(as_text=True)
    assert "indexedDB" in body and "/staff/logout" in body


def test_the_work_order_holds_reference_address_history_and_a_qr_code_to_the_report_page(app, crew_work):
    crew, tile, near, far = crew_work
    app.config["PUBLIC_URL"] = "https://meldingen.example.nl"
    client = signed_in(app, crew)
    html = client.get(f"/staff/reports/{tile.reference}/werkbon").get_data(as_text=True)
    assert tile.reference in html and "Westerdoksdijk 40A" in html
    assert f"https://meldingen.example.nl/staff/reports/{tile.reference}" in html
    assert re.search(r'<svg role="img" aria-label="QR-code naar de melding"[^>]*>\s*<path d="M', html)
    css = client.get("/static/staff/worklists.css")
    assert "@media print" in css.get_data(as_text=True)
    css.close()
    assert f'/staff/reports/{tile.reference}/werkbon' in client.get(f"/staff/reports/{tile.reference}").get_data(
        as_text=True)
