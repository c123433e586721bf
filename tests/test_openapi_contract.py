"""The OpenAPI document is the contract: schemathesis generates requests for every operation of the live app (on
each database) and checks that none is a server error and every answer matches what the document declares:
status codes, content types, response bodies and headers. Plus the declarations the issue names one by one.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from meldingen.extensions import db

EXAMPLES_PER_OPERATION = 12  # bounded: the whole run stays within about 90 s per database


def accepts_what_the_document_allows(ctx, response, case):
    """Schema-valid data is accepted; the refusals no schema can state are the declared ones: a real point in a
    municipality this service does not serve (422, its own problem type), and a file that is not an image (415)."""
    if response.status_code == 422 and response.json().get("type", "").endswith(
            ("location-not-served", "idempotency-key-reused")):  # a key sent before with another body
        return True
    if response.status_code == 415 and case.operation.path.endswith("/photos"):
        return True
    if response.status_code == 422 and [e.get("field") for e in response.json().get("errors") or []] == ["cursor"]:
        return True  # a cursor is opaque: only one the API handed out (a `next` link) can be followed
    return positive_data_acceptance(ctx, response, case)


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance, accepts_what_the_document_allows]


@pytest.fixture
def spec(client):
    return client.get("/api/v1/openapi.json").get_json()


def test_every_operation_keeps_the_contract_under_generated_input(app, make_staff):
    _, token = make_staff("admin", "GM0363")
    db.session.commit()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    calls: dict[str, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
        @given(case=operation.as_strategy())
        def check(case):
            calls[operation.label] = calls.get(operation.label, 0) + 1  # noqa: B023  (hypothesis runs it within this iteration)
            try:
                # identity: the WSGI transport hands over the body as sent, and would not undo a compression
                case.call_and_validate(headers={"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"},
                                       checks=CHECKS)
            finally:
                db.session.rollback()

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(f"{operation.label}: {str(exc)[:600]}")
    assert failures == [], "\n\n".join(failures)
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    operations = sum(1 for item in spec["paths"].values() for method in item if method in
                     ("get", "post", "put", "patch", "delete"))
    assert len(calls) == operations and min(calls.values()) >= 1, calls


def _operation(spec, path, method):
    return spec["paths"][path][method]


def test_geo_lookup_and_search_declare_their_200_bodies(spec):
    for path in ("/geo/lookup", "/geo/search"):
        response = _operation(spec, "/api/v1" + path, "get")["responses"]["200"]
        assert response["content"]["application/json"]["schema"]


def test_photo_upload_declares_security_multipart_body_and_201(spec):
    operation = _operation(spec, "/api/v1/reports/{reference}/photos", "post")
    assert operation["security"] == [{"bearer": []}]
    assert "file" in operation["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    assert operation["responses"]["201"]["content"]["application/json"]["schema"]


def test_locations_are_numbers_and_errors_are_declared_per_status(spec):
    schemas = spec["components"]["schemas"]
    assert schemas["Location"]["properties"]["lat"]["type"] == "number"
    report = _operation(spec, "/api/v1/reports/{reference}", "get")["responses"]
    assert {"401", "404"} <= set(report)
    assert "409" in _operation(spec, "/api/v1/reports/{reference}/status", "post")["responses"]


def test_unknown_status_name_is_a_422_not_a_409(client, make_staff, auth):
    _, token = make_staff("admin", "GM0363")
    created = client.post("/api/v1/reports", headers=auth(token), json={
        "description": "Losse stoeptegel", "location": {"lat": 52.3849, "lon": 4.8924}})
    reference = created.get_json()["reference"]
    response = client.post(f"/api/v1/reports/{reference}/status", headers=auth(token), json={"status": "kapot"})
    assert response.status_code == 422
    assert "kapot" in str(response.get_json())


def test_401_carries_www_authenticate_and_405_carries_allow(client):
    unauthorised = client.get("/api/v1/reports")
    assert unauthorised.status_code == 401
    assert unauthorised.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = client.delete("/api/v1/reports")
    assert wrong.status_code == 405
    assert set(wrong.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


# --- one error shape (RFC 9457) and a document that says what the server enforces ---------------------------

PROBLEM = "application/problem+json"


def _is_problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert {"type", "title", "status", "detail"} <= set(body) and body["status"] == status
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def test_every_kind_of_api_error_is_a_problem_document(app, client, make_staff, auth):
    _, crew = make_staff("crew", "GM0363")
    _, admin = make_staff("admin", "GM0363")
    _is_problem(client.get("/api/v1/reports"), 401)
    _is_problem(client.get("/api/v1/routing-rules", headers=auth(crew)), 403)
    _is_problem(client.get("/api/v1/reports/M-NOPE00", headers=auth(admin)), 404)
    _is_problem(client.get("/api/v1/no-such-thing"), 404)
    wrong = _is_problem(client.delete("/api/v1/reports", headers=auth(admin)), 405)
    assert "DELETE" in wrong["detail"]
    _is_problem(client.post("/api/v1/reports", data="{", content_type="application/json", headers=auth(admin)), 400)
    invalid = _is_problem(client.post("/api/v1/reports", json={"description": "Lamp kapot",
                                                                 "location": {"lat": "x", "lon": 5}},
                                      headers=auth(admin)), 422)
    assert invalid["errors"] == [{"field": "location.lat", "message": "Not a valid number."}]
    too_large = client.post("/api/v1/reports", data=b"x" * (300 * 1024), content_type="application/json",
                            headers=auth(admin))
    _is_problem(too_large, 413)
    assert "Retry-After" not in too_large.headers


def test_a_business_refusal_names_its_field_and_its_problem_type(client, make_staff, auth):
    _, token = make_staff("agent", "DSP")
    refused = _is_problem(client.post("/api/v1/reports", headers=auth(token), json={
        "description": "Lamp kapot", "location": {"lat": 51.9225, "lon": 4.47917}}), 422)  # Rotterdam
    assert refused["type"].endswith("location-not-served") and refused["municipality"] == "GM0599"
    assert refused["errors"][0]["field"] == "location"
    unknown = _is_problem(client.post("/api/v1/reports", headers=auth(token), json={
        "description": "Lamp kapot", "location": {"lat": 52.3731, "lon": 4.8926}, "category": "kapot"}), 422)
    assert unknown["errors"][0]["field"] == "category"


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True, "LIMIT_API": "2 per minute"}])
def test_retry_after_only_on_a_429(client, make_staff, auth):
    _, token = make_staff("admin", "GM0363")
    answers = [client.get("/api/v1/reports", headers=auth(token)) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert all("Retry-After" not in a.headers for a in answers[:2])
    assert int(_is_problem(answers[2], 429) and answers[2].headers["Retry-After"]) > 0
    assert "Retry-After" not in client.get("/api/v1/reports").headers  # a 401


def test_the_document_declares_problem_details_for_every_error(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")) or status == "default":
                    response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]] \
                        if "$ref" in response else response
                    assert list(response["content"]) == [PROBLEM], (method, path, status)
    assert {"type", "title", "status", "detail", "errors"} <= set(spec["components"]["schemas"]["Problem"]
                                                                  ["properties"])


def test_the_document_says_what_the_server_enforces(spec):
    schemas = spec["components"]["schemas"]
    assert "planned" in schemas["StatusChange"]["properties"]["status"]["enum"]
    assert {"required": ["location"]} in schemas["ReportCreate"]["anyOf"]
    assert schemas["ReportCreate"]["properties"]["description"]["maxLength"] == 5000
    created_after = next(p for p in spec["paths"]["/api/v1/reports"]["get"]["parameters"]
                         if p["name"] == "created_after")
    assert created_after["schema"]["pattern"].startswith("^(19")
    assert "onderhoud-stoep-straat-en-fietspad" in schemas["ReportCreate"]["properties"]["category"]["enum"]
    assert schemas["Location"]["not"]["properties"]["lat"] == {"enum": [0]}
    assert len(schemas["RoutingRule"]["anyOf"]) == 2 and schemas["RoutingRulePatch"]["minProperties"] == 1
    assert "GM0363" in schemas["RoutingRule"]["properties"]["organisation_code"]["enum"]
    conditions = schemas["RoutingRule"]["properties"]["conditions"]
    assert conditions["additionalProperties"] is False and len(conditions["anyOf"]) == 2  # the times go together
    create = spec["paths"]["/api/v1/reports"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in create["parameters"])
    assert "Idempotent-Replayed" in create["responses"]["201"]["headers"]
    patch = spec["paths"]["/api/v1/routing-rules/{rule_id}"]["patch"]
    assert patch["requestBody"]["required"] is True
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            ok = next(r for s, r in operation["responses"].items() if s.startswith("2"))
            assert all("example" in c for c in ok.get("content", {}).values()), (method, path)


def test_what_schemathesis_found_refused_is_now_accepted_or_declared(client, make_staff, auth):
    _, token = make_staff("admin", "GM0363")
    zero = client.get("/api/v1/geo/lookup?lat=0&lon=0")
    assert zero.status_code == 200 and zero.get_json()["in_netherlands"] is False
    corners = client.get("/api/v1/reports?bbox=4.95,52.40,4.85,52.35", headers=auth(token))
    assert corners.status_code == 200
    assert client.get("/api/v1/reports?bbox=", headers=auth(token)).status_code == 422  # the pattern says so
    later = client.get("/api/v1/reports?created_before=2695-10-19T10:35:05-01:00", headers=auth(token))
    assert later.status_code == 422  # beyond the years the document's pattern allows
    empty_category = client.post("/api/v1/reports", headers=auth(token), json={
        "description": "Lantaarnpaal kapot", "location": {"lat": 52.3731, "lon": 4.8926}, "category": ""})
    assert empty_category.status_code == 201
    reference = empty_category.get_json()["reference"]
    assert _is_problem(client.post(f"/api/v1/reports/{reference}/status", headers=auth(token),
                                   json={"status": "0"}), 422)["errors"][0]["field"] == "status"
    assert _is_problem(client.post("/api/v1/routing-rules", headers=auth(token), json={
        "conditions": {}, "organisation_code": None, "department_code": None}), 422)
    blank = client.post("/api/v1/reports", headers=auth(token), json={
        "description": "   ", "location": {"lat": 52.3731, "lon": 4.8926}})
    assert _is_problem(blank, 422)["errors"][0]["field"] == "description"


def test_patch_without_a_body_or_with_an_empty_one_is_refused(client, make_staff, auth):
    _, token = make_staff("admin", "GM0363")
    created = client.post("/api/v1/routing-rules", headers=auth(token), json={
        "name": "Lampen Amsterdam", "conditions": {"organisation_codes": ["GM0363"]}, "organisation_code": "GM0363"})
    assert created.status_code == 201, created.get_json()
    url = f"/api/v1/routing-rules/{created.get_json()['id']}"
    _is_problem(client.patch(url, headers=auth(token)), 422)
    _is_problem(client.patch(url, headers=auth(token), json={}), 422)
    assert client.patch(url, headers=auth(token), json={"name": "Lampen"}).status_code == 200


def test_routing_rule_answers_stay_within_what_the_document_says(client, make_staff, auth):
    _, token = make_staff("admin", "GM0363")
    body = {"conditions": {"organisation_codes": ["GM0363"]}, "department_code": "OVL"}
    at_the_end = client.post("/api/v1/routing-rules", headers=auth(token), json={**body, "position": 1_000_000_000})
    assert at_the_end.status_code == 201, at_the_end.get_json()
    appended = client.post("/api/v1/routing-rules", headers=auth(token), json=body)  # goes last: was max + 10
    assert appended.status_code == 201 and appended.get_json()["position"] == 1_000_000_000
    url = f"/api/v1/routing-rules/{appended.get_json()['id']}"
    assert _is_problem(client.put(url, headers=auth(token), json={**body, "active": 0}), 422)  # JSON booleans only
    assert _is_problem(client.put(url, headers=auth(token), json={**body, "position": 2.5e-42}), 422)  # was taken as 0
    assert _is_problem(client.patch(url, headers=auth(token), json={"organisation_code": None,
                                                                     "department_code": None}), 422)
