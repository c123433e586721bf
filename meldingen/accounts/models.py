"""Staff accounts with their role, organisation and department, their hashed API tokens, and the Open311 API
keys of applications."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from meldingen.db import UTCDateTime
from meldingen.extensions import db
from meldingen.timeutil import utcnow

ROLES = ("admin", "head", "crew", "agent")


class StaffUser(UserMixin, db.Model):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))
    password_hash: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Stored in every staff session at sign-in and compared on each request: raising it ends them all.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    organisation = relationship("Organisation")
    department = relationship("Department")
    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def set_password(self, password: str) -> None:
        """A new password ends every session signed in with the old one."""
        from flask import current_app

        if self.password_hash:
            self.end_sessions()
        self.password_hash = generate_password_hash(password, current_app.config.get("PASSWORD_HASH_METHOD")
                                                    or "scrypt")

    def end_sessions(self) -> None:
        """Every session of this account stops working at its next request (sign-out, deactivation)."""
        self.session_version = (self.session_version or 0) + 1

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<StaffUser {self.email} {self.role}>"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(db.Model):
    """An API token; only its SHA-256 is stored, the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[StaffUser] = relationship(back_populates="tokens")

    @staticmethod
    def new_token_text() -> str:
        return "mld_" + secrets.token_urlsafe(32)

    def is_valid(self, now: datetime) -> bool:
        from meldingen.timeutil import as_aware_utc

        return not self.revoked and (self.expires_at is None or as_aware_utc(self.expires_at) > now)


class Open311ApiKey(db.Model):
    """The api_key of one application (e.g. a municipality's own app) posting Open311 requests for one
    organisation; only its SHA-256 is stored, the key itself is shown once."""

    __tablename__ = "open311_api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    application: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organisation = relationship("Organisation")

    @staticmethod
    def new_key_text() -> str:
        return "o311_" + secrets.token_urlsafe(32)


class SavedFilter(db.Model):  # type: ignore[name-defined]  # as every model: mypy cannot see db.Model
    """A list filter a member of staff kept under a name: the list's URL (path and query), on the server so it
    follows them from desk to phone."""

    __tablename__ = "saved_filters"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    url: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IdempotencyKey(db.Model):  # type: ignore[name-defined]  # flask-sqlalchemy's Model, as in the baseline
    """An `Idempotency-Key` a caller sent with a create (API report, photo, Open311 request), per token or key
    (`owner`: the SHA-256 of the secret). While the first request runs, `status` is None; once it succeeded, the
    answer is kept for 24 hours and given again to a retry with the same key and body (meldingen.api.idempotency).
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("owner", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))  # SHA-256 of method, path and body
    status: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
