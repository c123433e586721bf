"""Organisations and departments."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from meldingen.extensions import db


class Organisation(db.Model):
    """A municipality (CBS code GM####), a shared service point, or another body such as a water board."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="municipality")  # municipality|service_point|other
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The shared service point that takes chats for this organisation, if any.
    service_point_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    # Per-organisation settings, e.g. {"good_friday_is_workday": false}.
    settings: Mapped[dict] = mapped_column(JSON, default=dict)

    departments: Mapped[list[Department]] = relationship(back_populates="organisation", order_by="Department.code")
    service_point: Mapped[Organisation | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<Organisation {self.code}>"


class Department(db.Model):
    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("organisation_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))

    organisation: Mapped[Organisation] = relationship(back_populates="departments")

    def __repr__(self) -> str:
        return f"<Department {self.code}>"


class OfficeHours(db.Model):  # type: ignore[name-defined]  # (flask-sqlalchemy's model base is dynamic)
    """When a person answers the chat: per organisation (None: the general hours), per weekday (0 Monday …
    6 Sunday), from `opens` to `closes` ("09:00", "17:00"). Dutch public holidays are closed days."""

    __tablename__ = "office_hours"
    __table_args__ = (UniqueConstraint("organisation_id", "weekday"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(Integer)
    opens: Mapped[str] = mapped_column(String(5))
    closes: Mapped[str] = mapped_column(String(5))
