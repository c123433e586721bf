"""Categories: main categories with sub categories, and per-organisation overrides of handling times."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from meldingen.extensions import db


class Category(db.Model):
    """A main category (parent_id is None) or a sub category; reports always carry a sub category."""

    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("parent_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    slug: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    handling_days: Mapped[int | None] = mapped_column(Integer)
    calendar_days: Mapped[bool] = mapped_column(Boolean, default=False)
    handling_code: Mapped[str | None] = mapped_column(String(20))
    # What the resident is told about how the report will be handled (Dutch, plain language).
    resident_text: Mapped[str | None] = mapped_column(Text)
    # Responsible department codes, first one is the default; resolved per organisation by code.
    department_codes: Mapped[list] = mapped_column(JSON, default=list)
    # Duplicate matching rules: how far apart and how long ago a report of this category is "the same".
    dedup_distance_m: Mapped[float | None] = mapped_column(Float)
    dedup_window_days: Mapped[int | None] = mapped_column(Integer)
    dedup_use_assets: Mapped[bool] = mapped_column(Boolean, default=False)
    dedup_related_slugs: Mapped[list] = mapped_column(JSON, default=list)
    # Registered object types a report of this category is about (street_light, container, tree …): the
    # nearest one of these types is attached to the report, for routing and duplicate matching.
    asset_types: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    # Reports of this category are about a person (nuisance by people, neighbours, a resident who fell): their
    # public text loses house numbers too, and their public point is coarser.
    person_related: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # Decimals of the public latitude/longitude (3 ≈ 100 m, 4 ≈ 10 m); empty: 3 when person-related, else 4.
    public_coordinate_decimals: Mapped[int | None] = mapped_column(Integer)

    parent: Mapped[Category | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Category]] = relationship(back_populates="parent", order_by="Category.position")

    @property
    def is_main(self) -> bool:
        return self.parent_id is None

    @property
    def main_slug(self) -> str:
        return self.parent.slug if self.parent is not None else self.slug

    def __repr__(self) -> str:
        return f"<Category {self.main_slug}/{self.slug}>"


class CategoryOverride(db.Model):
    """An organisation's own handling time (or activation) for a category."""

    __tablename__ = "category_overrides"
    __table_args__ = (UniqueConstraint("organisation_id", "category_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"))
    handling_days: Mapped[int | None] = mapped_column(Integer)
    calendar_days: Mapped[bool | None] = mapped_column(Boolean)
    resident_text: Mapped[str | None] = mapped_column(Text)
