"""Flask-Login wiring: how a signed-in staff member is found again from the session."""

from __future__ import annotations

from meldingen.extensions import db, login_manager


@login_manager.user_loader
def load_staff_user(user_id: str):
    from meldingen.staff.models import StaffUser

    try:
        user = db.session.get(StaffUser, int(user_id))
    except (TypeError, ValueError):
        return None
    return user if user is not None and user.active else None
