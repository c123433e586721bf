"""The JSON API for staff and systems (flask-smorest, OpenAPI at /api/v1/openapi.json)."""

from __future__ import annotations

from flask import Flask


def register_api(app: Flask) -> None:
    from meldingen.api import catalogue, classify, duplicates, geo, photos, reports, routing_rules
    from meldingen.api import privacy as privacy_api
    from meldingen.api.contract import (
        install_contract_headers,
        install_contract_plugin,
        serve_live_document,
        tighten_document,
    )
    from meldingen.api.problems import ProblemSchema, document_problems, install_problem_details
    from meldingen.extensions import api, csrf

    app.config.setdefault("API_TITLE", "Meldingen API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api.ERROR_SCHEMA = ProblemSchema  # every error is a problem (RFC 9457): documented so
    api.init_app(app, spec_kwargs={"components": {"securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer"}}}})
    install_contract_plugin(api.spec)  # before the blueprints: their paths are documented as they register
    install_contract_headers(app)
    install_problem_details(app)
    from meldingen.web.limits import limit_api_blueprint

    for blueprint in (reports.blp, geo.blp, classify.blp, routing_rules.blp, photos.blp, duplicates.blp,
                      privacy_api.blp, catalogue.blp):
        csrf.exempt(blueprint)  # token auth, no cookies: CSRF does not apply
        limit_api_blueprint(blueprint)  # per token (per address without one)
        api.register_blueprint(blueprint, url_prefix=f"/api/v1{blueprint.url_prefix or ''}")
    document_problems(api.spec)
    tighten_document(api.spec)
    serve_live_document(app, api)
