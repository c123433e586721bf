"""The reports API: create through the pipeline, list with filters and paging, status changes, scoping."""

import pytest

from meldingen.extensions import db
from tests.factories import AMSTERDAM, EMMEN, ROTTERDAM, make_report

pytestmark = pytest.mark.rolled_back  # one shared database, rolled back after each test


def create(client, auth, token, **body):
    return client.post("/api/v1/reports", json=body, headers=auth(token))


def test_create_with_a_location_places_routes_and_sets_a_deadline(client, auth, make_staff):
    _, token = make_staff("agent", "DSP")
    response = create(client, auth, token, description="Losse stoeptegel, je struikelt erover",
                      location={"lat": AMSTERDAM[0], "lon": AMSTERDAM[1]},
                      category="onderhoud-stoep-straat-en-fietspad")
    assert response.status_code == 201, response.json
    report = response.json
    assert report["reference"].startswith("M-") and len(report["reference"]) == 8
    assert report["status"] == "new"
    assert report["areas"]["municipality"] == "GM0363"
    assert report["organisation"] == "GM0363"
    assert report["category"] == {"main_slug": "wegen-verkeer-straatmeubilair",
                                  "sub_slug": "onderhoud-stoep-straat-en-fietspad",
                                  "name": "Onderhoud stoep, straat en fietspad", "confirmed": True}
    assert report["deadline"] > report["created_at"]
    assert report["channel"] == "staff"
    assert report["history"][0]["status"] == "new"
    assert any(h["kind"] == "routing" for h in report["history"])
    assert report["created_at"].endswith(("+01:00", "+02:00"))


def test_create_in_emmen_gets_the_neighbourhood(client, auth, make_staff):
    _, token = make_staff("agent", "DSP")
    response = create(client, auth, token, description="Lamp kapot", location={"lat": EMMEN[0], "lon": EMMEN[1]},
                      category="straatverlichting-openbare-klok")
    assert response.status_code == 201
    assert response.json["areas"]["neighbourhood"].startswith("BU0114")
    assert response.json["organisation"] == "GM0114"


def test_create_outside_the_service_area_is_refused_with_the_municipality(client, auth, make_staff):
    _, token = make_staff("agent", "DSP")
    response = create(client, auth, token, description="Lamp kapot",
                      location={"lat": ROTTERDAM[0], "lon": ROTTERDAM[1]})
    assert response.status_code == 422
    assert "Rotterdam" in response.json["message"]


@pytest.mark.parametrize("location", [{"lat": 0, "lon": 0}, {"lat": 91, "lon": 5}, {"lat": "x", "lon": 5}])
def test_create_with_a_bad_point_is_a_4xx_with_a_reason(client, auth, make_staff, location):
    _, token = make_staff("agent", "DSP")
    response = create(client, auth, token, description="Lamp kapot", location=location)
    assert response.status_code == 422
    assert response.json.get("message") or response.json.get("errors")


def test_create_without_location_or_address_is_refused(client, auth, make_staff):
    _, token = make_staff("agent", "DSP")
    response = create(client, auth, token, description="Lamp kapot")
    assert response.status_code == 422
    assert "location" in [error["field"] for error in response.json["errors"]]


def test_create_with_an_unknown_category_is_refused(client, auth, make_staff):
    _, token = make_staff("agent", "DSP")
    response = create(client, auth, token, description="x", location={"lat": AMSTERDAM[0], "lon": AMSTERDAM[1]},
                      category="does-not-exist")
    assert response.status_code == 422
    assert "does-not-exist" in response.json["message"]


def test_the_api_needs_a_valid_token(client, auth):
    assert client.get("/api/v1/reports").status_code == 401
    assert client.get("/api/v1/reports", headers=auth("mld_wrong")).status_code == 401
    assert client.get("/api/v1/reports", headers={"Authorization": "Basic abc"}).status_code == 401


def test_list_filters_and_pages(client, auth, make_staff):
    _, token = make_staff("head", "GM0363")
    for i in range(5):  # five tiles 100 m apart: five problems, not duplicates of one
        make_report(f"Stoeptegel {i}", point=(AMSTERDAM[0], AMSTERDAM[1] + i * 0.0015))
    light = make_report("Lamp kapot", category="straatverlichting-openbare-klok")
    page = client.get("/api/v1/reports?page_size=2&page=2", headers=auth(token)).json
    assert (page["page"], page["pages"], page["total"], len(page["items"])) == (2, 3, 6, 2)
    only_lights = client.get("/api/v1/reports?category=straatverlichting-openbare-klok", headers=auth(token)).json
    assert [r["reference"] for r in only_lights["items"]] == [light.reference]
    by_main = client.get("/api/v1/reports?category=wegen-verkeer-straatmeubilair", headers=auth(token)).json
    assert by_main["total"] == 6
    bbox = "4.89,52.38,4.90,52.39"
    assert client.get(f"/api/v1/reports?bbox={bbox}", headers=auth(token)).json["total"] == 6
    assert client.get("/api/v1/reports?bbox=5,52,6,53", headers=auth(token)).json["total"] == 0
    assert client.get("/api/v1/reports?channel=whatsapp", headers=auth(token)).json["total"] == 0
    assert client.get("/api/v1/reports?status=new&organisation=GM0363", headers=auth(token)).json["total"] == 6
    assert client.get("/api/v1/reports?created_after=2000-01-01T00:00:00Z", headers=auth(token)).json["total"] == 6
    assert client.get("/api/v1/reports?created_before=2000-01-01T00:00:00Z", headers=auth(token)).json["total"] == 0


