"""The audit log table. Append-only: the ORM refuses updates and deletes, and the database does too (triggers
made by migration 0006), so no path in the application can change what was recorded."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from meldingen.db import UTCDateTime
from meldingen.extensions import db
from meldingen.timeutil import utcnow


class AuditEntry(db.Model):
    """Who (staff member, or "system"/"cli"), when, what (action on an object), from where (IP)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_organisation_at", "organisation_id", "at"),
        Index("ix_audit_log_subject_organisation_at", "subject_organisation_id", "at"),
        Index("ix_audit_log_action_at", "action", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # No foreign keys: an entry outlives the account, the report and the resident it names.
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(254))
    actor_role: Mapped[str | None] = mapped_column(String(10))
    organisation_id: Mapped[int | None] = mapped_column(Integer)  # the actor's organisation
    subject_organisation_id: Mapped[int | None] = mapped_column(Integer)  # the organisation owning the object
    action: Mapped[str] = mapped_column(String(80))
    object_type: Mapped[str | None] = mapped_column(String(30))
    object_id: Mapped[str | None] = mapped_column(String(80))
    ip: Mapped[str | None] = mapped_column(String(45))
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class AuditLogIsAppendOnly(Exception):
    pass


@event.listens_for(AuditEntry, "before_update")
def _refuse_update(mapper, connection, target):
    raise AuditLogIsAppendOnly("the audit log is append-only: entries are never changed")


@event.listens_for(AuditEntry, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise AuditLogIsAppendOnly("the audit log is append-only: entries are never deleted")
