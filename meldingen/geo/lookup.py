"""Point → places: the areas containing a point, the nearest address and asset, the responsible organisation.

One call, `lookup_point(lat, lon)`, used by chat intake, the API and the staff pages.

Areas are answered from an in-process STRtree of the area polygons (a PerDatabaseCache: re-checked against
the table every few seconds, dropped when this process imports areas), because testing a point against
prepared polygons in memory is about a hundred times cheaper than SpatiaLite's ST_Intersects on stored blobs;
`GEO_AREA_CACHE = False` answers them in SQL through the spatial index instead (SpatialIndex on SpatiaLite,
GiST on PostGIS). Nearest address and asset are SQL on both databases: a box around the point through the
spatial index, then the exact planar distance in RD New. See docs/perf/geo.md for the figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from flask import current_app, has_app_context
from sqlalchemy import select, text

from meldingen.db import RD_SRID, is_sqlite
from meldingen.extensions import db
from meldingen.geo.crs import to_rd
from meldingen.geo.dbcache import PerDatabaseCache

# Generous box around the Netherlands (incl. the Wadden and the North Sea coast): outside it, nothing to look up.
NL_BBOX = (3.0, 50.6, 7.4, 53.7)  # min lon, min lat, max lon, max lat
AREA_CACHE_CHECK_SECONDS = 10.0


class InvalidPoint(ValueError):
    """Coordinates that are not numbers, out of range, or (0, 0)."""


@dataclass
class PlaceInfo:
    lat: float
    lon: float
    areas: dict = field(default_factory=lambda: {"municipality": None, "district": None, "neighbourhood": None})
    area_names: dict = field(default_factory=dict)
    organisation: str | None = None  # code of the served organisation responsible, None outside service area
    address: dict | None = None  # street, number, postcode, city, distance_m
    asset: dict | None = None  # type, id, distance_m

    @property
    def in_netherlands(self) -> bool:
        return self.areas.get("municipality") is not None

    @property
    def municipality_name(self) -> str | None:
        return self.area_names.get("municipality")


def validate_point(lat, lon) -> tuple[float, float]:
    if isinstance(lat, bool) or isinstance(lon, bool):
        raise InvalidPoint("lat and lon must be numbers")
    try:
        lat_f, lon_f = float(lat), float(lon)
    except (TypeError, ValueError):
        raise InvalidPoint("lat and lon must be numbers") from None
    if not (math.isfinite(lat_f) and math.isfinite(lon_f)):
        raise InvalidPoint("lat and lon must be finite numbers")
    if not (-90 <= lat_f <= 90 and -180 <= lon_f <= 180):
        raise InvalidPoint("lat must be within -90..90 and lon within -180..180")
    if lat_f == 0 and lon_f == 0:
        raise InvalidPoint("(0, 0) is not a real location")
    return lat_f, lon_f


def in_nl_bbox(lat: float, lon: float) -> bool:
    return NL_BBOX[0] <= lon <= NL_BBOX[2] and NL_BBOX[1] <= lat <= NL_BBOX[3]


def lookup_point(lat, lon, *, asset_types=None, address_max_m: float | None = None,
                 asset_max_m: float | None = None) -> PlaceInfo:
    """Areas, nearest address (within ADDRESS_MAX_DISTANCE_M, default 50 m), nearest asset of one of
    `asset_types` (any type when None; within ASSET_MAX_DISTANCE_M) and the responsible organisation.

    Raises InvalidPoint for coordinates that are not a real point. A point outside the Netherlands gets a
    PlaceInfo without areas; a point in a municipality this service point does not serve gets its areas and
    names but `organisation=None`.
    """
    lat_f, lon_f = validate_point(lat, lon)
    place = PlaceInfo(lat=lat_f, lon=lon_f)
    if not in_nl_bbox(lat_f, lon_f):
        return place
    config = current_app.config
    x, y = to_rd(lon_f, lat_f)
    place.areas, place.area_names = areas_at_rd(x, y)
    place.organisation = served_organisation_code(place.areas["municipality"])
    if address_max_m is None:
        address_max_m = float(config.get("ADDRESS_MAX_DISTANCE_M", 50.0))
    if asset_max_m is None:
        asset_max_m = float(config.get("ASSET_MAX_DISTANCE_M", 30.0))
    place.address = nearest_address_rd(x, y, address_max_m)
    place.asset = nearest_asset_rd(x, y, asset_max_m, asset_types)
    return place


def areas_at(lat: float, lon: float) -> tuple[dict, dict]:
    """Codes and names of the municipality, district and neighbourhood containing the point."""
    x, y = to_rd(lon, lat)
    return areas_at_rd(x, y)


def areas_at_rd(x: float, y: float) -> tuple[dict, dict]:
    if _area_cache_enabled():
        return _area_index().areas_at(x, y)
    return _areas_at_sql(x, y)


def served_organisation_code(municipality_code: str | None) -> str | None:
    """The organisation responsible for a municipality, when this service point serves it."""
    from meldingen.organisations.models import Organisation

    if municipality_code is None:
        return None
    return db.session.scalar(
        select(Organisation.code).where(Organisation.code == municipality_code, Organisation.active)
    )


# --- nearest address and asset -----------------------------------------------------------------------------

_NEAREST_SQLITE = """
SELECT {columns}, ST_Distance(t.geom, MakePoint(:x, :y, {srid})) AS distance
FROM {table} AS t
WHERE t.ROWID IN (SELECT ROWID FROM SpatialIndex WHERE f_table_name = '{table}' AND f_geometry_column = 'geom'
                  AND search_frame = BuildMbr(:x - :d, :y - :d, :x + :d, :y + :d, {srid})) {extra}
