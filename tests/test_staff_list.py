"""The heads' one list (/staff/backlog): the search's words and statuses with the backlog's lateness, deadline
sort, districts by name and assignee; every report a filter finds selected across pages for one bulk change; the
weekly chart and hotspots of the same filter; filters kept by name on the server, per member of staff."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from meldingen.accounts.models import SavedFilter
from meldingen.extensions import db
from meldingen.geo.models import Area
from meldingen.reports.models import Report
from meldingen.timeutil import utcnow
from tests.factories import make_report

pytestmark = pytest.mark.rolled_back  # one shared database, rolled back after each test

PASSWORD = "correct horse battery"


def sign_in(client, user):
    assert client.post("/staff/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


def listed(page: str) -> list[str]:
    """The references in the list's rows, in order."""
    table = page[page.index('id="backlog-table"'):]
    return re.findall(r'name="reference" value="(M-[A-Z0-9]+)"', table)


@pytest.fixture
def head(app, make_staff):
    client = app.test_client()
    user, _ = make_staff("head", "GM0363")
    sign_in(client, user)
    return client, user


@pytest.fixture
def reports(app):
    now = utcnow()
    soon = make_report("Losse stoeptegel bij de ingang")
    late = make_report("Scheve stoeptegel, al lang", point=(52.3795, 4.8990))
    late.created_at, late.deadline = now - timedelta(days=40), now - timedelta(days=10)
    later = make_report("Lamp brandt niet", category="straatverlichting-openbare-klok")
    later.deadline = now + timedelta(days=30)
    soon.deadline = now + timedelta(days=2)
    done = make_report("Stoeptegel al teruggelegd", point=(52.3700, 4.8800))
    from meldingen.reports.services import change_status

    change_status(done, "done", "klaar")
    db.session.commit()
    return {"soon": soon, "late": late, "later": later, "done": done}


def test_a_heads_search_leads_to_the_one_list_with_the_same_filter(head, reports):
    client, _ = head
    response = client.get("/staff/search?q=stoeptegel&state=closed")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/staff/backlog?q=stoeptegel&status=closed")
    assert client.get("/staff/search").headers["Location"].endswith("/staff/backlog")
    assert client.get("/staff/search?q=stoeptegel").headers["Location"].endswith("/staff/backlog?q=stoeptegel&status=all")
    page = client.get("/staff/search?q=stoeptegel", follow_redirects=True).get_data(as_text=True)
    assert sorted(listed(page)) == sorted(r.reference for r in (reports["soon"], reports["late"], reports["done"]))
    page = client.get("/staff/backlog?q=stoeptegel").get_data(as_text=True)  # open by default
    assert reports["done"].reference not in listed(page)
    assert "minstens drie tekens" in client.get("/staff/backlog?q=ab").get_data(as_text=True)
    assert client.get("/staff/backlog?q=ab").status_code == 400


def test_late_sorted_by_deadline_with_a_deadline_column(head, reports):
    client, _ = head
    page = client.get("/staff/backlog").get_data(as_text=True)
    assert "<th>Deadline</th>" in page
    assert listed(page) == [reports[k].reference for k in ("late", "soon", "later")]
    assert listed(client.get("/staff/backlog?late=1").get_data(as_text=True)) == [reports["late"].reference]
    assert listed(client.get("/staff/backlog?sort=newest").get_data(as_text=True))[0] == reports["later"].reference


def test_districts_are_picked_by_name_and_filter(head, reports):
    client, _ = head
    late = reports["late"]
    name = db.session.scalar(select(Area.name).where(Area.code == late.district_code))
    page = client.get("/staff/backlog").get_data(as_text=True)
    assert '<select name="area"' in page and f'<option value="{late.district_code}" >{name}</option>' in page
    assert 'placeholder="WK036300"' not in page
    page = client.get(f"/staff/backlog?area={late.district_code}").get_data(as_text=True)
    assert late.reference in listed(page) and f'<option value="{late.district_code}" selected>{name}' in page


def test_assignee_filter(head, reports, make_staff):
    client, user = head
    crew, _ = make_staff("crew", "GM0363", reports["soon"].department.code)
    reports["soon"].assignee_id = crew.id
    reports["later"].assignee_id = user.id
    db.session.commit()
    assert listed(client.get(f"/staff/backlog?assignee={crew.id}").get_data(as_text=True)) == [reports["soon"].reference]
    assert listed(client.get("/staff/backlog?assignee=me").get_data(as_text=True)) == [reports["later"].reference]
    assert listed(client.get("/staff/backlog?assignee=none").get_data(as_text=True)) == [reports["late"].reference]


