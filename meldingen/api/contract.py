"""The OpenAPI document as the contract: every operation declares the error answers it can give.

flask-smorest documents what a view declares (its body, its 200/201, 422 for invalid arguments) and one `default`
error. Beyond that, each operation here gets, with the Error schema: 400 (malformed body or query), 401 with a
`WWW-Authenticate` header where it needs a token, 403 (role), 404 where its path names something, 405 with `Allow`,
and 409 where the operation changes a report (the status table or a merge may refuse). The answers themselves are
made to match: every 401 carries `WWW-Authenticate`, every 405 of the API is JSON with `Allow`.
"""

from __future__ import annotations

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
