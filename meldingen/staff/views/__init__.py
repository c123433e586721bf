"""The staff web pages under /staff: sign-in, the field crews' map, one report, the backlog, the shared inbox and
administration. Each page's routes live in their own module; this one makes the blueprint and its guards."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, g

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.before_app_request
def forget_user_of_previous_request() -> None:
    """Read the signed-in user from this request's own session.

    Flask-Login caches the user on `g`, which lives on the app context; when a request runs inside an app
    context that is already pushed (tests, an embedding process), `g` would carry the previous request's user.
    """
    g.pop("_login_user", None)


@bp.after_request
def security_headers(response):
    """Staff pages run only our own scripts (no inline JS), are never framed and never cached by proxies."""
    tiles = _tile_origin(current_app.config.get("TILE_URL") or "")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data: blob:{' ' + tiles if tiles else ''}; connect-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'self'",
    )
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.app_template_filter("localtime")
def localtime(value) -> str:
    """A stored UTC time as Dutch local time, e.g. 03-05-2026 14:07."""
    from meldingen.timeutil import AMSTERDAM, as_aware_utc

    value = as_aware_utc(value)
    return value.astimezone(AMSTERDAM).strftime("%d-%m-%Y %H:%M") if value else ""


def _tile_origin(url: str) -> str:
    if not url:
        return ""
    parts = urlsplit(url)
    host = parts.netloc
    if "{" in host:  # {s}.tile.example.org: allow the scheme, the subdomain is a template
        return f"{parts.scheme}:"
    return f"{parts.scheme}://{host}"


from meldingen.staff.views import admin, admin_rules, admin_texts, auth, backlog, fieldwork, inbox  # noqa: E402,F401,E501