def test_every_report_a_filter_finds_is_changed_across_pages(head, reports, monkeypatch):
    from meldingen.staff import backlog

    monkeypatch.setattr(backlog, "PAGE_SIZE", 2)
    client, user = head
    page = client.get("/staff/backlog?q=stoeptegel&status=all").get_data(as_text=True)
    assert len(listed(page)) == 2 and "alle 3 meldingen van dit filter" in page
    form_filter = re.search(r'name="filter" value="([^"]*)"', page).group(1).replace("&amp;", "&")
    response = client.post("/staff/search/bulk", data={
        "all_matching": "1", "filter": form_filter, "action": "assignee", "assignee": str(user.id),
        "back": "/staff/backlog?q=stoeptegel&status=all"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/staff/backlog?q=stoeptegel&status=all")
    db.session.expire_all()
    assert {r.reference for r in db.session.scalars(select(Report).where(Report.assignee_id == user.id))} == {
        reports[k].reference for k in ("soon", "late", "done")}
    assert reports["later"].assignee_id is None

    # Without "all", only the ticked ones; a filter past the limit is refused as a whole.
    from meldingen.staff import worklist

    monkeypatch.setattr(worklist, "MAX_MATCHING", 1)
    refused = client.post("/staff/search/bulk", data={"all_matching": "1", "filter": urlencode({"status": "all"}),
                                                      "action": "assignee", "assignee": "", "back": "/staff/backlog"},
                          follow_redirects=True).get_data(as_text=True)
    assert "meer dan 1 meldingen" in refused or "meer dan 1 melding" in refused
    db.session.expire_all()
    assert reports["soon"].assignee_id == user.id


def test_the_weekly_chart_follows_the_filter(app, make_staff, reports):
    from meldingen.staff.backlog import BacklogFilter, weekly_in_out

    staff, _ = make_staff("head", "GM0363")
    every = sum(w.created for w in weekly_in_out(staff))
    lights = sum(w.created for w in weekly_in_out(staff, flt=BacklogFilter(category="straatverlichting-openbare-klok")))
    words = sum(w.created for w in weekly_in_out(staff, flt=BacklogFilter(q="stoeptegel")))
    assert lights == 1 and words < every


def test_hotspots_follow_the_filter(app, make_staff):
    from meldingen.staff.backlog import BacklogFilter, hotspots

    # Two of each within one ~200 m cell, far enough apart not to be taken for one problem.
    for lat in (52.38200, 52.38290):
        make_report("Losse stoeptegel", point=(lat, 4.89000))
        make_report("Lamp brandt niet", category="straatverlichting-openbare-klok", point=(lat, 4.89080))
    staff, _ = make_staff("head", "GM0363")
    [spot] = hotspots(staff, BacklogFilter(category="straatverlichting-openbare-klok"))
    assert spot["count"] == 2
    assert sum(s["count"] for s in hotspots(staff, BacklogFilter())) == 4


def test_filters_are_kept_by_name_on_the_server_per_person(head, reports, app, make_staff):
    client, user = head
    response = client.post("/staff/filters", data={"name": "Te laat", "url": "/staff/backlog?late=1"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/staff/backlog?late=1")
    assert db.session.scalar(select(SavedFilter.url).where(SavedFilter.staff_id == user.id)) == "/staff/backlog?late=1"
    page = client.get("/staff/backlog").get_data(as_text=True)
    assert '<a href="/staff/backlog?late=1">Te laat</a>' in page
    # The same name again keeps the new filter; another page or site is refused.
    client.post("/staff/filters", data={"name": "Te laat", "url": "/staff/backlog?late=1&sort=oldest"})
    assert db.session.scalars(select(SavedFilter.url).where(SavedFilter.staff_id == user.id)).all() == [
        "/staff/backlog?late=1&sort=oldest"]
    for url in ("https://example.org/staff/backlog", "//example.org/staff/backlog", "/staff/admin/accounts"):
        client.post("/staff/filters", data={"name": "Weg", "url": url})
    assert db.session.scalar(select(SavedFilter).where(SavedFilter.name == "Weg")) is None

    # A colleague sees only their own, on their own list (the search) too, and cannot delete another's.
    other = app.test_client()
    agent, _ = make_staff("agent", "GM0363")
    sign_in(other, agent)
    assert "Te laat" not in other.get("/staff/search").get_data(as_text=True)
    saved = db.session.scalar(select(SavedFilter).where(SavedFilter.staff_id == user.id))
    assert other.post(f"/staff/filters/{saved.id}/delete").status_code == 404
    other.post("/staff/filters", data={"name": "Mijn zoekopdracht", "url": "/staff/search?q=tegel"})
    assert '<a href="/staff/search?q=tegel">Mijn zoekopdracht</a>' in other.get("/staff/search").get_data(as_text=True)
    assert client.post(f"/staff/filters/{saved.id}/delete", data={"back": "/staff/backlog"}).status_code == 303
    assert db.session.scalar(select(SavedFilter).where(SavedFilter.id == saved.id)) is None
