"""The OpenAPI document as the contract: every operation declares the error answers it can give.

flask-smorest documents what a view declares (its body, its 200/201, 422 for invalid arguments) and one `default`
error. Beyond that, each operation here gets, with the Error schema: 400 (malformed body or query), 401 with a
`WWW-Authenticate` header where it needs a token, 403 (role), 404 where its path names something, 405 with `Allow`,
and 409 where the operation changes a report (the status table or a merge may refuse). The answers themselves are
made to match: every 401 carries `WWW-Authenticate`, every 405 of the API is JSON with `Allow`.
"""

from __future__ import annotations

import json

from apispec import BasePlugin
from flask import Flask, jsonify, request
from werkzeug.exceptions import MethodNotAllowed

ERROR = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
WWW_AUTHENTICATE = 'Bearer realm="meldingen"'


def _error(description: str, **headers: str) -> dict:
    response = {"description": description, "content": ERROR}
    if headers:
        response["headers"] = {name: {"description": text, "schema": {"type": "string"}}
                               for name, text in headers.items()}
    return response


REPORT_EXAMPLE = {
    "reference": "M-7K3Q9X", "status": "new", "created_at": "2026-12-07T10:15:00+01:00",
    "updated_at": "2026-12-07T10:15:00+01:00", "deadline": "2026-12-14T10:15:00+01:00",
    "category": {"main_slug": "wegen-verkeer-straatmeubilair", "sub_slug": "onderhoud-stoep-straat-en-fietspad",
                 "name": "Onderhoud stoep, straat en fietspad", "confirmed": True},
    "description": "Losse stoeptegel, je struikelt erover", "public_description": "Losse stoeptegel, je struikelt erover",
    "location": {"lat": 52.3877, "lon": 4.8926},
    "address": {"street": "Westerdoksdijk", "number": "40A", "postcode": "1013AE", "city": "Amsterdam"},
    "areas": {"municipality": "GM0363", "district": "WK0363AD", "neighbourhood": "BU0363AD03"},
    "organisation": "GM0363", "department": "STW", "channel": "staff", "photos": [], "duplicate_of": None,
    "duplicates": [], "reporters_count": 1,
    "history": [{"at": "2026-12-07T10:15:00+01:00", "kind": "status", "status": "new", "by": "jan@example.nl",
                 "note": None, "resident_message": None}],
}
_SIDE = {"reference": "M-7K3Q9X", "status": "new", "category": "onderhoud-stoep-straat-en-fietspad",
         "created_at": "2026-12-07T10:15:00+01:00", "reporters_count": 1}
_RULE = {"id": 12, "position": 10, "name": "Lantaarnpalen Amsterdam naar OVL", "active": True,
         "conditions": {"sub_slugs": ["straatverlichting-openbare-klok"], "organisation_codes": ["GM0363"]},
         "organisation_code": "GM0363", "department_code": "OVL"}
