"""A field crew at volume (about a thousand reports): the list under the map and "mijn werk" say how many there
are and page through all of them (assigned first, then nearest); a crew member takes a report for themselves
(by role, within their organisation, in the history and the audit log, with a CSRF token); today's route is kept
per staff member on the server and ordered nearest neighbour; the service worker keeps styles at install."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from meldingen.extensions import db
from tests.factories import EMMEN, make_report
from tests.volume import CENTRE, CROWDED_SPOT, fill_reports

pytestmark = pytest.mark.rolled_back  # one shared database, rolled back after each test

PASSWORD = "correct horse battery"


def signed_in(app, user):
    client = app.test_client()
    assert client.post("/staff/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return client


@pytest.fixture
def crew_at_volume(app, make_staff):
    from meldingen.organisations.models import Department, Organisation

    org = db.session.scalar(select(Organisation).where(Organisation.code == "GM0363"))
    departments = list(db.session.scalars(select(Department).where(Department.organisation_id == org.id)
                                          .order_by(Department.code).limit(2)))
    crew, _ = make_staff("crew", "GM0363", departments[0].code)
    volume = fill_reports(departments[0], total=1000, open_in_department=597, assigned=23, assignee=crew,
                          other_department=departments[1])
    return crew, volume


def cards(html: str) -> list[str]:
    return re.findall(r'<li id="work-[^"]+" class="work[^"]*" data-report-url="/staff/reports/([A-Z0-9-]+)"', html)


def test_the_list_under_the_map_says_how_many_are_open_and_pages_through_all_of_them(app, crew_at_volume):
    crew, volume = crew_at_volume
    client = signed_in(app, crew)
    html = client.get("/staff/map").get_data(as_text=True)
    assert f">{volume.open_in_department} open meldingen</h2>" in html
    seen: list[str] = []
    page = 1
    while True:
        html = client.get(f"/staff/map?page={page}").get_data(as_text=True)
        refs = re.findall(r'<li class="[^"]*">\s*<a href="/staff/reports/([A-Z0-9-]+)"', html)
        assert refs, page
        seen += refs
        if 'id="list-next"' not in html:
            break
        page += 1
    assert page > 1
    assert sorted(seen) == sorted(volume.references)  # every open report once, none twice
    # Nearest first from where the crew stands: the busy spot's reports come first when standing on it.
    html = client.get(f"/staff/map?sort=distance&lat={CROWDED_SPOT[0]}&lon={CROWDED_SPOT[1]}").get_data(as_text=True)
    first = re.findall(r'<li class="[^"]*">\s*<a href="/staff/reports/([A-Z0-9-]+)"', html)[:volume.crowded]
    assert set(first) == set(volume.references[:volume.crowded])
    assert client.get("/staff/map?page=nonsense").status_code == 200


def test_my_work_says_how_many_pages_on_and_puts_my_assigned_work_first_then_the_nearest(app, crew_at_volume):
    crew, volume = crew_at_volume
    client = signed_in(app, crew)
    html = client.get(f"/staff/werk?lat={CENTRE[0]}&lon={CENTRE[1]}").get_data(as_text=True)
    count = re.search(r'<p id="work-count"><strong>(\d+) open meldingen</strong> · (\d+) op uw naam', html)
    assert count and (int(count[1]), int(count[2])) == (volume.open_in_department, volume.assigned)
    seen: list[str] = []
    page = 1
    while True:
        html = client.get(f"/staff/werk?lat={CENTRE[0]}&lon={CENTRE[1]}&page={page}").get_data(as_text=True)
        seen += cards(html)
        if 'id="work-next"' not in html:
            break
        page += 1
    assert page > 1 and len(seen) == len(set(seen)) == volume.open_in_department
    assigned = set(volume.references[:volume.assigned])
    assert set(seen[:volume.assigned]) == assigned  # mine first, on the first page
    from meldingen.reports.models import Report
    from meldingen.staff.mywork import distance_m

    points = dict(db.session.execute(select(Report.reference, Report.lat).where(Report.reference.in_(seen))).all())
    lons = dict(db.session.execute(select(Report.reference, Report.lon).where(Report.reference.in_(seen))).all())
    rest = [distance_m(CENTRE, (points[r], lons[r])) for r in seen[volume.assigned:]]
    # Nearest first, as the database orders it (a degree of longitude taken as 0.62 of one of latitude, so two
    # reports at almost the same distance may swap: within 2 %).
    assert all(b >= a * 0.98 for a, b in zip(rest, rest[1:], strict=False))
    assert rest[0] < 300 < rest[-1]


def test_a_crew_member_takes_a_report_for_themselves_and_the_history_and_audit_log_say_so(app, make_staff):
    from meldingen.audit.models import AuditEntry
    from meldingen.reports.models import Report

    report = make_report("Losse stoeptegel bij de ingang")
    crew, _ = make_staff("crew", "GM0363", report.department.code)
    reference = report.reference
    client = signed_in(app, crew)
    page = client.get(f"/staff/reports/{reference}").get_data(as_text=True)
    assert 'id="take-report"' in page
    response = client.post(f"/staff/reports/{reference}/take")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/staff/reports/{reference}")
    db.session.expire_all()
    report = db.session.scalar(select(Report).where(Report.reference == reference))
    assert report.assignee_id == crew.id
    assert [(e.kind, e.actor, e.data["assignee"]) for e in report.events if e.kind == "assign"] == [
        ("assign", crew.email, [None, crew.email])]
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "staff.report_take")).one()
    assert (entry.actor_id, entry.object_id, entry.details["status"]) == (crew.id, reference, 303)
    assert 'id="take-report"' not in client.get(f"/staff/reports/{reference}").get_data(as_text=True)
    # Taking it again changes nothing and says so.
    client.post(f"/staff/reports/{reference}/take")
    db.session.expire_all()
    assert len([e for e in db.session.get(Report, report.id).events if e.kind == "assign"]) == 1


def test_taking_a_report_is_for_its_own_organisation_and_for_roles_that_do_fieldwork(app, make_staff):
    from meldingen.reports.models import Report

    amsterdam = make_report("Losse stoeptegel bij de ingang")
    emmen = make_report("Lantaarnpaal kapot", point=EMMEN, category="straatverlichting-openbare-klok")
    agent, _ = make_staff("agent", "GM0363")
    other_crew, _ = make_staff("crew", "GM0114", emmen.department.code if emmen.department else None)
    head, _ = make_staff("head", "GM0363")
    references = amsterdam.reference, emmen.reference
    assert signed_in(app, agent).post(f"/staff/reports/{references[0]}/take").status_code == 403
    assert signed_in(app, other_crew).post(f"/staff/reports/{references[0]}/take").status_code == 404
    assert signed_in(app, head).post(f"/staff/reports/{references[1]}/take").status_code == 404
    assert signed_in(app, head).post(f"/staff/reports/{references[0]}/take").status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(Report.assignee_id).where(Report.reference == references[0])) == head.id


def test_a_closed_report_cannot_be_taken(app, make_staff):
    from meldingen.reports.services import change_status

    report = make_report("Losse stoeptegel bij de ingang")
    change_status(report, "in_progress")
    change_status(report, "done", "Tegel teruggelegd")
    db.session.commit()
    crew, _ = make_staff("crew", "GM0363", report.department.code)
    client = signed_in(app, crew)
    client.post(f"/staff/reports/{report.reference}/take")
    page = client.get(f"/staff/reports/{report.reference}").get_data(as_text=True)
    assert "al afgesloten" in page
    db.session.expire_all()
    assert report.assignee_id is None


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_taking_a_report_and_the_route_need_the_pages_csrf_token(app, make_staff, app_config):
    from flask import g

    report = make_report("Losse stoeptegel bij de ingang")
    crew, _ = make_staff("crew", "GM0363", report.department.code)
    client = app.test_client()

    def token_of(path: str) -> str:
        # The test keeps one app context, and with it `g`, across requests: Flask-WTF's token of an earlier
        # request must not be taken for this one's (in the server each request has a context of its own).
        g.pop("csrf_token", None)
        return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))[1]

    assert client.post("/staff/login", data={"email": crew.email, "password": PASSWORD,
                                             "csrf_token": token_of("/staff/login")}).status_code == 302
    for path in (f"/staff/reports/{report.reference}/take", f"/staff/reports/{report.reference}/route",
                 "/staff/route/order"):
        assert client.post(path).status_code == 400
    db.session.expire_all()
    assert report.assignee_id is None
    token = token_of(f"/staff/reports/{report.reference}")
    assert client.post(f"/staff/reports/{report.reference}/take", data={"csrf_token": token}).status_code == 303
    db.session.expire_all()
    assert report.assignee_id == crew.id


@pytest.fixture
def one_day(monkeypatch):
    """Today stays today while the test runs (it may run across midnight in Amsterdam)."""
    from meldingen.staff import route

    day = route.today()
    monkeypatch.setattr(route, "today", lambda: day)
    return day


def test_todays_route_is_kept_per_person_and_ordered_nearest_neighbour_from_where_they_stand(app, make_staff,
                                                                                            one_day):
    from meldingen.staff import route

    # Along a line from west to east, added in a jumbled order.
    points = [(52.3700, 4.8800 + 0.01 * i) for i in range(5)]
    reports = [make_report(f"Losse tegel {i}", point=p) for i, p in enumerate(points)]
    crew, _ = make_staff("crew", "GM0363", reports[0].department.code)
    colleague, _ = make_staff("crew", "GM0363", reports[0].department.code)
    for report in (reports[3], reports[0], reports[4], reports[1], reports[2]):
        assert route.add_stop(crew, report)
    assert not route.add_stop(crew, reports[1])  # once on the route is enough
    db.session.commit()
    assert [s.report.reference for s in route.route(crew)] == [reports[i].reference for i in (3, 0, 4, 1, 2)]
    assert route.route(colleague) == []
    assert route.route(crew, day=one_day - timedelta(days=1)) == []  # a route is for one day

    client = signed_in(app, crew)
    east = (52.3700, 4.9300)
    response = client.post("/staff/route/order", data={"lat": east[0], "lon": east[1]})
    assert response.headers["Location"].endswith("/staff/route?lat=52.37000&lon=4.93000")  # distances from there
    db.session.expire_all()
    assert [s.report.reference for s in route.route(crew)] == [reports[i].reference for i in (4, 3, 2, 1, 0)]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert cards(page) == [reports[i].reference for i in (4, 3, 2, 1, 0)]
    first_card = page.split('<li id="work-')[1]
    assert '<span class="distance">' in first_card  # the first stop: how far from where I stand
    assert "5 meldingen op uw route" in page
    # Without a position: from the first stop on.
    client.post(f"/staff/reports/{reports[2].reference}/route/remove", data={"back": "route"})
    client.post("/staff/route/order")
    db.session.expire_all()
    assert [s.report.reference for s in route.route(crew)] == [reports[i].reference for i in (4, 3, 1, 0)]


def test_a_report_goes_on_the_route_from_its_page_and_from_my_work(app, make_staff, one_day):
    report = make_report("Losse stoeptegel bij de ingang")
    crew, _ = make_staff("crew", "GM0363", report.department.code)
    client = signed_in(app, crew)
    page = client.get(f"/staff/reports/{report.reference}").get_data(as_text=True)
    assert "Op mijn route vandaag" in page
    # Back on "mijn werk" as it was (its page, the position it was sorted from), at the card pressed.
    back = "/staff/werk?lat=52.37&lon=4.89&page=1"
    response = client.post(f"/staff/reports/{report.reference}/route", data={"back": back})
    assert response.headers["Location"] == f"{back}#work-{report.reference}"
    work = client.get("/staff/werk").get_data(as_text=True)
    assert "Mijn route vandaag (1)" in work and "Van mijn route halen" in work
    assert '<input type="hidden" name="back" value="/staff/werk?">' in work
    for elsewhere in ("https://elders.example/staff/werk", "//elders.example/staff/werk", "/staff/werk//x",
                      "/staff/admin"):
        response = client.post(f"/staff/reports/{report.reference}/route", data={"back": elsewhere})
        assert response.headers["Location"].endswith(f"/staff/reports/{report.reference}")  # never elsewhere
    assert "stond al op uw route" in client.get(f"/staff/reports/{report.reference}").get_data(as_text=True)


def test_a_status_change_returns_to_the_form_and_the_worker_keeps_styles_when_it_installs(app, make_staff):
    report = make_report("Losse stoeptegel bij de ingang")
    crew, _ = make_staff("crew", "GM0363", report.department.code)
    client = signed_in(app, crew)
    response = client.post(f"/staff/reports/{report.reference}/status", data={"status": "in_progress"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/staff/reports/{report.reference}#status-update")
    page = client.get(f"/staff/reports/{report.reference}").get_data(as_text=True)
    assert 'href="#status-update"' in page and 'id="status-update"' in page

    worker = client.get("/staff/sw.js").get_data(as_text=True)
    kept = re.match(r"var PRECACHE = (\[.*?\]);", worker)
    assert kept
    for asset in ("/static/staff/staff.css", "/static/staff/report.js", "/static/vendor/leaflet/leaflet.css"):
        assert f'"{asset}' in kept[1]
        response = client.get(asset)
        assert response.status_code == 200
        response.close()
