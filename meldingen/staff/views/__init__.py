"""The staff web pages under /staff: sign-in, the field crews' map, one report, the backlog, the shared inbox and
administration. Each page's routes live in their own module; this one makes the blueprint and its guards."""

from __future__ import annotations

from flask import Blueprint, g

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.before_app_request
def forget_user_of_previous_request() -> None:
    """Read the signed-in user from this request's own session.

    Flask-Login caches the user on `g`, which lives on the app context; when a request runs inside an app
    context that is already pushed (tests, an embedding process), `g` would carry the previous request's user.
    """
    g.pop("_login_user", None)


@bp.after_request
def never_cached(response):
    """Staff pages hold residents' reports: never kept by proxies or the browser's cache. (The security headers
    of every page are set for the whole app, meldingen.web.security.)"""
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.app_template_filter("localtime")
def localtime(value) -> str:
    """A stored UTC time as Dutch local time, e.g. 03-05-2026 14:07."""
    from meldingen.timeutil import as_aware_utc, local_zone

    value = as_aware_utc(value)
    return value.astimezone(local_zone()).strftime("%d-%m-%Y %H:%M") if value else ""


@bp.app_context_processor
def staff_words() -> dict:
    """The words of meldingen.staff.words for every template: counts with their noun, who did something, why a
    conversation waits."""
    from meldingen.staff import words
    from meldingen.staff.residents import channel_name

    return {"count_words": words.count, "actor_name": words.actor_name, "reason_text": words.reason_text,
            "channel_name": channel_name}


from meldingen.staff.views import (  # noqa: E402,F401  (routes on bp)
    admin,
    admin_questions,
    admin_rules,
    admin_texts,
    auth,
    backlog,
    credentials,
    crew,
    fieldwork,
    inbox,
    search,
    stuck,
    subscriptions,
)
