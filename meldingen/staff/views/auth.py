"""Sign-in and sign-out of staff (rate-limited, CSRF-protected), and the start page per role."""

from __future__ import annotations

from functools import lru_cache

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from meldingen.accounts.models import StaffUser
from meldingen.extensions import db, limiter
from meldingen.staff.login import end_all_sessions, start_session
from meldingen.staff.roles import HOME_ENDPOINT
from meldingen.staff.views import bp
from meldingen.timeutil import utcnow
from meldingen.web.limits import limit_login


@lru_cache(maxsize=4)
def _dummy_hash(method: str) -> str:
    """Compared against when the e-mail is unknown, so a wrong e-mail costs as long as a wrong password."""
    return generate_password_hash("not a real password", method)


def _safe_next(target: str | None) -> str | None:
    """Only paths inside the staff pages, never another host."""
    if not target or not target.startswith("/staff/") or target.startswith("//") or "\\" in target:
        return None
    if len(target) > 2000 or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return None  # a line break would split the Location header; control characters are no path
    return target


@bp.route("/login", methods=["GET", "POST"])
@limit_login
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for(HOME_ENDPOINT[current_user.role]))
    error = None
    email = ""
    if request.method == "POST":
        email = (request.form.get("email") or "").strip().lower()[:254]
        password = request.form.get("password") or ""
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == email)) if email else None
        if user is None:
            check_password_hash(_dummy_hash(current_app.config.get("PASSWORD_HASH_METHOD") or "scrypt"), password)
        if user is not None and user.active and user.check_password(password):
            start_session(user)
            user.last_login_at = utcnow()
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")) or url_for(HOME_ENDPOINT[user.role]))
        error = "E-mailadres of wachtwoord klopt niet."
    return render_template("staff/login.html", error=error, email=email), (401 if error else 200)


@bp.post("/logout")
@login_required
def logout():
    """Sign-out ends every session of this account (other browsers and devices too)."""
    end_all_sessions(db.session.get(StaffUser, current_user.id))
    db.session.commit()
    flash("U bent afgemeld.")
    return redirect(url_for("staff.login"))


@bp.get("/")
@login_required
def home():
    return redirect(url_for(HOME_ENDPOINT[current_user.role]))


def _password_change_key() -> str:
    return f"password:{current_user.id}"


@bp.route("/password", methods=["GET", "POST"])
@login_required
@limiter.limit("10 per hour", methods=["POST"], key_func=_password_change_key)
def change_password():
    """Change one's own password: every other session of the account ends, this one continues."""
    error = None
    if request.method == "POST":
        user = db.session.get(StaffUser, current_user.id)
        new = request.form.get("new_password") or ""
        if not user.check_password(request.form.get("current_password") or ""):
            error = "Uw huidige wachtwoord klopt niet."
        elif len(new) < 12:
            error = "Kies een nieuw wachtwoord van minstens 12 tekens."
        elif new != (request.form.get("repeat_password") or ""):
            error = "De twee nieuwe wachtwoorden zijn niet gelijk."
        else:
            user.set_password(new)  # raises the session version: other sessions end
            db.session.commit()
            start_session(user)
            flash("Uw wachtwoord is gewijzigd. U bent op andere apparaten afgemeld.")
            return redirect(url_for(HOME_ENDPOINT[user.role])), 303
    return render_template("staff/password.html", error=error), (400 if error else 200)
