"""Open311 GeoReport v2: discovery, services, creating requests through the pipeline, and public reading."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest

from meldingen.extensions import db
from meldingen.reports.services import change_status
from meldingen.residents.models import Reporter
from meldingen.timeutil import utcnow
from tests.factories import AMSTERDAM, EMMEN, ROTTERDAM, make_report

pytestmark = pytest.mark.rolled_back  # one shared database, rolled back after each test

BASE = "/open311/v2"
SUB = "onderhoud-stoep-straat-en-fietspad"
W3C = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$")


def xml_of(response) -> ET.Element:
    assert response.content_type == "text/xml; charset=utf-8"
    assert response.data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.data)


def post_request(client, token, fmt="json", **fields):
    data = {"api_key": token, "service_code": SUB, "lat": str(AMSTERDAM[0]), "long": str(AMSTERDAM[1]),
            "description": "Losse stoeptegel bij de ingang"}
    data.update(fields)
    return client.post(f"{BASE}/requests.{fmt}", data={k: v for k, v in data.items() if v is not None})


def ids_of(response) -> list[str]:
    return [item["service_request_id"] for item in response.json]


# --- discovery and services ---------------------------------------------------------------------------

def test_discovery_json_names_this_endpoint_with_both_formats(client):
    response = client.get(f"{BASE}/discovery.json")
    assert response.status_code == 200
    assert response.content_type == "application/json; charset=utf-8"
    body = response.json
    assert body["changeset"] and body["contact"] and body["key_service"]
    (endpoint,) = body["endpoints"]
    assert endpoint == {"specification": "http://wiki.open311.org/GeoReport_v2", "url": "http://localhost/open311/v2",
                        "changeset": body["changeset"], "type": "production",
                        "formats": ["text/xml", "application/json"]}


def test_discovery_xml_uses_the_public_url_when_configured(app, client):
    app.config["PUBLIC_URL"] = "https://meldingen.example.nl/"
    root = xml_of(client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    assert [child.tag for child in root] == ["changeset", "contact", "key_service", "endpoints"]
    endpoint = root.find("endpoints/endpoint")
    assert endpoint.findtext("url") == "https://meldingen.example.nl/open311/v2"
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert [f.text for f in endpoint.findall("formats/format")] == ["text/xml", "application/json"]


def test_services_are_the_active_sub_categories_grouped_by_main_category(app, client):
    from meldingen.categories.models import Category

    response = client.get(f"{BASE}/services.json")
    assert response.status_code == 200
    services = response.json
    active_subs = db.session.query(Category).filter(Category.parent_id.is_not(None), Category.active).count()
    assert len(services) == active_subs > 0
    pavement = next(s for s in services if s["service_code"] == SUB)
    category = db.session.query(Category).filter_by(slug=SUB).one()
    assert pavement["service_name"] == category.name
    assert pavement["group"] == category.parent.name
    assert pavement["metadata"] is False and pavement["type"] == "realtime"
    assert set(pavement) == {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}


def test_an_inactive_sub_category_is_not_a_service(app, client):
    from meldingen.categories.models import Category

    db.session.query(Category).filter_by(slug=SUB).one().active = False
    db.session.commit()
    assert SUB not in [s["service_code"] for s in client.get(f"{BASE}/services.json").json]
    assert client.get(f"{BASE}/services/{SUB}.json").status_code == 404


def test_services_xml_parses_with_the_spec_elements(client):
    root = xml_of(client.get(f"{BASE}/services.xml"))
    assert root.tag == "services"
    services = root.findall("service")
    assert services and all(s.findtext("service_code") for s in services)
    first = services[0]
    assert [c.tag for c in first] == ["service_code", "service_name", "description", "metadata", "type",
                                      "keywords", "group"]
    assert first.findtext("metadata") == "false" and first.findtext("type") == "realtime"


def test_service_definition_has_no_attributes_in_both_formats(client):
    assert client.get(f"{BASE}/services/{SUB}.json").json == {"service_code": SUB, "attributes": []}
    root = xml_of(client.get(f"{BASE}/services/{SUB}.xml"))
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == SUB
    assert root.find("attributes") is not None and len(root.find("attributes")) == 0


def test_unknown_service_definition_is_404_in_the_spec_error_format(client):
    response = client.get(f"{BASE}/services/no-such-thing.json")
    assert response.status_code == 404
    assert response.json == [{"code": 404, "description": "service_code 'no-such-thing' was not found"}]
    root = xml_of(client.get(f"{BASE}/services/no-such-thing.xml"))
    assert root.tag == "errors" and root.findtext("error/code") == "404"


@pytest.mark.parametrize("path", ["services.html", "discovery.yaml", "requests.csv", f"services/{SUB}.txt"])
def test_an_unknown_format_is_404_with_a_reason(client, path):
    response = client.get(f"{BASE}/{path}")
    assert response.status_code == 404
    assert "use .xml or .json" in xml_of(response).findtext("error/description")


def test_a_path_without_format_is_404_with_a_reason(client):
    response = client.get(f"{BASE}/services")
    assert response.status_code == 404
    assert "discovery.xml" in xml_of(response).findtext("error/description")


# --- POST requests ------------------------------------------------------------------------------------

def test_post_with_api_key_creates_a_report_through_the_pipeline(client, auth, make_staff):
    _, token = make_staff("agent", "GM0363")
    response = post_request(client, token, email="jan@example.nl", phone="0612345678", first_name="Jan",
                            media_url="https://example.org/tegel.jpg")
    assert response.status_code == 201
    (created,) = response.json
    reference = created["service_request_id"]
    assert re.match(r"^M-[A-Z0-9]{6}$", reference)
    assert "token" not in created and created["account_id"] is None
    assert created["service_notice"]  # the category's handling text for residents

    report = client.get(f"/api/v1/reports/{reference}", headers=auth(token)).json
    assert report["channel"] == "open311"
    assert report["organisation"] == "GM0363"
    assert report["category"]["sub_slug"] == SUB
    assert report["description"] == "Losse stoeptegel bij de ingang"
    notes = " ".join(h["note"] or "" for h in report["history"])
    assert "https://example.org/tegel.jpg" in notes and "niet opgehaald" in notes
    assert report["photos"] == []
    assert "jan@example.nl" not in str(report) and "0612345678" not in str(report)


def test_post_xml_answers_the_spec_shape(client, make_staff):
    _, token = make_staff("agent", "GM0363")
    response = post_request(client, token, fmt="xml")
    assert response.status_code == 201
    root = xml_of(response)
    assert root.tag == "service_requests"
    assert [c.tag for c in root.find("request")] == ["service_request_id", "service_notice", "account_id"]
    assert root.findtext("request/service_request_id").startswith("M-")


def test_post_with_an_address_string_only_is_placed_by_the_address_table(client, make_staff):
    _, token = make_staff("agent", "GM0363")
    response = post_request(client, token, lat=None, long=None, address_string="Westerdoksdijk 40A")
    assert response.status_code == 201
    reference = response.json[0]["service_request_id"]
    (shown,) = client.get(f"{BASE}/requests/{reference}.json").json
    assert shown["address"].startswith("Westerdoksdijk 40")
    assert shown["lat"] == pytest.approx(AMSTERDAM[0], abs=0.01)


def test_post_accepts_the_api_key_while_csrf_protection_is_on(app, client, make_staff):
    _, token = make_staff("agent", "GM0363")
    app.config["WTF_CSRF_ENABLED"] = True
    assert post_request(client, token).status_code == 201


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_without_an_api_key_is_403(client, fmt):
    response = post_request(client, None, fmt=fmt)
    assert response.status_code == 403
    if fmt == "json":
        assert response.json[0]["code"] == 403
        assert "api_key was not provided" in response.json[0]["description"]
    else:
        assert xml_of(response).findtext("error/code") == "403"


def test_post_with_a_wrong_or_revoked_api_key_is_403_and_creates_nothing(client, make_staff):
    from meldingen.accounts.models import ApiToken
    from meldingen.reports.models import Report

    user, token = make_staff("agent", "GM0363")
    response = post_request(client, "mld_not-a-real-token")
    assert response.status_code == 403
    assert "Invalid api_key" in response.json[0]["description"]
    for api_token in db.session.query(ApiToken).filter_by(user_id=user.id):
        api_token.revoked = True
    db.session.commit()
    assert post_request(client, token).status_code == 403
    assert db.session.query(Report).filter_by(channel="open311").count() == 0


def test_post_for_an_unknown_service_is_404_and_without_one_400(client, make_staff):
    _, token = make_staff("agent", "GM0363")
    response = post_request(client, token, service_code="ufo-landing")
    assert response.status_code == 404
    assert "ufo-landing" in response.json[0]["description"]
    assert post_request(client, token, service_code="").status_code == 400


def test_post_outside_the_service_area_names_the_municipality(client, make_staff):
    _, token = make_staff("agent", "GM0363")
    response = post_request(client, token, lat=str(ROTTERDAM[0]), long=str(ROTTERDAM[1]))
    assert response.status_code == 400
    assert "Rotterdam" in response.json[0]["description"]


@pytest.mark.parametrize("fields, reason", [
    ({"lat": "noord", "long": "4.89"}, "lat must be a number"),
    ({"lat": "nan", "long": "4.89"}, "finite"),
    ({"lat": "52.38", "long": None}, "together"),
    ({"lat": "91", "long": "4.89"}, "lat"),
    ({"lat": None, "long": None}, "a location is required"),
    ({"lat": None, "long": None, "address_id": "0363200000000000"}, "not a known BAG address"),
    ({"description": ""}, "description"),
    ({"description": "x" * 4001}, "4000"),
    ({"media_url": "file:///etc/passwd"}, "media_url"),
])
def test_post_with_bad_input_is_400_with_a_reason(client, make_staff, fields, reason):
    _, token = make_staff("agent", "GM0363")
    response = post_request(client, token, **fields)
    assert response.status_code == 400
    assert reason in response.json[0]["description"]


# --- GET requests -------------------------------------------------------------------------------------

def test_get_requests_defaults_to_the_last_90_days_newest_first(app, client):
    old = make_report("Oude melding", created_at=utcnow() - timedelta(days=100))
    first = make_report("Eerste", created_at=utcnow() - timedelta(days=2))
    second = make_report("Tweede", created_at=utcnow() - timedelta(days=1))
    response = client.get(f"{BASE}/requests.json")
    assert response.status_code == 200
    assert ids_of(response) == [second.reference, first.reference]
    assert old.reference not in ids_of(response)
    start = (utcnow() - timedelta(days=120)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (utcnow() - timedelta(days=60)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids_of(client.get(f"{BASE}/requests.json", query_string={"start_date": start, "end_date": end})) == [
        old.reference]


def test_get_requests_answers_at_most_1000_unless_paged(app, client, monkeypatch):
    from meldingen.open311 import services

    monkeypatch.setattr(services, "MAX_REQUESTS", 2)
    made = [make_report(f"Tegel {i}", created_at=utcnow() - timedelta(hours=i)) for i in range(3)]
    assert ids_of(client.get(f"{BASE}/requests.json")) == [made[0].reference, made[1].reference]
    assert ids_of(client.get(f"{BASE}/requests.json?page=2")) == [made[2].reference]
    assert client.get(f"{BASE}/requests.json?page_size=3").status_code == 400


def test_get_requests_filters_by_service_code_status_and_ids(app, client):
    pavement = make_report("Tegel los")
    light = make_report("Lamp kapot", category="straatverlichting-openbare-klok")
    # 150 m east: not a duplicate of the first tile.
    done = make_report("Tegel weer los", point=(AMSTERDAM[0], AMSTERDAM[1] + 0.0022))
    change_status(done, "done", "Intern: tegel 3 vervangen", resident_message="De tegel is vastgezet.")
    db.session.commit()
    old = make_report("Heel oud", created_at=utcnow() - timedelta(days=400))

    assert ids_of(client.get(f"{BASE}/requests.json?service_code=straatverlichting-openbare-klok")) == [
        light.reference]
    assert set(ids_of(client.get(f"{BASE}/requests.json?service_code={SUB},straatverlichting-openbare-klok"
                                 "&status=open"))) == {pavement.reference, light.reference}
    (closed,) = client.get(f"{BASE}/requests.json?status=closed").json
    assert closed["service_request_id"] == done.reference
    assert closed["status"] == "closed" and closed["status_notes"] == "De tegel is vastgezet."
    # service_request_id overrides every other filter, including the 90-day window; case does not matter.
    ids = f"{old.reference.lower()},{light.reference},M-NOPE00"
    assert set(ids_of(client.get(f"{BASE}/requests.json?service_request_id={ids}&status=closed"))) == {
        old.reference, light.reference}


def test_get_requests_near_a_point_extension(app, client):
    here = make_report("Tegel in Amsterdam")
    make_report("Tegel in Emmen", point=EMMEN)
    query = {"lat": AMSTERDAM[0], "long": AMSTERDAM[1], "radius": 1000}
    assert ids_of(client.get(f"{BASE}/requests.json", query_string=query)) == [here.reference]


@pytest.mark.parametrize("query, reason", [
    ("start_date=gisteren", "start_date must be a W3C date-time"),
    ("end_date=2026-13-45T00:00:00Z", "end_date"),
    ("start_date=2026-06-01T00:00:00Z&end_date=2026-01-01T00:00:00Z", "after"),
    ("start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", "90 days"),
    ("status=pending", "status must be open, closed"),
    ("service_code=ufo-landing", "unknown service_code: ufo-landing"),
    ("lat=abc&long=4.9", "lat must be a number"),
    ("lat=52.3&long=4.9&radius=-5", "radius"),
    ("page=0", "page"),
    ("page_size=1001", "page_size"),
])
def test_get_requests_with_bad_input_is_400_with_a_reason(client, query, reason):
    response = client.get(f"{BASE}/requests.json?{query}")
    assert response.status_code == 400
    assert reason in response.json[0]["description"]


def test_get_requests_reads_offsets_and_a_plus_sent_as_a_space(app, client):
    report = make_report("Tegel")
    start = (utcnow() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S+00:00").replace("+", " ")
    assert ids_of(client.get(f"{BASE}/requests.json?start_date={start}")) == [report.reference]


def test_one_request_in_both_formats_with_the_spec_fields(app, client):
    report = make_report("Losse tegel, struikelgevaar")
    (shown,) = client.get(f"{BASE}/requests/{report.reference}.json").json
    assert list(shown) == ["service_request_id", "status", "status_notes", "service_name", "service_code",
                           "description", "agency_responsible", "service_notice", "requested_datetime",
                           "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat",
                           "long", "media_url"]
    assert shown["service_request_id"] == report.reference
    assert shown["status"] == "open" and shown["service_code"] == SUB
    assert shown["description"] == "Losse tegel, struikelgevaar"
    assert shown["agency_responsible"] == report.organisation.name
    assert shown["service_notice"] == report.category.resident_text
    for key in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert W3C.match(shown[key]), shown[key]
    # The public point is rounded to 4 decimals (≈ 10 m) for a category that is not about a person.
    assert shown["lat"] == round(AMSTERDAM[0], 4) and shown["long"] == round(AMSTERDAM[1], 4)
    assert shown["media_url"] is None

    root = xml_of(client.get(f"{BASE}/requests/{report.reference}.xml"))
    assert root.tag == "service_requests"
    request = root.find("request")
    assert [c.tag for c in request] == list(shown)
    assert request.findtext("service_request_id") == report.reference
    assert request.findtext("status") == "open"
    assert float(request.findtext("long")) == round(AMSTERDAM[1], 4)
    assert request.findtext("media_url") == ""
    # The singular path of the spec's Swagger file answers the same.
    assert client.get(f"{BASE}/request/{report.reference}.json").json == [shown]


def test_an_unknown_request_or_token_is_404(client):
    assert client.get(f"{BASE}/requests/M-NOPE00.json").status_code == 404
    response = client.get(f"{BASE}/tokens/M-NOPE00.xml")
    assert response.status_code == 404
    assert xml_of(response).findtext("error/code") == "404"


def test_a_token_is_the_reference(app, client):
    report = make_report()
    assert client.get(f"{BASE}/tokens/{report.reference}.json").json == [
        {"service_request_id": report.reference, "token": report.reference}]
    root = xml_of(client.get(f"{BASE}/tokens/{report.reference}.xml"))
    assert root.findtext("request/service_request_id") == report.reference
    assert root.findtext("request/token") == report.reference


def test_a_merged_duplicate_is_closed_and_names_the_report_it_joined(app, client):
    known = make_report("Tegel los")
    duplicate = make_report("Die tegel ligt nog steeds los")  # same place and problem: merged on arrival
    db.session.refresh(duplicate)
    assert duplicate.duplicate_of_id == known.id
    (shown,) = client.get(f"{BASE}/requests/{duplicate.reference}.json").json
    assert shown["status"] == "closed"
    assert known.reference in shown["status_notes"]


def test_internal_notes_are_not_status_notes(app, client):
    report = make_report()
    change_status(report, "in_progress", "Sleutel ligt bij de buurman op nummer 12")
    db.session.commit()
    (shown,) = client.get(f"{BASE}/requests/{report.reference}.json").json
    assert shown["status"] == "open" and shown["status_notes"] is None


def test_no_resident_data_is_ever_shown(app, client):
    reporter = Reporter(channel_kind="whatsapp", platform_id="31612345678", display_name="Mevrouw de Vries")
    db.session.add(reporter)
    db.session.flush()
    report = make_report("Lamp kapot bij de speeltuin", channel="whatsapp", reporter_id=reporter.id,
                         category="straatverlichting-openbare-klok")
    for path in ("requests.json", "requests.xml", f"requests/{report.reference}.json",
                 f"requests/{report.reference}.xml", f"requests.json?service_request_id={report.reference}"):
        body = client.get(f"{BASE}/{path}").get_data(as_text=True)
        assert "31612345678" not in body and "Mevrouw de Vries" not in body and "whatsapp" not in body
    assert report.reference in client.get(f"{BASE}/requests.json").get_data(as_text=True)


def test_xml_escapes_what_residents_wrote(app, client):
    text = 'Kapotte lamp <script>alert("x")</script> & nog iets \x07'
    report = make_report(text)
    response = client.get(f"{BASE}/requests/{report.reference}.xml")
    assert b"<script>" not in response.data
    assert b"&lt;script&gt;" in response.data and b"&amp; nog iets" in response.data
    assert xml_of(response).findtext("request/description") == text.replace("\x07", "")
