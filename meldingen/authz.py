"""Who may do what: the one table of role x action that the JSON API, the staff pages, Open311 and the CLI consult,
and the organisations a staff member may act for.

Two questions, answered apart:
- may this role do this kind of thing at all?  `may(staff, action)` over `PERMISSIONS`;
- may this person do it to this object?  objects belong to an organisation; staff act for their own organisation
  and, at a shared service point, for the municipalities it serves (`acting_organisation_ids`).

Every view states its action with `action_required` (staff pages) or `token_required(action)` (JSON API); the
route-walk test (tests/test_authz_routes.py) reads those marks, requests every route in `app.url_map` as every
role of two organisations and compares the answers with this table. A route that is deliberately not for signed-in
staff is listed in `OPEN_ENDPOINTS` with who it is for; a route in neither place fails that test.
"""

from __future__ import annotations

from sqlalchemy import select

ROLES = ("admin", "head", "crew", "agent")
ALL = frozenset(ROLES)

# action -> (roles allowed, what it means). Administrators may change this table; the docs and tests follow it.
PERMISSIONS: dict[str, tuple[frozenset[str], str]] = {
    "read_reports": (ALL, "see the reports of one's organisation (crews: of their department)"),
    "create_report": (ALL, "make a report where one's organisation works (JSON API, Open311 with a staff token)"),
    "add_photo": (frozenset({"crew", "head", "admin"}), "add a photo to a report one may see (as on the pages)"),
    "classify": (ALL, "ask the classifier for category suggestions"),
    "view_map": (frozenset({"crew", "head", "admin"}), "the field map and its data"),
    "change_status": (frozenset({"crew", "head", "admin"}), "move a report along the status table"),
    "change_category": (frozenset({"head", "admin", "agent"}), "correct a report's category (routes it again)"),
    "read_candidates": (ALL, "see possible duplicates of a report"),
    "merge": (frozenset({"head", "admin", "agent"}), "merge a duplicate into a known report, and undo it"),
    "assign": (frozenset({"head", "admin"}), "give a report another department or assignee"),
    "take_report": (frozenset({"crew", "head", "admin"}), "take a report of one's own organisation for oneself"),
    "view_backlog": (frozenset({"head", "admin"}), "the backlog, its charts and its CSV"),
    "use_inbox": (frozenset({"agent", "admin"}), "the shared inbox: read, claim and answer conversations"),
    "read_rules": (frozenset({"head", "admin"}), "read the routing rules that concern one's organisations"),
    "edit_rules": (frozenset({"admin"}), "add, change and delete routing rules"),
    "edit_departments": (frozenset({"admin"}), "departments of one's organisations"),
    "edit_templates": (frozenset({"admin"}), "reply texts of one's organisations"),
    "edit_channels": (frozenset({"admin"}), "chat channels and their secrets"),
    "manage_accounts": (frozenset({"admin"}), "staff accounts, their API tokens, Open311 keys"),
    "administer": (frozenset({"admin"}), "the administration pages"),
    "edit_categories": (frozenset({"admin"}), "the category tree (service point only: it is shared)"),
    "import_geodata": (frozenset({"admin"}), "import areas and assets (service point only: they are shared)"),
    "read_audit": (frozenset({"admin"}), "the audit log of one's organisations"),
    "edit_public_text": (frozenset({"head", "admin", "agent"}), "rewrite a report's public description"),
    "resident_data": (frozenset({"admin"}), "export or erase what is held about one resident (AVG rights)"),
}

# Roles that may set only some statuses (a field crew: the buttons of the work itself).
LIMITED_STATUSES: dict[str, tuple[str, ...]] = {"crew": ("in_progress", "planned", "done")}

# Actions on what every organisation shares: only the service point's staff take them.
SERVICE_POINT_ACTIONS = frozenset({"edit_categories", "import_geodata"})

