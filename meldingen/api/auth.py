"""Bearer-token authentication and role checks for the JSON API."""

from __future__ import annotations

from functools import wraps

from flask import g, request
from flask_smorest import abort
from sqlalchemy import select

from meldingen.extensions import db
from meldingen.staff.models import ApiToken, StaffUser, hash_token
from meldingen.timeutil import utcnow


def staff_for_token(token: str | None) -> StaffUser | None:
    """The active staff member whose unrevoked API token this is, or None (JSON API and Open311 keys)."""
    if not token or not token.strip():
        return None
    api_token = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == hash_token(token.strip()), ApiToken.revoked.is_(False))
    )
    if api_token is None or not api_token.user.active:
        return None
    api_token.last_used_at = utcnow()
    return api_token.user


def staff_from_bearer_token() -> StaffUser | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return staff_for_token(token)


def token_required(*roles: str):
    """The caller must present a valid API token, and have one of `roles` when given."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            staff = staff_from_bearer_token()
            if staff is None:
                abort(401, message="a valid API token is required (Authorization: Bearer <token>)")
            if roles and staff.role not in roles:
                abort(403, message=f"this needs the role {' or '.join(roles)}")
            g.staff = staff
            return view(*args, **kwargs)

        return wrapper

    return decorate


def current_staff() -> StaffUser:
    return g.staff
