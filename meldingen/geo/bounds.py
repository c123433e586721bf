"""Where a map should start: the bounding box (WGS84) of one municipality, or of every municipality served."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from meldingen.extensions import db

MUNICIPALITY_CODE = re.compile(r"^GM\d{4}$")


def municipality_bounds(codes: list[str] | None = None) -> tuple[float, float, float, float] | None:
    """(south, west, north, east) around the municipality areas with these CBS codes; around the areas of every
    active municipality organisation when `codes` is None. None when no such area is loaded."""
    from geoalchemy2 import functions as gf
    from shapely import wkb

    from meldingen.geo.crs import from_rd
    from meldingen.geo.models import Area
    from meldingen.organisations.models import Organisation

    if codes is None:
        codes = list(db.session.scalars(select(Organisation.code).where(
            Organisation.kind == "municipality", Organisation.active.is_(True))))
    codes = [c for c in codes if MUNICIPALITY_CODE.match(c or "")]
    if not codes:
        return None
    boxes = db.session.scalars(select(func.ST_AsBinary(gf.ST_Envelope(Area.geom)))
                               .where(Area.level == "municipality", Area.code.in_(codes))).all()
    if not boxes:
        return None
    xs, ys = [], []
    for blob in boxes:
        if blob is None:
            continue
        minx, miny, maxx, maxy = wkb.loads(bytes(blob)).bounds
        xs += [minx, maxx]
        ys += [miny, maxy]
    if not xs:
        return None
    west, south = from_rd(min(xs), min(ys))
    east, north = from_rd(max(xs), max(ys))
    return round(south, 5), round(west, 5), round(north, 5), round(east, 5)