ORDER BY distance, t.id LIMIT 1
"""
_NEAREST_POSTGIS = """
SELECT {columns}, ST_Distance(t.geom, ST_SetSRID(ST_MakePoint(:x, :y), {srid})) AS distance
FROM {table} AS t
WHERE ST_DWithin(t.geom, ST_SetSRID(ST_MakePoint(:x, :y), {srid}), :d) {extra}
ORDER BY distance, t.id LIMIT 1
"""
_ADDRESS_COLUMNS = "t.street, t.number, t.letter, t.suffix, t.postcode, t.city"
_ASSET_COLUMNS = "t.type, t.external_id"


def _nearest(table: str, columns: str, x: float, y: float, max_m: float, extra: str = "", params=None):
    template = _NEAREST_SQLITE if is_sqlite(db.session) else _NEAREST_POSTGIS
    sql = text(template.format(columns=columns, table=table, srid=RD_SRID, extra=extra))
    row = db.session.execute(sql, {"x": x, "y": y, "d": max_m, **(params or {})}).first()
    if row is None or row.distance is None or row.distance > max_m:
        return None
    return row


def nearest_address_rd(x: float, y: float, max_m: float) -> dict | None:
    row = _nearest("addresses", _ADDRESS_COLUMNS, x, y, max_m)
    if row is None:
        return None
    return {
        "street": row.street,
        "number": house_number(row.number, row.letter, row.suffix),
        "postcode": row.postcode,
        "city": row.city,
        "distance_m": round(float(row.distance), 2),
    }


def nearest_asset_rd(x: float, y: float, max_m: float, asset_types=None) -> dict | None:
    extra, params = "", {}
    if asset_types:
        names = [f":type{i}" for i in range(len(asset_types))]
        extra = f"AND t.type IN ({', '.join(names)})"
        params = {f"type{i}": value for i, value in enumerate(asset_types)}
    row = _nearest("assets", _ASSET_COLUMNS, x, y, max_m, extra, params)
    if row is None:
        return None
    return {"type": row.type, "id": row.external_id, "distance_m": round(float(row.distance), 2)}


_ASSETS_NEAR_SQLITE = """
SELECT t.type, t.external_id, t.fraction, t.lat, t.lon, ST_Distance(t.geom, MakePoint(:x, :y, {srid})) AS distance
FROM assets AS t
WHERE t.ROWID IN (SELECT ROWID FROM SpatialIndex WHERE f_table_name = 'assets' AND f_geometry_column = 'geom'
                  AND search_frame = BuildMbr(:x - :d, :y - :d, :x + :d, :y + :d, {srid})) {extra}
ORDER BY distance, t.id
"""
_ASSETS_NEAR_POSTGIS = """
SELECT t.type, t.external_id, t.fraction, t.lat, t.lon,
       ST_Distance(t.geom, ST_SetSRID(ST_MakePoint(:x, :y), {srid})) AS distance
