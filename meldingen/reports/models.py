"""Report, its append-only history, photos, reporters and subscriptions, and the status table as data."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from geoalchemy2 import Geometry
from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from meldingen.db import RD_SRID, UTCDateTime
from meldingen.extensions import db
from meldingen.timeutil import utcnow

if TYPE_CHECKING:
    from meldingen.media.models import Photo


class Status(db.Model):
    """A status a report can be in. Administrators may add statuses; codes are stable identifiers."""

    __tablename__ = "statuses"

    code: Mapped[str] = mapped_column(String(30), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))  # Dutch, shown to staff and residents
    name_en: Mapped[str] = mapped_column(String(100))
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    # Residents subscribed to the report hear of a change into this status.
    notify_residents: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)


class StatusTransition(db.Model):
    """An allowed move from one status to another; anything not listed is refused."""

    __tablename__ = "status_transitions"
    __table_args__ = (UniqueConstraint("from_code", "to_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    from_code: Mapped[str] = mapped_column(ForeignKey("statuses.code"))
    to_code: Mapped[str] = mapped_column(ForeignKey("statuses.code"))
    requires_note: Mapped[bool] = mapped_column(Boolean, default=False)


class Report(db.Model):
    __tablename__ = "reports"
    # The open work is a small part of all reports: the map and the backlog start from these partial indexes.
    __table_args__ = (
        Index("ix_reports_open_department", "department_id", "created_at",
              postgresql_where=text("closed_at IS NULL"), sqlite_where=text("closed_at IS NULL")),
        Index("ix_reports_open_organisation", "organisation_id", "created_at",
              postgresql_where=text("closed_at IS NULL"), sqlite_where=text("closed_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    category_confidence: Mapped[float | None] = mapped_column(Float)
    category_confirmed: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # What the public sees instead of the resident's words: made by redaction on creation (privacy/), or
    # written by staff (then `public_description_edited`, and a category change leaves it alone).
    public_description: Mapped[str | None] = mapped_column(Text)
    public_description_edited: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # When retention replaced the resident's words by the public text (privacy/retention.py).
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    geom = mapped_column(Geometry("POINT", srid=RD_SRID, spatial_index=True), nullable=True)
    address_street: Mapped[str | None] = mapped_column(String(200))
    address_number: Mapped[str | None] = mapped_column(String(20))
    address_postcode: Mapped[str | None] = mapped_column(String(6))
    address_city: Mapped[str | None] = mapped_column(String(100))
    address_distance_m: Mapped[float | None] = mapped_column(Float)
    # What the resident typed as an address, kept when it could not be resolved.
    address_text: Mapped[str | None] = mapped_column(String(300))
    address_id: Mapped[str | None] = mapped_column(String(64))  # Open311 address_id as sent (BAG id or client's)
    address_unknown: Mapped[bool] = mapped_column(Boolean, default=False)
    municipality_code: Mapped[str | None] = mapped_column(String(10), index=True)
    district_code: Mapped[str | None] = mapped_column(String(12))
    neighbourhood_code: Mapped[str | None] = mapped_column(String(12))
    asset_type: Mapped[str | None] = mapped_column(String(50))
    asset_external_id: Mapped[str | None] = mapped_column(String(100))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(20), index=True)  # whatsapp|telegram|twilio|webchat|open311|staff
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("reporters.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(ForeignKey("statuses.code"), index=True)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"), index=True)
    # Residents who reported this problem: this report's own reporter plus those of merged duplicates.
    reporters_count: Mapped[int] = mapped_column(Integer, default=1)

    category = relationship("Category")
    organisation = relationship("Organisation")
    department = relationship("Department")
    assignee = relationship("StaffUser", foreign_keys=[assignee_id])
    reporter = relationship("Reporter")
    duplicate_of: Mapped[Report | None] = relationship(remote_side=[id], back_populates="duplicates")
    duplicates: Mapped[list[Report]] = relationship(back_populates="duplicate_of")
    events: Mapped[list[ReportEvent]] = relationship(
        back_populates="report", order_by="ReportEvent.id", cascade="all, delete-orphan"
    )
    photos: Mapped[list[Photo]] = relationship(back_populates="report", order_by="Photo.id")

    @property
    def is_open(self) -> bool:
        from meldingen.reports.statuses import status_is_open

        return status_is_open(self.status)

    def __repr__(self) -> str:
        return f"<Report {self.reference} {self.status}>"


class ReportEvent(db.Model):
    """One entry of a report's append-only history: who did what, when, with what note."""

    __tablename__ = "report_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))  # created|status|category|routing|merge|unmerge|photo|assign|note
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(200), default="system")
    status: Mapped[str | None] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(Text)  # internal: staff only, never shown to residents or the public
    resident_message: Mapped[str | None] = mapped_column(Text)  # sent to the report's residents with this change
    data: Mapped[dict] = mapped_column(JSON, default=dict)

    report: Mapped[Report] = relationship(back_populates="events")


class ReportSubscription(db.Model):
    """A resident who wants to hear about a report: its own reporter, or one whose duplicate was merged into it."""

    __tablename__ = "report_subscriptions"
    __table_args__ = (UniqueConstraint("report_id", "reporter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("reporters.id", ondelete="CASCADE"), index=True)
    # The report through which the resident came (their own, merged one), so an unmerge can return them.
    via_report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DuplicateCandidate(db.Model):
    """A known report that may be the same problem as a newer one, with the score and its reasons."""

    __tablename__ = "duplicate_candidates"
    __table_args__ = (UniqueConstraint("report_id", "candidate_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(20), default="suggested")  # suggested|merged|rejected
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RouteStop(db.Model):  # type: ignore[name-defined]  # as every model: Flask-SQLAlchemy's db.Model
    """One stop on a staff member's route for a day: the reports they mean to visit, in the order they set.
    Kept on the server, so the phone, a colleague's laptop and the printed work orders agree."""

    __tablename__ = "route_stops"
    __table_args__ = (UniqueConstraint("staff_user_id", "day", "report_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    report: Mapped[Report] = relationship()
