"""Bearer-token authentication for the JSON API, checked against the authorisation table (meldingen.authz)."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import wraps

from flask import g, request
from flask_smorest import abort
from sqlalchemy import or_, select, update
from sqlalchemy.exc import OperationalError

from meldingen import authz
from meldingen.accounts.models import ApiToken, StaffUser, hash_token
from meldingen.extensions import db
from meldingen.timeutil import as_aware_utc, utcnow

log = logging.getLogger(__name__)

# last_used_at is bookkeeping: written at most this often per token, in its own short transaction.
LAST_USED_EVERY = timedelta(minutes=1)


def staff_for_token(token: str | None) -> StaffUser | None:
    """The active staff member whose unrevoked, unexpired API token this is, or None (JSON API, Open311, photos)."""
    if not token or not token.strip() or len(token) > 200:
        return None
    api_token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token.strip())))
    now = utcnow()
    if api_token is None or not api_token.is_valid(now) or not api_token.user.active:
        return None
    if api_token.last_used_at is None or now - as_aware_utc(api_token.last_used_at) >= LAST_USED_EVERY:
        record_last_use(ApiToken, api_token.id, now)
    return db.session.get(StaffUser, api_token.user_id)


def record_last_use(model, row_id: int, now) -> None:
    """Set a key's last_used_at (an API token, an Open311 key) in a transaction of its own, committed at once: no
    row lock lasts as long as the request, and two requests in the same minute write once (the condition is in the
    UPDATE itself)."""
    db.session.commit()  # end the read: on SQLite a read transaction cannot become a write after another writer
    try:
        db.session.execute(
            update(model)
            .where(model.id == row_id,
                   or_(model.last_used_at.is_(None), model.last_used_at < now - LAST_USED_EVERY))
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    except OperationalError:  # bookkeeping must never fail the request
        db.session.rollback()
        log.warning("could not record the use of %s %s", model.__tablename__, row_id)


def staff_from_bearer_token() -> StaffUser | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return staff_for_token(token)


def token_required(*args: str):
    """The caller must present a valid API token, and be allowed the action by the authorisation table.

    `token_required("change_status")` names a row of `meldingen.authz.PERMISSIONS`; no argument means any
    signed-in role may (the action "read_reports"). Role names are still accepted for code not yet moved to
    actions, but they are not in the table: prefer actions.
    """
    action = "read_reports"
    roles: tuple[str, ...] = ()
    if len(args) == 1 and args[0] in authz.PERMISSIONS:
        action = args[0]
    elif args:
        roles = args

    def decorate(view):
        @wraps(view)
        def wrapper(*view_args, **kwargs):
            staff = staff_from_bearer_token()
            if staff is None:
                abort(401, message="a valid API token is required (Authorization: Bearer <token>)")
            if roles and staff.role not in roles:
                abort(403, message=f"this needs the role {' or '.join(roles)}")
            if not roles and not authz.may(staff, action):
                abort(403, message=f"your role ({staff.role}) may not do this ({action})")
            g.staff = staff
            return view(*view_args, **kwargs)

        if roles:
            wrapper.required_roles = frozenset(roles)
            return wrapper
        return authz.mark(wrapper, action)

    return decorate


def current_staff() -> StaffUser:
    return g.staff
