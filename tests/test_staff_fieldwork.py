"""Field crews: the map data (built in the database, equal to the Python baseline), the report page, and the
status buttons with a note and a photo through the shared services."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from meldingen.extensions import db
from meldingen.media.models import Photo
from meldingen.reports.models import ReportEvent
from tests.factories import EMMEN, make_report

pytestmark = pytest.mark.rolled_back  # one shared database, rolled back after each test

PASSWORD = "correct horse battery"


def sign_in(client, user):
    assert client.post("/staff/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


def jpeg_bytes(size=(64, 48), colour=(200, 80, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
def crew(app, make_staff):
    report = make_report("Losse stoeptegel bij de ingang")
    user, _ = make_staff("crew", "GM0363", report.department.code)
    client = app.test_client()
    sign_in(client, user)
    return client, user, report


def test_map_geojson_holds_the_teams_open_reports_with_category_and_status(crew):
    client, _user, report = crew
    response = client.get("/staff/map/reports.geojson")
    assert response.mimetype == "application/geo+json"
    data = response.get_json(force=True)
    assert data["type"] == "FeatureCollection"
    [feature] = [f for f in data["features"] if f["properties"]["reference"] == report.reference]
    assert feature["geometry"] == {"type": "Point", "coordinates": [report.lon, report.lat]}
    props = feature["properties"]
    assert props["status"] == "new" and props["status_name"] == "Gemeld"
    assert props["category"] == report.category.name and props["main_category"] == report.category.main_slug
    assert props["late"] is False and props["reporters"] == 1


def test_database_built_geojson_equals_the_python_baseline(app, make_staff):
    from datetime import timedelta

    from meldingen.staff.mapdata import open_reports_geojson, open_reports_geojson_python
    from meldingen.timeutil import utcnow

    make_report("Een")
    late = make_report("Twee", point=(52.3795, 4.8990))
    late.deadline = utcnow() - timedelta(days=2)
    db.session.commit()
    make_report("Drie", point=EMMEN, category="straatverlichting-openbare-klok")
    staff, _ = make_staff("admin", "DSP")
    now = utcnow()
    in_db, in_python = json.loads(open_reports_geojson(staff, now)), json.loads(open_reports_geojson_python(staff, now))
    assert len(in_db["features"]) == 3
    assert in_db == in_python
    assert [f["properties"]["late"] for f in in_db["features"] if f["properties"]["reference"] == late.reference] \
        == [True]


def test_database_built_geojson_escapes_names_and_leaves_no_category_empty_like_the_python_baseline(app, make_staff):
    from sqlalchemy import text

    from meldingen.staff.mapdata import open_reports_geojson, open_reports_geojson_python

    report = make_report("Een")
    report.category.name = 'Tegel "los" \\ scheef – één\ttab'
    db.session.commit()
    make_report("Twee", point=(52.3795, 4.8990))
    db.session.execute(text("UPDATE reports SET category_id = NULL WHERE description = 'Twee'"))
    db.session.commit()
    staff, _ = make_staff("head", "GM0363")
    in_db, in_python = json.loads(open_reports_geojson(staff)), json.loads(open_reports_geojson_python(staff))
    assert in_db == in_python
    by_reference = {f["properties"]["reference"]: f["properties"] for f in in_db["features"]}
    assert by_reference[report.reference]["category"] == 'Tegel "los" \\ scheef – één\ttab'
    assert "" in {props["category"] for props in by_reference.values()}


def test_the_map_shows_every_change_at_once_even_when_served_again_quickly(app, make_staff):
    """Whatever keeps a served map for the next request must never show it after something on it changed."""
    from datetime import timedelta

    from sqlalchemy import text

    from meldingen.reports.services import change_status
    from meldingen.staff.mapdata import open_reports_geojson
    from meldingen.timeutil import utcnow

    report = make_report("Een")
    report.deadline = utcnow() + timedelta(hours=1)
    db.session.commit()
    staff, _ = make_staff("crew", "GM0363", report.department.code)

    def features(now=None):
        return {f["properties"]["reference"]: f["properties"]
                for f in json.loads(open_reports_geojson(staff, now))["features"]}

    assert features()[report.reference]["status"] == "new"
    assert features()[report.reference]["status"] == "new"  # served twice: the same
    change_status(report, "in_progress", "we gaan erheen")
    db.session.commit()
    assert features()[report.reference]["status"] == "in_progress"
    report.category.name = "Hernoemd"
    db.session.commit()
    assert features()[report.reference]["category"] == "Hernoemd"
    # A change made with plain SQL (no updated_at) shows as well.
    db.session.execute(text("UPDATE reports SET reporters_count = 4 WHERE id = :id"), {"id": report.id})
    db.session.commit()
    assert features()[report.reference]["reporters"] == 4
    # The deadline passes without any change in the database.
    assert features()[report.reference]["late"] is False
    assert features(utcnow() + timedelta(hours=2))[report.reference]["late"] is True
    assert features()[report.reference]["late"] is False
    other = make_report("Twee", point=(52.3795, 4.8990))
    db.session.commit()
    assert other.department_id != report.department_id or other.reference in features()
    change_status(report, "done", "klaar")
    db.session.commit()
    assert report.reference not in features()


def test_closed_and_merged_reports_are_not_on_the_map(crew):
    from meldingen.reports.services import change_status

    client, _user, report = crew
    change_status(report, "done", "opgelost")
    db.session.commit()
    assert report.reference not in client.get("/staff/map/reports.geojson").get_data(as_text=True)


def test_area_outlines_are_simplified_geojson_of_the_organisation(crew):
    client, _user, _report = crew
    data = client.get("/staff/map/areas.geojson").get_json(force=True)
    codes = {f["properties"]["code"] for f in data["features"]}
    assert "GM0363" in codes and "GM0114" not in codes
    amsterdam = next(f for f in data["features"] if f["properties"]["code"] == "GM0363")
    assert amsterdam["geometry"]["type"] in ("Polygon", "MultiPolygon")
    lon, lat = (amsterdam["geometry"]["coordinates"][0][0][0] if amsterdam["geometry"]["type"] == "MultiPolygon"
                else amsterdam["geometry"]["coordinates"][0][0])
    assert 4.7 < lon < 5.1 and 52.2 < lat < 52.5


def test_map_page_ships_leaflet_from_the_project_and_lists_by_age_or_distance(app, crew):
    client, _user, report = crew
    older = make_report("Oudere melding", point=(52.3700, 4.8800))
    older.created_at = report.created_at.replace(year=report.created_at.year - 1)
    db.session.commit()
    page = client.get("/staff/map").get_data(as_text=True)
    assert "/static/vendor/leaflet/leaflet.js" in page and "unpkg" not in page and "cdn" not in page.lower()
    assert page.index(older.reference) < page.index(report.reference)
    for path in ("/static/vendor/leaflet/leaflet.js", "/static/vendor/leaflet.markercluster/leaflet.markercluster.js"):
        static = client.get(path)
        assert static.status_code == 200
        static.close()
    near = client.get(f"/staff/map?sort=distance&lat={report.lat}&lon={report.lon}").get_data(as_text=True)
    assert "0.0 km" in near


@pytest.mark.parametrize("app_config", [{"TILE_URL": "https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/"
                                                     "standaard/EPSG:3857/{z}/{x}/{y}.png"}])
def test_tile_url_is_configurable_and_allowed_by_the_content_policy(crew):
    client, _user, _report = crew
    response = client.get("/staff/map")
    assert "service.pdok.nl/brt" in response.get_data(as_text=True)
    assert "https://service.pdok.nl" in response.headers["Content-Security-Policy"]


def test_report_page_shows_address_history_reporters_and_a_navigate_link(crew):
    client, _user, report = crew
    report.reporters_count = 4
    db.session.commit()
    page = client.get(f"/staff/reports/{report.reference}").get_data(as_text=True)
    assert "4 melders" in page
    assert f"geo:{report.lat:.6f},{report.lon:.6f}" in page
    assert "https://www.google.com/maps/dir/?api=1&amp;destination=" in page
    assert report.address_street in page
    assert "aangemaakt" in page  # history


def test_crew_marks_done_with_a_note_and_a_photo(app, crew):
    client, user, report = crew
    response = client.post(
        f"/staff/reports/{report.reference}/status",
        data={"status": "done", "note": "Tegel teruggelegd", "photo": (io.BytesIO(jpeg_bytes()), "na.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert report.status == "done" and report.closed_at is not None
    event = [e for e in report.events if e.kind == "status"][-1]
    assert (event.status, event.note, event.actor_id) == ("done", "Tegel teruggelegd", user.id)
    [photo] = db.session.query(Photo).filter_by(report_id=report.id).all()
    assert photo.source == "staff" and photo.uploaded_by_id == user.id
    page = client.get(f"/staff/reports/{report.reference}").get_data(as_text=True)
    assert f"/media/photos/{photo.token}?thumbnail=1" in page
    served = client.get(f"/media/photos/{photo.token}?thumbnail=1")
    assert served.status_code == 200
    served.close()


def test_done_without_a_note_is_refused_with_the_reason(crew):
    client, _user, report = crew
    response = client.post(f"/staff/reports/{report.reference}/status", data={"status": "done"})
    assert response.status_code == 303
    db.session.expire_all()
    assert report.status == "new"
    page = client.get(f"/staff/reports/{report.reference}").get_data(as_text=True)
    assert "van ‘Gemeld’ naar ‘Afgehandeld’ gaat alleen met een notitie" in page


def test_a_bad_photo_keeps_nothing(crew):
    client, _user, report = crew
    response = client.post(f"/staff/reports/{report.reference}/status",
                           data={"status": "in_progress", "photo": (io.BytesIO(b"not an image"), "x.jpg")},
                           content_type="multipart/form-data")
    assert response.status_code == 303
    db.session.expire_all()
    assert report.status == "new"
    assert db.session.query(ReportEvent).filter_by(report_id=report.id, kind="status").count() == 0


def test_crew_buttons_follow_the_status_table(crew):
    client, _user, report = crew
    page = client.get(f"/staff/reports/{report.reference}").get_data(as_text=True)
    for code in ("in_progress", "planned", "done"):
        assert f'name="status" value="{code}"' in page
    assert 'value="cancelled"' not in page


def test_status_change_tells_the_subscribed_resident(app, crew):
    """Residents hear of it through `signals.status_changed` (its receiver queues the outbox message)."""
    from meldingen.notify.models import OutboundMessage
    from meldingen.residents.models import Reporter

    client, _user, _ = crew
    reporter = Reporter(channel_kind="webchat", platform_id="web-4242", display_name="Bewoner")
    db.session.add(reporter)
    db.session.commit()
    report = make_report("Losse stoeptegel met melder", point=(52.3795, 4.8990), reporter_id=reporter.id)
    asked = client.post(f"/staff/reports/{report.reference}/status", data={"status": "done", "note": "Hersteld"})
    assert asked.status_code == 200  # it messages a resident: confirmed first, as what it is
    assert "De melding wordt afgehandeld en 1 melder krijgt dit bericht." in asked.get_data(as_text=True)
    client.post(f"/staff/reports/{report.reference}/status",
                data={"status": "done", "note": "Hersteld", "confirmed": "1"})
    db.session.expire_all()
    assert report.status == "done"
    assert db.session.query(OutboundMessage).filter_by(reporter_id=reporter.id, report_id=report.id).count() >= 1
