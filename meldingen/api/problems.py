"""Every /api/v1 error in one shape: RFC 9457 problem details (`application/problem+json`).

`type` (`about:blank` unless a problem of ours has its own), `title` (the HTTP status phrase, or the problem's
own title), `status`, `detail` (what went wrong, in words a developer can act on), and on a 422 `errors`: a list
of `{"field": "…", "message": "…"}`, one per refused field (`field` is a dotted path into the body or the name of
a query parameter; null when the whole request is meant). `code` and `message` repeat `status` and `detail` for
clients written against the earlier shape. Views keep calling flask-smorest's `abort(status, message=…,
errors=…)`; `errors` may be webargs' nested dict or `{"field": ["message", …]}`, and `extra={…}` adds members.

The OpenAPI document says the same: the error responses of every operation carry the `Problem` schema as
`application/problem+json` (`document_problems`, after the blueprints are registered).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from flask import Flask, current_app, request
from marshmallow import INCLUDE, Schema, fields
from werkzeug.exceptions import HTTPException

PROBLEM_JSON = "application/problem+json"
API_PREFIX = "/api/v1/"
PROBLEM_CONTENT = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
# Where a problem is not a plain HTTP status, it has a type of its own (relative to the service's URL).
IDEMPOTENCY_KEY_REUSED = "/api/v1/problems/idempotency-key-reused"
IDEMPOTENCY_KEY_IN_USE = "/api/v1/problems/idempotency-key-in-use"
NOT_SERVED = "/api/v1/problems/location-not-served"  # a real place, in a municipality this service does not serve
# webargs nests field errors under where they were read; the field's name is what a client needs.
LOCATIONS = {"json", "query", "form", "files", "headers", "view_args", "json_or_form", "querystring"}


class FieldErrorSchema(Schema):
    field = fields.String(allow_none=True, metadata={"description": "dotted path into the body, or the parameter",
                                                      "example": "location.lat"})
    message = fields.String(metadata={"example": "Not a valid number."})


class ProblemSchema(Schema):
    """RFC 9457 problem details; a problem type may add members of its own (extension members)."""

    class Meta:
        unknown = INCLUDE

    type = fields.String(metadata={"description": "a URI reference naming the kind of problem",
                                   "example": "about:blank"})
    title = fields.String(metadata={"description": "short summary of the kind of problem", "example": "Not Found"})
    status = fields.Integer(metadata={"description": "the HTTP status code", "example": 404})
    detail = fields.String(metadata={"description": "what went wrong this time", "example": "no such report"})
    errors = fields.List(fields.Nested(FieldErrorSchema),
                         metadata={"description": "on 422: one entry per refused field"})
    code = fields.Integer(metadata={"description": "deprecated: the same as `status`"})
    message = fields.String(metadata={"description": "deprecated: the same as `detail`"})


def field_errors(messages, path: tuple[str, ...] = ()) -> list[dict]:
    """webargs/marshmallow's nested error dict (or `{"field": ["message"]}`) as a flat list of field errors."""
    if isinstance(messages, dict):
        found = []
        for key, value in messages.items():
            key = str(key)
            if not path and key in LOCATIONS or key == "_schema":
                found += field_errors(value, path)
            else:
                found += field_errors(value, (*path, key))
        return found
    if isinstance(messages, (list, tuple)):
        found = []
        for item in messages:
            found += field_errors(item, path) if isinstance(item, (dict, list, tuple)) else \
                [{"field": ".".join(path) or None, "message": str(item)}]
        return found
    return [{"field": ".".join(path) or None, "message": str(messages)}]


def problem_body(status: int, title: str, detail: str, errors: list[dict] | None = None,
                 type_: str = "about:blank", extra: dict | None = None) -> dict:
    body = {"type": type_, "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    for key, value in (extra or {}).items():
        body.setdefault(key, value)
    body.update(code=status, message=detail)
    return body


def problem_response(status: int, detail: str, *, title: str | None = None, errors: list[dict] | None = None,
                     type_: str = "about:blank", extra: dict | None = None, headers: dict | None = None):
    from werkzeug.http import HTTP_STATUS_CODES

    title = title or HTTP_STATUS_CODES.get(status, "Error")
    body = problem_body(status, title, detail, errors, type_, extra)
    response = current_app.response_class(json.dumps(body, ensure_ascii=False), status=status,
                                          mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status in (429, 503) and "Retry-After" not in response.headers:
        response.headers["Retry-After"] = "60"
    return response


def problem_for(exc: HTTPException):
    """The problem details of an HTTP error raised anywhere under /api/v1 (abort, webargs, routing, limits)."""
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    detail = data.get("message") or (exc.description if status != 500 else None) or exc.name
    raw = data.get("errors") if "errors" in data else data.get("messages")
    errors = field_errors(raw) if raw else []
    if status == 422 and not errors:
        errors = [{"field": None, "message": str(detail)}]
    if "message" not in data and errors and status in (400, 422):
        detail = " ".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors)[:1000]
    headers = dict(data.get("headers") or {})
    valid_methods = getattr(exc, "valid_methods", None)
    if status == 405 and valid_methods:
        headers.setdefault("Allow", ", ".join(sorted(valid_methods)))
    return problem_response(status, str(detail), title=data.get("title"), errors=errors or None,
                            type_=data.get("type", "about:blank"), extra=data.get("extra"), headers=headers)


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX) and not request.path.startswith(API_PREFIX + "openapi")


def install_problem_details(app: Flask) -> None:
    """Replace flask-smorest's JSON error handler (registered by `api.init_app`) by problem details for /api/v1;
    other machine paths (webhooks, the website chat's API, health) keep smorest's answer."""
    spec = app.error_handler_spec.setdefault(None, {}).setdefault(None, {})
    previous: Callable | None = spec.get(HTTPException)

    def handle(exc: HTTPException):
        if is_api_request() or previous is None:
            return problem_for(exc)
        return previous(exc)

    handle.answers_refusals = is_api_request  # type: ignore[attr-defined]  # 413/429 too (meldingen.web.errors)
    app.register_error_handler(HTTPException, handle)


def document_problems(api_spec) -> None:
    """Every error response in the document (smorest's per-status components, the operations' own) says
    `application/problem+json` with the Problem schema."""
    for response in api_spec.components.responses.values():
        content = response.get("content") or {}
        if "application/json" in content and "Problem" in json.dumps(content["application/json"]):
            response["content"] = PROBLEM_CONTENT
