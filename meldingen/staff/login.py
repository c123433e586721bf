"""Flask-Login wiring: how a signed-in staff member is found again from the session, and how sessions end.

Each session carries the account's `session_version` from sign-in; a session whose version is no longer the
account's (after sign-out, a password change or deactivation) is not signed in any more, on every device.
"""

from __future__ import annotations

from flask import session

from meldingen.extensions import db, login_manager

SESSION_VERSION_KEY = "_staff_sv"


@login_manager.user_loader
def load_staff_user(user_id: str):
    from meldingen.accounts.models import StaffUser

    try:
        user = db.session.get(StaffUser, int(user_id))
    except (TypeError, ValueError):
        return None
    if user is None or not user.active:
        return None
    if session.get(SESSION_VERSION_KEY) != user.session_version:
        return None
    return user


def start_session(user) -> None:
    """Sign in on a fresh session that carries the account's session version."""
    from flask_login import login_user

    session.clear()  # nothing carried over from before sign-in
    login_user(user)
    session[SESSION_VERSION_KEY] = user.session_version


def end_all_sessions(user) -> None:
    """Sign-out: this and every other session of the account stop working. Does not commit."""
    from flask_login import logout_user

    user.end_sessions()
    logout_user()
    session.clear()