# Examples of the answers, by the schema an operation answers with (`Problem`: every error).
EXAMPLES = {
    "Report": REPORT_EXAMPLE,
    "ReportPage": {"items": [REPORT_EXAMPLE], "page": 1, "pages": 1, "total": 1},
    "Place": {"areas": {"municipality": "GM0363", "district": "WK0363AD", "neighbourhood": "BU0363AD03"},
              "area_names": {"municipality": "Amsterdam"}, "organisation": "GM0363",
              "address": {"street": "Westerdoksdijk", "number": "40A", "postcode": "1013AE", "city": "Amsterdam",
                          "distance_m": 3.2}, "asset": None, "in_netherlands": True, "served": True},
    "SearchAnswer": {"results": [{"lat": 52.3877, "lon": 4.8926, "address": {
        "street": "Westerdoksdijk", "number": "40A", "postcode": "1013AE", "city": "Amsterdam"}, "score": 1.0,
        "source": "bag", "match": "exact"}], "geocoder": "not needed"},
    "ClassifyResponse": {"suggestions": [{"main_slug": "wegen-verkeer-straatmeubilair",
                                          "sub_slug": "straatverlichting-openbare-klok", "confidence": 0.83}]},
    "RoutingRule": _RULE,
    "RoutingRuleList": {"items": [_RULE]},
    "Photo": {"url": "/media/photos/3f9c…", "thumbnail_url": "/media/photos/3f9c…?thumbnail=1"},
    "Candidates": {"reference": "M-7K3Q9X", "duplicate_of": None, "candidates": [{
        **_SIDE, "reference": "M-4HQ2ZP", "score": 0.9, "reasons": {"distance_m": 12.0}, "source": "matching"}]},
    "MergeReview": {"duplicate": _SIDE, "into": {**_SIDE, "reference": "M-4HQ2ZP"}, "distance_m": 12.0,
                    "duplicate_distance_m": 25.0, "same_category": True, "days_apart": 0.4, "needs_reason": False,
                    "concerns": []},
    "Problem": {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "no such report",
                "code": 404, "message": "no such report"},
}


def with_example(content: dict) -> None:
    """An answer's content gets the example of the schema it refers to, unless it has one."""
    for media in content.values():
        ref = (media.get("schema") or {}).get("$ref", "")
        name = ref.rsplit("/", 1)[-1]
        if name in EXAMPLES and "example" not in media and "examples" not in media:
            media["example"] = EXAMPLES[name]


IDEMPOTENT_CREATES = ("/api/v1/reports", "/api/v1/reports/{reference}/photos")


def declare_idempotency_key(operation: dict) -> None:
    """The creates that honour `Idempotency-Key` (meldingen.api.idempotency) say so."""
    parameters = operation.setdefault("parameters", [])
    if not any(p.get("name") == "Idempotency-Key" for p in parameters if isinstance(p, dict)):
        parameters.append({
            "in": "header", "name": "Idempotency-Key", "required": False,
            "description": "the same key and body within 24 hours, by the same token, answer the first result "
                           "again (with Idempotent-Replayed: true); another body with the key is a 422",
            "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]([ -~]*[!-~])?$"},
            "example": "5f0c7a8e-2b1d-4c59-9a57-0e2f3c1d9b44"})
    responses = operation.setdefault("responses", {})
    responses.setdefault("409", _error("A request with this Idempotency-Key is still being handled"))
    for status, response in responses.items():
        if str(status).startswith("2") and isinstance(response, dict):
            response.setdefault("headers", {})["Idempotent-Replayed"] = {
                "description": "true when this is the stored answer to an earlier request with the same key",
                "schema": {"type": "string", "enum": ["true"]}}


