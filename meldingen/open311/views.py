"""/open311/v2: the GeoReport v2 endpoints, each as .xml and .json. Reading is public; creating needs an api_key."""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, g, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from meldingen.api import idempotency
from meldingen.api.auth import staff_from_bearer_token
from meldingen.extensions import csrf, db
from meldingen.open311 import serialise
from meldingen.open311.services import (
    Open311Error,
    active_services,
    check_jurisdiction,
    create_service_request,
    find_requests,
    find_service,
    parse_request_query,
    public_details,
    submitter_for,
)
from meldingen.open311.updates import request_updates
from meldingen.reports.services import get_report_by_reference
from meldingen.web import limits

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
csrf.exempt(bp)  # key-authenticated, no cookies: CSRF does not apply

# W3C date-time of the last change to this API's shape (the service list itself is data administrators edit).
CHANGESET = "2026-12-07T00:00:00+01:00"
CONTACT = "Questions about this Open311 endpoint: contact the administrators of this Meldingen service."
KEY_SERVICE = ("Reading is open to everyone. To create requests, ask an administrator for an Open311 key for "
               "your application (meldingen open311 key APPLICATION --organisation CODE) and send it as api_key.")


def respond(fmt: str, root: str, data, status: int = 200) -> Response:
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False)
    else:
        body = serialise.to_xml(root, data)
    return Response(body, status=status, content_type=serialise.FORMATS[fmt])


def use_format(fmt: str) -> str:
    """The response format from the path's extension; errors about it are written as XML, the spec's default."""
    if fmt not in serialise.FORMATS:
        g.open311_format = "xml"
        raise Open311Error(404, f"unknown format '.{fmt}': use .xml or .json")
    g.open311_format = fmt
    return fmt


@bp.errorhandler(Open311Error)
def _open311_error(exc: Open311Error):
    db.session.rollback()  # a refused request keeps nothing
    fmt = g.get("open311_format", "xml")
    return respond(fmt, "errors", serialise.errors_to_dicts(exc.status, exc.description), exc.status)


@bp.errorhandler(HTTPException)
@bp.errorhandler(413)  # by code too: the app's 413/429 answers (meldingen.web.errors) are not Open311's shape
@bp.errorhandler(429)
def _http_error(exc: HTTPException):
    fmt = g.get("open311_format", "xml")
    code = exc.code or 400
    return respond(fmt, "errors", serialise.errors_to_dicts(code, exc.description or exc.name), code)


def method_not_allowed(exc: MethodNotAllowed) -> Response:
    """A wrong method is refused by routing, before any blueprint handler runs, so the app's one 405 handler
    (meldingen.web.errors) calls this for /open311/ paths: the spec's error body (in the format of the path's
    extension) and an `Allow` header."""
    fmt = "json" if request.path.endswith(".json") else "xml"
    allowed = sorted(exc.valid_methods or [])
    response = respond(fmt, "errors", serialise.errors_to_dicts(
        405, f"{request.method} is not allowed here; use {', '.join(allowed)}"), 405)
    response.headers["Allow"] = ", ".join(allowed)
    return response


def request_values() -> MultiDict:
    """POST parameters from a form (the spec's way) or from a JSON object (which some clients send)."""
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise Open311Error(400, "a JSON body must be an object of the spec's parameters")
        pairs = []
        for key, value in body.items():
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, (dict, list)):
                    raise Open311Error(400, f"{key} must be a text or a number")
                pairs.append((key, "" if item is None else str(item)))
        return MultiDict(pairs)
    return MultiDict(request.values)


def bearer_key() -> str | None:
    """`Authorization: Bearer <key>`: an application's Open311 key or a staff API token (docs/open311.md)."""
    scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
    return credential.strip() or None if scheme.lower() == "bearer" else None


def endpoint_url() -> str:
    base = current_app.config.get("PUBLIC_URL") or request.url_root
    return base.rstrip("/") + bp.url_prefix


@bp.get("/discovery.<fmt>")
def discovery(fmt):
    fmt = use_format(fmt)
    return respond(fmt, "discovery", serialise.discovery_to_dict(endpoint_url(), CHANGESET, CONTACT, KEY_SERVICE))