FROM assets AS t
WHERE ST_DWithin(t.geom, ST_SetSRID(ST_MakePoint(:x, :y), {srid}), :d) {extra}
ORDER BY distance, t.id
"""


def assets_near_rd(x: float, y: float, max_m: float, asset_types=None) -> list[dict]:
    """Every registered object of one of `asset_types` (any type when None) within max_m, nearest first:
    type, id, fraction, lat, lon, distance_m."""
    extra, params = "", {}
    if asset_types:
        names = [f":type{i}" for i in range(len(asset_types))]
        extra = f"AND t.type IN ({', '.join(names)})"
        params = {f"type{i}": value for i, value in enumerate(asset_types)}
    template = _ASSETS_NEAR_SQLITE if is_sqlite(db.session) else _ASSETS_NEAR_POSTGIS
    sql = text(template.format(srid=RD_SRID, extra=extra))
    rows = db.session.execute(sql, {"x": x, "y": y, "d": max_m, **params}).all()
    return [{"type": r.type, "id": r.external_id, "fraction": r.fraction, "lat": r.lat, "lon": r.lon,
             "distance_m": round(float(r.distance), 2)}
            for r in rows if r.distance is not None and r.distance <= max_m]


def house_number(number, letter, suffix) -> str | None:
    """The number as written on the door: 40A, 1-H, 12A-2."""
    if number is None:
        return None
    text_ = f"{number}{letter or ''}"
    return f"{text_}-{suffix}" if suffix else text_


# --- areas -----------------------------------------------------------------------------------------------


def _areas_at_sql(x: float, y: float) -> tuple[dict, dict]:
    """Areas through the database's spatial index (SpatialIndex on SpatiaLite, GiST on PostGIS)."""
    if is_sqlite(db.session):
        sql = f"""
            SELECT level, code, name FROM areas
            WHERE ROWID IN (SELECT ROWID FROM SpatialIndex WHERE f_table_name = 'areas' AND f_geometry_column = 'geom'
                            AND search_frame = BuildMbr(:x, :y, :x, :y, {RD_SRID}))
              AND ST_Intersects(geom, MakePoint(:x, :y, {RD_SRID})) = 1
            ORDER BY code"""
    else:
        sql = f"""
            SELECT level, code, name FROM areas
            WHERE ST_Intersects(geom, ST_SetSRID(ST_MakePoint(:x, :y), {RD_SRID}))
            ORDER BY code"""
    codes = {"municipality": None, "district": None, "neighbourhood": None}
    names: dict = {}
    for level, code, name in db.session.execute(text(sql), {"x": x, "y": y}):
        if codes.get(level) is None:  # a point on a shared border: the lowest code, on both paths
            codes[level] = code
            names[level] = name
    return codes, names


class AreaIndex:
    """All area polygons of one database in an STRtree of prepared geometries."""

    def __init__(self, rows):
        import shapely
        from shapely.strtree import STRtree

        self.rows = []
        geoms = []
        for level, code, name, wkb in sorted(rows, key=lambda r: r[1]):
            geoms.append(shapely.from_wkb(bytes(wkb)))
            self.rows.append((level, code, name))
        shapely.prepare(geoms)
        self.geoms = geoms
        self.tree = STRtree(geoms) if geoms else None

    def areas_at(self, x: float, y: float) -> tuple[dict, dict]:
        import shapely

        codes = {"municipality": None, "district": None, "neighbourhood": None}
        names: dict = {}
        if self.tree is None:
            return codes, names
        hits = self.tree.query(shapely.Point(x, y), predicate="intersects")
        for index in sorted(hits):  # rows are sorted by code: on a shared border the lowest code wins
            level, code, name = self.rows[index]
            if codes.get(level) is None:
                codes[level] = code
                names[level] = name
        return codes, names


def _area_cache_enabled() -> bool:
    value = current_app.config.get("GEO_AREA_CACHE", True) if has_app_context() else True
    if isinstance(value, str):
        return value.strip().lower() not in ("0", "false", "no", "off", "")
    return bool(value)


def _load_area_index() -> AreaIndex:
    return AreaIndex(db.session.execute(text("SELECT level, code, name, ST_AsBinary(geom) FROM areas")).all())


# The geo imports invalidate it when they change an area.
_area_cache = PerDatabaseCache(
    _load_area_index,
    lambda: db.session.execute(text("SELECT count(*), max(id), min(id) FROM areas")).one(),
    check_seconds=AREA_CACHE_CHECK_SECONDS,
)


def _area_index() -> AreaIndex:
    """This database's AreaIndex, reloaded when the areas table changed."""
    return _area_cache.get()


def invalidate_area_cache() -> None:
    """Forget every loaded AreaIndex; the next lookup reloads from the database."""
    _area_cache.invalidate()