@pytest.mark.parametrize("query", ["page_size=501", "page=0", "bbox=1,2,3", "bbox=a,b,c,d", "created_after=gisteren"])
def test_bad_list_parameters_are_a_422_with_a_reason(client, auth, make_staff, query):
    _, token = make_staff("head", "GM0363")
    response = client.get(f"/api/v1/reports?{query}", headers=auth(token))
    assert response.status_code == 422
    assert response.json["errors"]


def test_status_change_and_refusal_over_the_api(client, auth, make_staff):
    _, token = make_staff("crew", "GM0363")
    report = make_report()
    url = f"/api/v1/reports/{report.reference}/status"
    ok = client.post(url, json={"status": "in_progress"}, headers=auth(token))
    assert ok.status_code == 200 and ok.json["status"] == "in_progress"
    no_note = client.post(url, json={"status": "done"}, headers=auth(token))
    assert no_note.status_code == 409 and "note" in no_note.json["message"]
    done = client.post(url, json={"status": "done", "note": "Tegel teruggelegd"}, headers=auth(token))
    assert done.status_code == 200
    refused = client.post(url, json={"status": "planned"}, headers=auth(token))
    assert refused.status_code == 409
    assert "cannot move" in refused.json["message"]
    assert done.json["history"][-1]["note"] == "Tegel teruggelegd"


class TestOrganisationScoping:
    """Staff of Emmen get 404 for an Amsterdam report on every route, and never its data."""

    def test_get(self, client, auth, make_staff):
        _, emmen = make_staff("head", "GM0114")
        report = make_report()
        response = client.get(f"/api/v1/reports/{report.reference}", headers=auth(emmen))
        assert response.status_code == 404
        assert report.description not in response.get_data(as_text=True)

    def test_status(self, client, auth, make_staff):
        _, emmen = make_staff("admin", "GM0114")
        report = make_report()
        response = client.post(f"/api/v1/reports/{report.reference}/status", json={"status": "in_progress"},
                               headers=auth(emmen))
        assert response.status_code == 404
        db.session.refresh(report)
        assert report.status == "new"

    def test_list(self, client, auth, make_staff):
        _, emmen = make_staff("head", "GM0114")
        _, amsterdam = make_staff("head", "GM0363")
        report = make_report()
        assert client.get("/api/v1/reports", headers=auth(emmen)).json["total"] == 0
        assert client.get("/api/v1/reports?organisation=GM0363", headers=auth(emmen)).json["total"] == 0
        items = client.get("/api/v1/reports", headers=auth(amsterdam)).json["items"]
        assert [r["reference"] for r in items] == [report.reference]

    def test_service_point_sees_the_municipalities_it_serves(self, client, auth, make_staff):
        _, service_point = make_staff("agent", "DSP")
        make_report()
        make_report(point=EMMEN, category="straatverlichting-openbare-klok")
        assert client.get("/api/v1/reports", headers=auth(service_point)).json["total"] == 2

    def test_crew_sees_only_their_department(self, client, auth, make_staff):
        _, crew_ovl = make_staff("crew", "GM0363", "OVL")
        make_report()  # a paving tile: not the street-lighting crew's work
        light = make_report("Lamp kapot", category="straatverlichting-openbare-klok")
        items = client.get("/api/v1/reports", headers=auth(crew_ovl)).json["items"]
        assert [r["reference"] for r in items] == [light.reference]


def test_report_json_never_contains_the_residents_platform_id(client, auth, make_staff):
    from meldingen.residents.models import Reporter

    _, token = make_staff("head", "GM0363")
    reporter = Reporter(channel_kind="whatsapp", platform_id="31612345678", display_name="Jan")
    db.session.add(reporter)
    db.session.commit()
    report = make_report(channel="whatsapp", reporter_id=reporter.id)
    body = client.get(f"/api/v1/reports/{report.reference}", headers=auth(token)).get_data(as_text=True)
    assert "31612345678" not in body and "Jan" not in body


def test_staff_change_the_category_reroutes_and_keeps_a_training_example(client, auth, make_staff):
    from sqlalchemy import select

    from meldingen.classify.models import TrainingExample

    _, token = make_staff("head", "GM0363")
    report = make_report("De lantaarnpaal voor nummer 40 brandt niet meer")
    assert report.department.code != "OVL"
    response = client.post(f"/api/v1/reports/{report.reference}/category",
                           json={"category": "straatverlichting-openbare-klok"}, headers=auth(token))
    assert response.status_code == 200, response.json
    assert response.json["category"]["sub_slug"] == "straatverlichting-openbare-klok"
    assert response.json["department"] == "OVL"  # the sample's street-lighting routing rule
    assert response.json["history"][-2]["kind"] == "category"
    example = db.session.scalar(select(TrainingExample).where(TrainingExample.report_id == report.id))
    assert example.text == report.description and example.category.slug == "straatverlichting-openbare-klok"


def test_changing_to_an_unknown_category_is_refused(client, auth, make_staff):
    _, token = make_staff("head", "GM0363")
    report = make_report()
    response = client.post(f"/api/v1/reports/{report.reference}/category", json={"category": "nope"},
                           headers=auth(token))
    assert response.status_code == 422 and "sub category" in response.json["message"]


def test_category_change_is_scoped_to_the_organisation(client, auth, make_staff):
    _, emmen = make_staff("head", "GM0114")
    report = make_report()
    response = client.post(f"/api/v1/reports/{report.reference}/category",
                           json={"category": "straatverlichting-openbare-klok"}, headers=auth(emmen))
    assert response.status_code == 404
