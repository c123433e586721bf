"""Areas (municipality, district, neighbourhood), BAG addresses and assets, all stored in RD New."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import JSON, Float, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from meldingen.db import RD_SRID
from meldingen.extensions import db

AREA_LEVELS = ("municipality", "district", "neighbourhood")


class Area(db.Model):
    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(String(20), index=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_code: Mapped[str | None] = mapped_column(String(20), index=True)
    municipality_code: Mapped[str | None] = mapped_column(String(20), index=True)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=RD_SRID, spatial_index=True), nullable=False)


class Address(db.Model):
    """A BAG address (nummeraanduiding) with its point."""

    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    bag_id: Mapped[str] = mapped_column(String(20), unique=True)
    street: Mapped[str] = mapped_column(String(200))
    street_key: Mapped[str] = mapped_column(String(200), index=True)  # normalised for search
    number: Mapped[int] = mapped_column(Integer)
    letter: Mapped[str | None] = mapped_column(String(4))
    suffix: Mapped[str | None] = mapped_column(String(8))
    postcode: Mapped[str | None] = mapped_column(String(6), index=True)
    city: Mapped[str] = mapped_column(String(100))
    municipality_code: Mapped[str | None] = mapped_column(String(10))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    geom = mapped_column(Geometry("POINT", srid=RD_SRID, spatial_index=True), nullable=False)

    @property
    def house_number(self) -> str:
        """The number as written on the door: 40A, 1-H, 12 A-2."""
        text = str(self.number)
        if self.letter:
            text += self.letter
        if self.suffix:
            text += f"-{self.suffix}"
        return text


class Asset(db.Model):
    """A registered object in public space: a street light, a container, a tree."""

    __tablename__ = "assets"
    __table_args__ = (UniqueConstraint("type", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(50), index=True)
    external_id: Mapped[str] = mapped_column(String(100))
    organisation_code: Mapped[str | None] = mapped_column(String(16))
    # A container's fraction: glass, paper, residual, plastic, textile, organic (geo/fractions.py); else None.
    fraction: Mapped[str | None] = mapped_column(String(20))
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    geom = mapped_column(Geometry("POINT", srid=RD_SRID, spatial_index=True), nullable=False)
