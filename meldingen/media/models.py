"""Photos: stored once, stripped of EXIF, linked to a report or to a conversation's draft."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from meldingen.db import UTCDateTime
from meldingen.extensions import db
from meldingen.timeutil import utcnow

if TYPE_CHECKING:  # the relationship's class, named for type checkers only (reports import photos, not back)
    from meldingen.reports.models import Report


class Photo(db.Model):
    """A stored photo (EXIF removed, upright) with its thumbnail; before a report exists it hangs on a conversation."""

    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(40), unique=True)  # the name in URLs, not guessable
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    path: Mapped[str] = mapped_column(String(300))
    thumbnail_path: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(50), default="image/jpeg")
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    gps_lat: Mapped[float | None] = mapped_column(Float)
    gps_lon: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(20))  # channel kind or "staff"
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    report: Mapped[Report | None] = relationship(back_populates="photos")
