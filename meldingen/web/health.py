"""Health for load balancers and supervisors: /healthz (alive, database answers), /readyz (ready for traffic),
/metrics (queue depth and age, Prometheus text, only with MELDINGEN_METRICS_TOKEN)."""

from __future__ import annotations

import hmac
import logging

from flask import Blueprint, Response, abort, current_app, jsonify, request
from sqlalchemy import text

from meldingen.extensions import db, limiter

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not healthy", with the part that failed
        log.warning("health check: database failed: %s", exc.__class__.__name__)
        db.session.rollback()
        return jsonify(status="unavailable", database="failed"), 503
    return jsonify(status="ok", database="ok")


@bp.get("/readyz")
@limiter.exempt
def readyz():
    """Ready to take traffic: the database answers with the current schema, and the job queue answers (if used).
    A web process that answers 503 here is taken out of the load balancer, not restarted."""
    checks = {"database": _database_check()}
    if current_app.config.get("BROKER_URL"):
        checks["queue"] = _queue_check()
    ready = all(value == "ok" for value in checks.values())
    return jsonify(status="ok" if ready else "unavailable", **checks), 200 if ready else 503


def _database_check() -> str:
    try:
        current = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception as exc:
        log.warning("readiness: database failed: %s", exc.__class__.__name__)
        db.session.rollback()
        return "failed"
    return "ok" if current == _schema_head() else "schema not current"


def _schema_head() -> str | None:
    head = current_app.extensions.get("meldingen_schema_head")
    if head is None:
        from alembic.script import ScriptDirectory

        from meldingen.migrations_support import migrations_dir

        head = ScriptDirectory(str(migrations_dir())).get_current_head()
        current_app.extensions["meldingen_schema_head"] = head
    return head


def _queue_check() -> str:
    try:
        _redis().ping()
    except Exception as exc:
        log.warning("readiness: job queue failed: %s", exc.__class__.__name__)
        return "failed"
    return "ok"


def _redis():
    connection = current_app.extensions.get("meldingen_health_redis")
    if connection is None:
        from redis import Redis

        connection = Redis.from_url(current_app.config["BROKER_URL"], socket_timeout=2, socket_connect_timeout=2)
        current_app.extensions["meldingen_health_redis"] = connection
    return connection


@bp.get("/metrics")
@limiter.exempt
def metrics():
    """Queue depth, age of the oldest waiting job, delayed/running/failed per queue, for Prometheus. Off (404)
    unless MELDINGEN_METRICS_TOKEN is set; then only with `Authorization: Bearer <token>`."""
    token = current_app.config.get("METRICS_TOKEN") or ""
    if not token:
        abort(404)
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        return Response("unauthorised\n", status=401, mimetype="text/plain",
                        headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    lines = []
    if current_app.config.get("BROKER_URL"):
        from meldingen.jobs.backends import queue_stats

        stats = queue_stats(_redis())
        for metric, key, help_text in (
            ("meldingen_queue_jobs", "queued", "jobs waiting on the queue"),
            ("meldingen_queue_oldest_seconds", "oldest_queued_seconds", "age of the oldest waiting job"),
            ("meldingen_queue_delayed_jobs", "delayed", "jobs waiting for their time"),
            ("meldingen_queue_running_jobs", "running", "jobs being worked on"),
            ("meldingen_queue_failed_jobs", "failed", "jobs that failed"),
        ):
            lines += [f"# HELP {metric} {help_text}", f"# TYPE {metric} gauge"]
            lines += [f'{metric}{{queue="{name}"}} {values[key] or 0}' for name, values in stats.items()]
    return Response("\n".join(lines) + "\n", mimetype="text/plain; version=0.0.4")
