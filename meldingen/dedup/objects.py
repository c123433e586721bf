"""Which registered object a new report is about: the one whose number the resident typed, else the nearest of
the fraction the resident named, else the nearest to the GPS point.

A typed number that matches a registered object within NAMED_RADIUS_M pins the report to that object whatever
the GPS says: phones are often 10–30 m off, and street lights stand 15–30 m apart. The pipeline then moves the
report's point onto the object (the resident's GPS point stays in the report's history).
"""

from __future__ import annotations

from meldingen.dedup.naming import number_matches_asset, numbers_of_kind, report_fractions, typed_numbers
from meldingen.geo import lookup

# How far from the GPS point a typed number may name an object: far enough for a poor fix, near enough that a
# number repeated elsewhere in the city (each district numbers its own posts) is not taken for it.
NAMED_RADIUS_M = 250.0


def is_container_category(category) -> bool:
    """A category about containers: the fraction of the words (and of the category's name) counts."""
    return "container" in (category.asset_types or []) if category is not None else False


def category_fractions(category, text: str | None) -> frozenset[str]:
    """The fractions a report of this category is about (empty: not said, or not about containers)."""
    if not is_container_category(category):
        return frozenset()
    return report_fractions(text, category.name)


def choose_asset(x: float, y: float, text: str | None, category, max_m: float) -> dict | None:
    """The registered object (type, id, distance_m, lat, lon, named) a report at RD (x, y) with these words
    is about, among the category's asset types; None when the category is about none, or none is near."""
    types = list(category.asset_types or []) if category is not None else []
    if not types:
        return None
    numbers = typed_numbers(text)
    if any(numbers_of_kind(numbers, kind) for kind in types):
        for row in lookup.assets_near_rd(x, y, NAMED_RADIUS_M, types):
            if any(number_matches_asset(n, row["id"]) for n in numbers_of_kind(numbers, row["type"])):
                return {**row, "named": True}
    rows = lookup.assets_near_rd(x, y, max_m, types)
    fractions = category_fractions(category, text)
    if fractions:
        # A container of another fraction is not the one meant; one without a registered fraction may be.
        rows = [r for r in rows if r["type"] != "container" or r["fraction"] in fractions or r["fraction"] is None]
    elif rows and rows[0]["type"] == "container" and _mixed_spot(rows):
        return None  # "container vol" at a spot of glass, paper and residual: the GPS cannot tell which
    return {**rows[0], "named": False} if rows else None


def _mixed_spot(rows: list[dict]) -> bool:
    """Containers of more than one fraction within GPS error of the nearest one."""
    nearest = rows[0]["distance_m"]
    near = {r["fraction"] for r in rows if r["type"] == "container" and r["distance_m"] <= nearest + SPOT_M}
    return len(near) > 1


# Containers this close together stand at one spot (a row of bins side by side).
SPOT_M = 10.0
