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
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from meldingen.extensions import db

EXAMPLES_PER_OPERATION = 12  # bounded: the whole run stays within about 90 s per database
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]


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
                case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
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
