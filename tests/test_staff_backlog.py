"""Department heads: the backlog's filters (in the URL), aggregates, late reports, hotspots, weekly chart,
CSV export, reassigning and merging duplicates."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from meldingen.extensions import db
from meldingen.timeutil import utcnow
from tests.factories import EMMEN, make_report

pytestmark = pytest.mark.rolled_back  # one shared database, rolled back after each test

PASSWORD = "correct horse battery"


def sign_in(client, user):
    assert client.post("/staff/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


@pytest.fixture
def head(app, make_staff):
    client = app.test_client()
    user, _ = make_staff("head", "GM0363")
    sign_in(client, user)
    return client, user


@pytest.fixture
def backlog_reports(app):
    now = utcnow()
    pavement = make_report("Losse stoeptegel")
    late = make_report("Scheve stoeptegel, al lang", point=(52.3795, 4.8990))
    late.created_at, late.deadline = now - timedelta(days=40), now - timedelta(days=10)
    light = make_report("Lamp brandt niet", category="straatverlichting-openbare-klok")
    emmen = make_report("Emmen: tegel los", point=EMMEN)
    done = make_report("Al opgelost", point=(52.3700, 4.8800))
    from meldingen.reports.services import change_status

    change_status(done, "done", "klaar")
    db.session.commit()
    return {"pavement": pavement, "late": late, "light": light, "emmen": emmen, "done": done}


def test_backlog_shows_open_reports_of_own_organisation_with_late_ones_marked(head, backlog_reports):
    client, _ = head
    page = client.get("/staff/backlog").get_data(as_text=True)
    for key in ("pavement", "late", "light"):
        assert backlog_reports[key].reference in page
    assert backlog_reports["emmen"].reference not in page and backlog_reports["done"].reference not in page
    assert 'id="total-open">3<' in page and 'id="total-late">1<' in page
    assert "te laat" in page


def test_filters_live_in_the_url_and_combine(head, backlog_reports):
    client, _ = head
    light = backlog_reports["light"]
    page = client.get(f"/staff/backlog?category={light.category.slug}").get_data(as_text=True)
    assert light.reference in page and backlog_reports["pavement"].reference not in page
    page = client.get("/staff/backlog?late=1").get_data(as_text=True)
    assert backlog_reports["late"].reference in page and backlog_reports["pavement"].reference not in page
    page = client.get("/staff/backlog?min_age=30").get_data(as_text=True)
    assert backlog_reports["late"].reference in page and light.reference not in page
    page = client.get(f"/staff/backlog?area={backlog_reports['late'].district_code}&late=1").get_data(as_text=True)
    assert 'id="total-open">1<' in page
    # the export link carries the same filter
    assert "/staff/backlog.csv?late=1" in client.get("/staff/backlog?late=1").get_data(as_text=True)


def test_aggregates_by_category_area_and_age_come_from_the_database(app, make_staff, backlog_reports):
    from meldingen.staff.backlog import BacklogFilter, backlog_aggregates

    staff, _ = make_staff("head", "GM0363")
    result = backlog_aggregates(staff, BacklogFilter())
    assert result.total == 3 and result.late == 1
    by_category = {slug: (count, late) for slug, _name, count, late in result.by_category}
    assert sum(c for c, _ in by_category.values()) == 3
    assert by_category[backlog_reports["late"].category.main_slug][1] == 1
    assert dict(result.by_age)["1–3 maanden"] == 1
    assert sum(c for _a, c, _l in result.by_area) == 3


def test_aggregates_count_every_open_report_once_per_breakdown(app, make_staff, backlog_reports):
    """The breakdowns by category, area and age are each a full partition of the open backlog, late counted apart."""
    from meldingen.reports.models import Report
    from meldingen.staff.backlog import AGE_BUCKETS, BacklogFilter, backlog_aggregates

    now = utcnow()
    for days, deadline_days, category, point in [(0, 5, "container-is-vol", (52.3600, 4.9000)),
                                                 (10, -2, "container-is-vol", (52.3700, 4.9200)),
                                                 (45, -20, "straatverlichting-openbare-klok", (52.3550, 4.8700)),
                                                 (200, -150, "container-is-kapot", (52.3900, 4.8500))]:
        report = make_report(f"Melding van {days} dagen oud", category=category, point=point)
        report.created_at, report.deadline = now - timedelta(days=days, hours=1), now + timedelta(days=deadline_days)
    db.session.commit()
    staff, _ = make_staff("head", "GM0363")
    result = backlog_aggregates(staff, BacklogFilter(), now)

    reports = [r for r in db.session.query(Report).filter(Report.organisation_id == staff.organisation_id)
               if r.is_open and r.duplicate_of_id is None]
    late = [r for r in reports if r.deadline is not None and r.deadline < now]
    assert (result.total, result.late) == (len(reports), len(late)) == (7, 4)

    def main_slug(r):
        return "" if r.category is None else r.category.main_slug

    expected_categories = {}
    for r in reports:
        count, late_count = expected_categories.get(main_slug(r), (0, 0))
        expected_categories[main_slug(r)] = (count + 1, late_count + (r in late))
    assert {slug: (count, lt) for slug, _name, count, lt in result.by_category} == expected_categories
    assert [count for _s, _n, count, _l in result.by_category] == sorted(
        (count for count, _l in expected_categories.values()), reverse=True)

    expected_areas = {}
    for r in reports:
        code = r.district_code or r.municipality_code or ""
        count, late_count = expected_areas.get(code, (0, 0))
        expected_areas[code] = (count + 1, late_count + (r in late))
    assert {code: (count, lt) for code, count, lt in result.by_area} == expected_areas

    def bucket(r):
        days = (now - r.created_at).days
        return next(label for low, high, label in AGE_BUCKETS if days >= low and (high is None or days < high))

    assert result.by_age == [(label, sum(1 for r in reports if bucket(r) == label)) for _l, _h, label in AGE_BUCKETS]
    assert dict(result.by_age) == {"< 1 week": 3, "1–4 weken": 1, "1–3 maanden": 2, "> 3 maanden": 1}


def test_hotspots_group_nearby_open_reports(app, make_staff, backlog_reports):
    from meldingen.staff.backlog import BacklogFilter, hotspots

    staff, _ = make_staff("head", "GM0363")
    [spot] = hotspots(staff, BacklogFilter())  # the pavement and the light on the same spot; the rest alone
    assert spot["count"] == 2 and spot["late"] == 0
    assert abs(spot["lat"] - 52.3877) < 0.01


def test_weekly_chart_counts_in_and_out_and_is_svg(head, backlog_reports, make_staff):
    from meldingen.staff.backlog import weekly_in_out

    staff, _ = make_staff("head", "GM0363")
    weeks = weekly_in_out(staff)
    assert len(weeks) == 12
    label, count_in, count_out, merged = weeks[-1]
    assert count_in == 3 and count_out == 1 and merged == 0  # this week: three new in Amsterdam (one is 40 days old), one closed
    client, _ = head
    page = client.get("/staff/backlog").get_data(as_text=True)
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page and f"{label}: 3 binnen" in page


def test_weekly_chart_counts_merged_duplicates_apart_from_handled_work(head, backlog_reports, make_staff):
    from meldingen.dedup.services import merge_reports
    from meldingen.staff.backlog import weekly_in_out

    staff, _ = make_staff("head", "GM0363")
    duplicate = make_report("Nog een losse tegel", point=(52.3600, 4.9100))
    merge_reports(duplicate, backlog_reports["pavement"], actor="tester")
    db.session.commit()
    label, count_in, handled, merged = weekly_in_out(staff)[-1]
    assert (count_in, handled, merged) == (4, 1, 1)  # the merged one is not counted as handled work
    client, _ = head
    page = client.get("/staff/backlog").get_data(as_text=True)
    assert f"{label}: 1 afgehandeld" in page and f"{label}: 1 samengevoegd (dubbel)" in page
    assert 'font-size="14"' in page


def test_csv_export_is_excel_friendly_and_follows_the_filter(head, backlog_reports):
    client, _ = head
    tricky = make_report('=HYPERLINK("http://evil") "aanhalingstekens"; puntkomma, en\nnieuwe regel',
                         point=(52.3650, 4.9000))
    response = client.get("/staff/backlog.csv")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "referentie"
    by_ref = {row[0]: row for row in rows[1:]}
    assert set(by_ref) == {backlog_reports[k].reference for k in ("pavement", "late", "light")} | {tricky.reference}
    assert by_ref[tricky.reference][4].startswith("'=HYPERLINK(")  # formulas neutralised, quoting intact
    assert "\nnieuwe regel" in by_ref[tricky.reference][4]
    assert by_ref[backlog_reports["late"].reference][14] == "ja"
    assert {row[1] for row in rows[1:]} == {"Gemeld"}  # statuses by their Dutch names, not codes
    late_only = client.get("/staff/backlog.csv?late=1&sep=comma").get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(late_only)))
    assert [r[0] for r in rows[1:]] == [backlog_reports["late"].reference]


def test_reassign_department_and_assignee_is_recorded(head, backlog_reports, make_staff):
    client, user = head
    report = backlog_reports["pavement"]
    crew, _ = make_staff("crew", "GM0363", "STW")
    response = client.post(f"/staff/reports/{report.reference}/assign",
                           data={"department": "STW", "assignee": str(crew.id)})
    assert response.status_code == 303
    db.session.expire_all()
    assert report.department.code == "STW" and report.assignee_id == crew.id
    event = report.events[-1]
    assert event.kind == "routing" and event.actor_id == user.id and event.data["department"][1] == "STW"


def test_reassign_to_another_organisations_staff_is_refused(head, backlog_reports, make_staff):
    client, _ = head
    report = backlog_reports["pavement"]
    outsider, _ = make_staff("crew", "GM0114", "STW")
    client.post(f"/staff/reports/{report.reference}/assign", data={"assignee": str(outsider.id)})
    db.session.expire_all()
    assert report.assignee_id is None


def test_duplicate_candidates_can_be_merged(head, backlog_reports):
    client, _ = head
    first = backlog_reports["pavement"]
    second = make_report("Losse stoeptegel, iets verderop", point=(52.3660, 4.8850))
    page = client.get(f"/staff/reports/{second.reference}").get_data(as_text=True)
    assert "Mogelijke dubbele meldingen" in page
    # More than the category's duplicate distance apart: only with a reason (see tests/test_staff_merge.py).
    response = client.post(f"/staff/reports/{second.reference}/merge",
                           data={"target": first.reference, "reason": "Zelfde tegel, melder gaf de hoek op"})
    assert response.status_code == 303
    db.session.expire_all()
    assert second.duplicate_of_id == first.id


def test_merge_into_another_organisations_report_is_refused(head, backlog_reports):
    client, _ = head
    response = client.post(f"/staff/reports/{backlog_reports['pavement'].reference}/merge",
                           data={"target": backlog_reports["emmen"].reference})
    assert response.status_code == 404
