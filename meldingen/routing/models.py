"""Routing rules: an ordered list, first match wins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from meldingen.db import UTCDateTime
from meldingen.extensions import db
from meldingen.timeutil import utcnow


class RoutingRule(db.Model):
    """Conditions (all given ones must hold) and a target organisation/department.

    conditions keys (each optional, a list means "any of"): main_slugs, sub_slugs, organisation_codes,
    area_codes, asset_types, weekdays (0=Monday), time_from/time_to ("HH:MM", may cross midnight).
    """

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0, index=True)
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    conditions: Mapped[dict] = mapped_column(JSON, default=dict)
    organisation_code: Mapped[str | None] = mapped_column(String(16))  # None: the organisation of the point
    department_code: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
