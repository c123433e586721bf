"""Administrators: the API tokens of their organisations' staff and the Open311 keys of their applications —
listed with name, creation, last use and expiry; made (shown once) and revoked."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user
from sqlalchemy import select

from meldingen import authz
from meldingen.accounts.models import ApiToken, StaffUser
from meldingen.extensions import db
from meldingen.staff.roles import action_required, is_service_point_staff
from meldingen.staff.views import bp
from meldingen.staff.views.admin import SECTIONS, _back, _organisations, _own_organisation


def _render(**context):
    from meldingen.open311.keys import keys_of
    from meldingen.staff.services import token_state

    org_ids = authz.acting_organisation_ids(current_user)
    tokens = db.session.scalars(select(ApiToken).join(StaffUser).where(StaffUser.organisation_id.in_(org_ids))
                                .order_by(StaffUser.email, ApiToken.created_at.desc())).all()
    accounts = db.session.scalars(select(StaffUser).where(StaffUser.organisation_id.in_(org_ids),
                                                          StaffUser.active.is_(True)).order_by(StaffUser.email)).all()
    return render_template("staff/admin/credentials.html", sections=SECTIONS,
                           shared=is_service_point_staff(current_user), tokens=tokens, accounts=accounts,
                           keys=keys_of(org_ids), organisations=_organisations(), state=token_state, **context)


@bp.get("/admin/credentials")
@action_required("manage_accounts")
def admin_credentials():
    return _render()


@bp.post("/admin/credentials/tokens")
@action_required("manage_accounts")
def admin_token_create():
    from meldingen.staff.services import StaffError, issue_token_for

    user = db.session.get(StaffUser, request.form.get("user_id", type=int) or 0)
    if user is None or not authz.may_act_for(current_user, user.organisation_id):
        abort(404)
    try:
        token, text = issue_token_for(user, request.form.get("name") or "", request.form.get("days", 180, type=int))
    except StaffError as exc:
        return _back("staff.admin_credentials", error=f"Sleutel niet gemaakt: {exc.dutch}.")
    db.session.commit()
    return _render(new_secret=text, new_secret_for=f"API-token ‘{token.name or token.id}’ van {user.email}"), 201


@bp.post("/admin/credentials/tokens/<int:token_id>/revoke")
@action_required("manage_accounts")
def admin_token_revoke(token_id: int):
    from meldingen.staff.services import StaffError, revoke_token

    try:
        token = revoke_token(token_id, staff=current_user)
    except StaffError:
        abort(404)
    db.session.commit()
    return _back("staff.admin_credentials", f"API-token {token.id} van {token.user.email} ingetrokken.")


@bp.post("/admin/credentials/open311")
@action_required("manage_accounts")
def admin_open311_key_create():
    from meldingen.open311.keys import Open311KeyError, issue_key

    organisation = _own_organisation(request.form.get("organisation", ""))
    try:
        key, text = issue_key(request.form.get("application") or "", organisation.code)
    except Open311KeyError:
        return _back("staff.admin_credentials",
                     error="Sleutel niet gemaakt: geef de naam van de toepassing (1 tot 200 tekens).")
    db.session.commit()
    return _render(new_secret=text, new_secret_for=f"Open311-sleutel van {key.application}"), 201


@bp.post("/admin/credentials/open311/<int:key_id>/revoke")
@action_required("manage_accounts")
def admin_open311_key_revoke(key_id: int):
    from meldingen.open311.keys import Open311KeyError, revoke_key

    try:
        key = revoke_key(key_id, authz.acting_organisation_ids(current_user))
    except Open311KeyError:
        abort(404)
    db.session.commit()
    return _back("staff.admin_credentials", f"Open311-sleutel van {key.application} ingetrokken.")
