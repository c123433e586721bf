"""Reply templates: the texts residents get, editable by administrators, per language and organisation."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
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
