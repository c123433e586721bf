"""The staff roles' Dutch names, the page each lands on, and the page decorator that checks the authorisation
table (meldingen.authz) for the signed-in member of staff."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from meldingen import authz

ROLE_NAMES = {"admin": "Beheerder", "head": "Afdelingshoofd", "crew": "Buitendienst", "agent": "Klantcontact"}

# The page each role lands on after signing in.
HOME_ENDPOINT = {"crew": "staff.map_page", "head": "staff.backlog", "agent": "staff.inbox", "admin": "staff.admin_home"}

# The roles of some actions, from the one table (kept for templates and code that shows or hides buttons).
MAP_ROLES = tuple(sorted(authz.roles_for("view_map")))
REPORT_VIEW_ROLES = tuple(sorted(authz.roles_for("read_reports")))
STATUS_ROLES = tuple(sorted(authz.roles_for("change_status")))
BACKLOG_ROLES = tuple(sorted(authz.roles_for("view_backlog")))
CATEGORY_ROLES = tuple(sorted(authz.roles_for("change_category")))
INBOX_ROLES = tuple(sorted(authz.roles_for("use_inbox")))
ADMIN_ROLES = tuple(sorted(authz.roles_for("administer")))


def action_required(action: str):
    """Signed in (else to the sign-in page) and allowed `action` by the authorisation table (else 403)."""

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if not authz.may(current_user, action):
                abort(403)
            return view(*args, **kwargs)

        return authz.mark(wrapper, action)

    return decorate


def roles_required(*roles: str):
    """Signed in and in one of `roles` (else 403). Prefer `action_required`: it names the row of the table."""

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapper.required_roles = frozenset(roles)
        return wrapper

    return decorate


def may(action: str) -> bool:
    """For templates: may the signed-in member of staff take this action?"""
    return authz.may(current_user, action)


is_service_point_staff = authz.is_service_point_staff