class ErrorResponsesPlugin(BasePlugin):
    """Adds the error responses each operation can give (see the module's docstring)."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for method, operation in (operations or {}).items():
            if not isinstance(operation, dict) or method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            responses.setdefault("400", _error("Bad request: the body or a parameter is malformed"))
            if operation.get("security"):
                responses.setdefault("401", _error("No valid API token", **{
                    "WWW-Authenticate": "the scheme to authenticate with: Bearer"}))
                responses.setdefault("403", _error("The token's role may not do this"))
            if "{" in (path or ""):
                responses.setdefault("404", _error("No such object, or not visible to the caller"))
            responses.setdefault("405", _error("Method not allowed", Allow="the methods this path allows"))
            if method == "post" and any(part in (path or "") for part in ("/status", "/merge", "/unmerge")):
                responses.setdefault("409", _error("Refused by the status table or the merge rules; the reason says why"))
            if method in ("post", "put", "patch") and (path or "").startswith("/api/v1/routing-rules"):
                responses.setdefault("409", _error("Refused: the rule conflicts with another or is in use"))
            if method == "post" and path in IDEMPOTENT_CREATES:
                declare_idempotency_key(operation)
            for status, response in responses.items():
                if str(status).startswith("2") and isinstance(response, dict):
                    with_example(response.get("content") or {})
                elif str(status)[:1] in "45" and isinstance(response, dict) and "$ref" not in response:
                    response.setdefault("content", ERROR)  # e.g. the photo upload's 413 and 415


def install_contract_plugin(spec) -> None:
    plugin = ErrorResponsesPlugin()
    plugin.init_spec(spec)
    spec.plugins.append(plugin)


def install_contract_headers(app: Flask) -> None:
    """Answers of the API match the declarations: 401 with WWW-Authenticate; 405 with Allow, as JSON."""

    @app.after_request
    def _www_authenticate(response):
        if response.status_code == 401 and request.path.startswith("/api/") \
                and "WWW-Authenticate" not in response.headers:
            response.headers["WWW-Authenticate"] = WWW_AUTHENTICATE
        return response


def method_not_allowed_json(exc: MethodNotAllowed):
    """The API's error body for a wrong method, with the `Allow` header the document declares (problem details
    under /api/v1)."""
    from meldingen.api.problems import is_api_request, problem_response

    allowed = sorted(exc.valid_methods or [])
    if is_api_request():
        return problem_response(405, f"{request.method} is not allowed here; use {', '.join(allowed)}",
                                headers={"Allow": ", ".join(allowed)})
    response = jsonify(code=405, status="Method Not Allowed",
                       message=f"{request.method} is not allowed here; use {', '.join(allowed)}")
    response.status_code = 405
    response.headers["Allow"] = ", ".join(allowed)
    return response


# --- what marshmallow cannot say: rules across fields, and the names the data holds ------------------------

NOT_ZERO_ZERO = {"not": {"type": "object", "required": ["lat", "lon"],
                         "properties": {"lat": {"enum": [0]}, "lon": {"enum": [0]}}},
                 "description": "WGS84; (0, 0), the position of a device that has none, is refused"}


def _non_empty(name: str) -> dict:
    return {"type": "object", "required": [name], "properties": {name: {"type": "string", "minLength": 1}}}


VISIBLE = "[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]"  # something is left once control characters go


def _names(description: str) -> dict:
    """A condition naming things: one name or a list of names (empty: no condition)."""
    return {"description": description, "nullable": True, "anyOf": [
        {"type": "string"}, {"type": "array", "items": {"type": "string", "pattern": VISIBLE}}]}


DAY_NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "ma", "di", "wo", "do", "vr", "za", "zo", "monday",
             "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_DAY = {"anyOf": [{"type": "integer", "minimum": 0, "maximum": 6}, {"type": "string", "enum": DAY_NAMES}]}
_TIME = {"type": "string", "nullable": True, "pattern": "^(([01]?[0-9]|2[0-3]):[0-5]?[0-9])?$",
         "description": "HH:MM, local time; time_from and time_to go together and differ (a window may cross "
                        "midnight)"}
CONDITIONS = {
    "type": "object", "additionalProperties": False,
    "description": "all given conditions must hold; a list means 'any of'. Names must exist (422 otherwise)",
    "example": {"sub_slugs": ["straatverlichting-openbare-klok"], "organisation_codes": ["GM0363"]},
    "properties": {
        "main_slugs": _names("main category slugs"), "sub_slugs": _names("sub category slugs"),
        "organisation_codes": _names("organisations whose area holds the point"),
        "area_codes": _names("CBS area codes (municipality, district, neighbourhood)"),
        "asset_types": _names("registered object types"),
        "weekdays": {"nullable": True, "description": "0 (Monday) … 6 (Sunday) or day names",
                     "anyOf": [_DAY, {"type": "array", "items": _DAY}]},
        "time_from": _TIME, "time_to": _TIME,
    },
    # time_from and time_to go together: both absent (or empty), or both given
    "anyOf": [{"properties": {"time_from": {"enum": [None, ""]}, "time_to": {"enum": [None, ""]}}},
              {"required": ["time_from", "time_to"], "properties": {"time_from": {"type": "string", "minLength": 1},
                                                                   "time_to": {"type": "string", "minLength": 1}}}],
}


def tighten_document(spec) -> None:
    """After the blueprints: the rules across fields the schemas check in `validates_schema`, in the document."""
    schemas = spec.components.schemas
    for name in ("RoutingRule", "RoutingRulePatch"):
        if name in schemas:
            schemas[name]["properties"]["conditions"] = json.loads(json.dumps(CONDITIONS))
    if "Location" in schemas:
        schemas["Location"].update(NOT_ZERO_ZERO)
    if "ReportCreate" in schemas:
        schemas["ReportCreate"]["anyOf"] = [{"required": ["location"]}, {"required": ["address"]}]
    if "RoutingRule" in schemas:
        schemas["RoutingRule"]["anyOf"] = [_non_empty("organisation_code"), _non_empty("department_code")]
    if "RoutingRulePatch" in schemas:
        schemas["RoutingRulePatch"]["minProperties"] = 1
        schemas["RoutingRulePatch"].pop("anyOf", None)
        schemas["RoutingRulePatch"]["not"] = {  # a change may not take both targets away
            "type": "object", "required": ["organisation_code", "department_code"],
            "properties": {"organisation_code": {"enum": [None, ""]}, "department_code": {"enum": [None, ""]}}}


def live_enums(document: dict) -> dict:
    """The names that exist now, as enums: a category slug, an organisation or department code that does not
    exist is refused by the server, so the document served says which ones do (administrators change them)."""
    from sqlalchemy import select

    from meldingen.categories.models import Category
    from meldingen.extensions import db
    from meldingen.geo.models import Area
    from meldingen.organisations.models import Department, Organisation

    schemas = document.get("components", {}).get("schemas", {})
    try:
        subs = sorted(set(db.session.scalars(select(Category.slug).where(
            Category.parent_id.is_not(None), Category.active.is_(True)))))
        organisations = sorted(set(db.session.scalars(select(Organisation.code))))
        departments = sorted(set(db.session.scalars(select(Department.code))))
        mains = sorted(set(db.session.scalars(select(Category.slug).where(Category.parent_id.is_(None)))))
        all_subs = sorted(set(db.session.scalars(select(Category.slug).where(Category.parent_id.is_not(None)))))
        areas = sorted(set(db.session.scalars(select(Area.code))))
    except Exception:  # no schema yet (a fresh database): the document without the names
        db.session.rollback()
        return document
    finally:
        db.session.remove()

    def enum(schema: str, field: str, values: list, *extra) -> None:
        prop = schemas.get(schema, {}).get("properties", {}).get(field)
        if prop is not None and values:
            prop["enum"] = [*values, *extra]

    enum("ReportCreate", "category", subs, "")
    enum("CategoryChange", "category", subs)
    for schema in ("RoutingRule", "RoutingRulePatch"):
        enum(schema, "organisation_code", organisations, None)
        enum(schema, "department_code", departments, None)
        conditions = schemas.get(schema, {}).get("properties", {}).get("conditions", {}).get("properties", {})
        for key, values in (("main_slugs", mains), ("sub_slugs", all_subs), ("organisation_codes", organisations),
                            ("area_codes", areas)):
            if key in conditions and values:
                conditions[key]["anyOf"] = [{"type": "string", "enum": ["", *values]},
                                            {"type": "array", "items": {"type": "string", "enum": values}}]
    return document


def serve_live_document(app: Flask, api) -> None:
    """/api/v1/openapi.json is built per request with the names that exist (`live_enums`)."""
    endpoint = "api-docs.openapi_json"
    if endpoint not in app.view_functions:
        return

    def openapi_json():
        document = live_enums(json.loads(json.dumps(api.spec.to_dict())))
        return app.response_class(json.dumps(document, indent=2), mimetype="application/json")

    app.view_functions[endpoint] = openapi_json