@bp.get("/services.<fmt>")
def services(fmt):
    fmt = use_format(fmt)
    check_jurisdiction(request.args)
    return respond(fmt, "services", [serialise.service_to_dict(c) for c in active_services()])


@bp.get("/services/<code>.<fmt>")
def service_definition(code, fmt):
    fmt = use_format(fmt)
    category = find_service(code)
    if category is None:
        raise Open311Error(404, f"service_code '{code}' was not found")
    return respond(fmt, "service_definition", serialise.service_definition_to_dict(category))


@bp.get("/requests.<fmt>")
@limits.limit_public_reads
def service_requests(fmt):
    fmt = use_format(fmt)
    check_jurisdiction(request.args)
    reports = find_requests(parse_request_query(request.args))
    details = public_details(reports)
    return respond(fmt, "service_requests", [serialise.request_to_dict(r, details) for r in reports])


@bp.post("/requests.<fmt>")
@limits.limit_open311_post
def create_request(fmt):
    fmt = use_format(fmt)
    values = request_values()
    key = (values.get("api_key") or bearer_key() or "").strip()  # an Open311 key or a staff token, either way
    submitter = submitter_for(key, None if key else staff_from_bearer_token())
    if submitter is None:
        reason = "Invalid api_key received" if key else "api_key was not provided"
        raise Open311Error(403, f"{reason} -- can't proceed with create_request.")

    def create() -> Response:
        created = create_service_request(values, submitter, files=[f for _, f in request.files.items(multi=True)])
        db.session.commit()  # one commit for the report, its address_id and its media note
        created.fetch_media()
        report = created.report
        return respond(fmt, "service_requests", serialise.created_to_dicts(report, public_details([report])), 201)

    idempotency_key = idempotency.header_key()
    if idempotency_key is None:
        return create()
    secret = key or request.headers.get("Authorization", "").partition(" ")[2]
    return idempotency.idempotent(
        idempotency.owner_of(secret), idempotency_key, create, ignore=("api_key",),
        refuse=lambda status, detail, _type: respond(fmt, "errors", serialise.errors_to_dicts(status, detail), status))


@bp.get("/requests/<service_request_id>.<fmt>")
@bp.get("/request/<service_request_id>.<fmt>")  # the singular path of the spec's published Swagger file
def service_request(service_request_id, fmt):
    fmt = use_format(fmt)
    report = get_report_by_reference(service_request_id)
    if report is None:
        raise Open311Error(404, f"service_request_id '{service_request_id}' was not found")
    return respond(fmt, "service_requests", [serialise.request_to_dict(report, public_details([report]))])


@bp.get("/servicerequestupdates.<fmt>")
def service_request_updates(fmt):
    """FixMyStreet's extension: the status updates of requests between start_date and end_date (both or neither;
    default the last 24 hours), oldest first, in public words (updates.py)."""
    fmt = use_format(fmt)
    check_jurisdiction(request.args)
    updates = request_updates(request.args)
    return respond(fmt, "service_requests_updates", updates)


@bp.get("/tokens/<token>.<fmt>")
def token(token, fmt):
    fmt = use_format(fmt)
    report = get_report_by_reference(token)  # requests are made synchronously: the token is the reference
    if report is None:
        raise Open311Error(404, f"token '{token}' was not found")
    return respond(fmt, "service_requests", serialise.token_to_dicts(report, token))


@bp.route("/", methods=["GET", "POST"])
@bp.route("/<path:rest>", methods=["GET", "POST"])
def unknown_resource(rest: str = ""):
    g.open311_format = "json" if rest.endswith(".json") else "xml"  # answered in the format the path asks for
    raise Open311Error(404, f"no Open311 resource '{rest}': see discovery.xml for the endpoints, each ending "
                            "in .xml or .json")


@bp.record_once
def _answer_outside_the_version(state) -> None:
    """/open311/… paths outside /v2 are this surface's too: the spec's 404 in the format the path asks for."""
    for rule in ("/open311/", "/open311/<path:rest>"):
        state.app.add_url_rule(rule, endpoint="open311.unknown_resource", view_func=unknown_resource,
                               methods=["GET", "POST"])