# Routes that are not for signed-in staff by role, and who they are for instead (the route walk skips the role
# check for these and asserts they never answer 401/403 to a signed-in member of staff because of the role).
OPEN_ENDPOINTS: dict[str, str] = {
    "static": "everyone",
    "health.healthz": "everyone",
    "front.front_page": "everyone (the public front page: how to report, where staff sign in)",
    "health.readyz": "load balancers (is this process ready for traffic)",
    "health.metrics": "monitoring (MELDINGEN_METRICS_TOKEN; off without it)",
    "staff.service_worker": "any browser (the crew's offline worker script; it holds no data)",
    "open311.service_request_updates": "everyone",
    "chat.chat_page": "residents",
    "webhooks.whatsapp_handshake": "platform (verify token)",
    "webhooks.whatsapp_notification": "platform (signature)",
    "webhooks.telegram_update": "platform (secret token)",
    "webhooks.twilio_message": "platform (signature)",
    "webhooks.messenger_handshake": "platform (verify token)",
    "webhooks.messenger_event": "platform (signature)",
    "webhooks.chat_new_session": "residents",
    "webhooks.chat_message": "residents (chat session)",
    "webhooks.chat_replies": "residents (chat session)",
    "open311.discovery": "everyone",
    "open311.services": "everyone",
    "open311.service_definition": "everyone",
    "open311.service_requests": "everyone",
    "open311.create_request": "applications (Open311 api_key) and staff tokens with create_report",
    "open311.service_request": "everyone",
    "open311.token": "everyone",
    "open311.unknown_resource": "everyone",
    "api-docs.openapi_json": "everyone",
    "geo.Lookup": "everyone (rate limited per address)",
    "geo.Search": "everyone (rate limited per address)",
    "staff.login": "everyone",
    "staff.logout": "any signed-in staff",
    "staff.home": "any signed-in staff",
    "staff.change_password": "any signed-in staff (their own password)",
    "media.photo": "staff who may see the photo's report",
}


class UnknownAction(KeyError):
    pass


def roles_for(action: str) -> frozenset[str]:
    try:
        return PERMISSIONS[action][0]
    except KeyError:
        raise UnknownAction(action) from None


def may(staff, action: str) -> bool:
    """May this staff member take this kind of action at all (role, and service point for shared things)?"""
    if staff is None or not getattr(staff, "active", False) or staff.role not in roles_for(action):
        return False
    return action not in SERVICE_POINT_ACTIONS or is_service_point_staff(staff)


def may_set_status(staff, status: str) -> bool:
    """May this staff member move a report to `status` (the status table itself decides from where)?"""
    if not may(staff, "change_status"):
        return False
    limited = LIMITED_STATUSES.get(staff.role)
    return limited is None or status in limited


def is_service_point_staff(staff) -> bool:
    return staff.organisation is not None and staff.organisation.kind == "service_point"


def acting_organisation_ids(staff) -> list[int]:
    """The staff member's organisation and, for a shared service point, the organisations it serves."""
    return organisation_ids_acting_for(staff.organisation_id)


def organisation_ids_acting_for(organisation_id: int) -> list[int]:
    """An organisation and, when it is a shared service point, the organisations it serves."""
    from meldingen.extensions import db
    from meldingen.organisations.models import Organisation

    ids = [organisation_id]
    ids += db.session.scalars(select(Organisation.id).where(Organisation.service_point_id == organisation_id))
    return ids


def organisation_codes_acting_for(organisation_id: int) -> set[str]:
    from meldingen.extensions import db
    from meldingen.organisations.models import Organisation

    ids = organisation_ids_acting_for(organisation_id)
    return set(db.session.scalars(select(Organisation.code).where(Organisation.id.in_(ids))))


def acting_organisation_codes(staff) -> set[str]:
    return organisation_codes_acting_for(staff.organisation_id)


def may_act_for(staff, organisation_id: int | None) -> bool:
    """May this staff member read and change what this organisation owns? Shared things (no organisation) are
    kept by the service point."""
    if organisation_id is None:
        return is_service_point_staff(staff)
    return organisation_id in acting_organisation_ids(staff)


def mark(view, action: str):
    """Record on a view function which action it needs (read by the route-walk test and the docs)."""
    roles_for(action)  # an unknown action is a programming error, found at import
    view.required_action = action
    return view


def required_action(app, endpoint: str, method: str) -> str | None:
    """The action a route needs, from the mark its view carries (MethodView: the method's function)."""
    view = app.view_functions.get(endpoint)
    if view is None:
        return None
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        view = getattr(view_class, method.lower(), None)
    return getattr(view, "required_action", None)
