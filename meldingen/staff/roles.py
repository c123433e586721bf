"""Who may use which staff page: the four roles, their Dutch names, and the view decorator that checks them."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

ROLE_NAMES = {"admin": "Beheerder", "head": "Afdelingshoofd", "crew": "Buitendienst", "agent": "Klantcontact"}

# The page each role lands on after signing in.
HOME_ENDPOINT = {"crew": "staff.map_page", "head": "staff.backlog", "agent": "staff.inbox", "admin": "staff.admin_home"}

# Which roles may use which part of the staff web (the authorisation matrix the tests walk through).
MAP_ROLES = ("crew", "head", "admin")
REPORT_VIEW_ROLES = ("crew", "head", "admin", "agent")
STATUS_ROLES = ("crew", "head", "admin")
BACKLOG_ROLES = ("head", "admin")
# Who may correct a report's category (contact staff read the resident's words first).
CATEGORY_ROLES = ("head", "admin", "agent")
INBOX_ROLES = ("agent", "admin")
ADMIN_ROLES = ("admin",)


def roles_required(*roles: str):
    """Signed in (else to the sign-in page) and in one of `roles` (else 403)."""

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def is_service_point_staff(staff) -> bool:
    return staff.organisation is not None and staff.organisation.kind == "service_point"
