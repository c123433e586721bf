"""Reply templates: the texts residents get, editable by administrators, per language and organisation; and the
standard texts staff pick from when they write a message to the residents of a report."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from meldingen.extensions import db


class ReplyTemplate(db.Model):
    __tablename__ = "reply_templates"
    __table_args__ = (UniqueConstraint("key", "language", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(5), default="nl")
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)


class StandardText(db.Model):
    """A ready reply staff can pick for "bericht aan melder": for a status, a category (main or sub) or both
    (None: any), general (organisation None) or an organisation's own."""

    __tablename__ = "standard_texts"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    status: Mapped[str | None] = mapped_column(String(30), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
