"""Which asset types routing and categories refer to: an asset import keeps only assets of these types."""

from __future__ import annotations

from sqlalchemy import select

from meldingen.categories.models import Category
from meldingen.extensions import db
from meldingen.routing.models import RoutingRule


def asset_types_in_use() -> list[str]:
    """The asset types that categories or routing rules refer to: assets of other types are never used."""
    types: set[str] = set()
    for listed in db.session.scalars(select(Category.asset_types)):
        types.update(t for t in listed or [] if isinstance(t, str))
    for conditions in db.session.scalars(select(RoutingRule.conditions)):
        listed = (conditions or {}).get("asset_types") if isinstance(conditions, dict) else None
        types.update(t for t in listed or [] if isinstance(t, str))
    return sorted(types)
