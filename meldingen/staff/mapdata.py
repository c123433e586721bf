"""The field map's data: open reports as GeoJSON built in the database, and the organisation's area outlines.

Building the FeatureCollection in SQL (json_build_object/json_agg on PostgreSQL, json_object/json_group_array
on SQLite) sends one text value over the wire instead of one ORM object per report; Signalen saw a map
request fall from about 4 s to about 30 ms that way. `open_reports_geojson_python` is the same result built
in Python, kept as the baseline for bench/bench_staff.py and as the agreement check in the tests.
"""

from __future__ import annotations

import json
from functools import lru_cache

from sqlalchemy import Text, and_, cast, func, literal, select

from meldingen.categories.models import Category
from meldingen.extensions import db
from meldingen.reports.access import scope_reports
from meldingen.reports.models import Report, Status
from meldingen.timeutil import as_aware_utc, utcnow

MAX_MAP_REPORTS = 20_000


def open_reports_geojson(staff, now=None) -> str:
    """A GeoJSON FeatureCollection (as text) of the open reports on the staff member's map, built in SQL."""
    now = now or utcnow()
    dialect = db.session.get_bind().dialect.name
    obj, agg = (func.json_build_object, func.json_agg) if dialect == "postgresql" else (func.json_object,
                                                                                        func.json_group_array)
    parent = Category.__table__.alias("main_category")
    late = and_(Report.deadline.is_not(None), Report.deadline < now)
    if dialect == "postgresql":
        coordinates = func.json_build_array(Report.lon, Report.lat)
        created = func.to_char(func.timezone("UTC", Report.created_at), 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
    else:
        coordinates = func.json_array(Report.lon, Report.lat)
        created = func.strftime("%Y-%m-%dT%H:%M:%SZ", Report.created_at)
    feature = obj(
        literal("type"), literal("Feature"),
        literal("geometry"), obj(literal("type"), literal("Point"), literal("coordinates"), coordinates),
        literal("properties"), obj(
            literal("reference"), Report.reference,
            literal("status"), Report.status,
            literal("status_name"), Status.name,
            literal("category"), func.coalesce(Category.name, ""),
            literal("main_category"), func.coalesce(parent.c.slug, Category.slug, ""),
            literal("created_at"), created,
            literal("late"), late,
            literal("reporters"), Report.reporters_count,
        ),
    )
    rows = _open_reports(staff, parent, feature.label("f")).subquery()
    collection = obj(literal("type"), literal("FeatureCollection"), literal("features"),
                     func.coalesce(agg(rows.c.f if dialect == "postgresql" else func.json(rows.c.f)),
                                   _empty_array(dialect)))
    # As text: psycopg would otherwise decode the json into Python objects, only for us to encode it again.
    text = db.session.scalar(select(cast(collection, Text) if dialect == "postgresql" else collection))
    if dialect == "sqlite":  # SQLite has no boolean: 0/1 for "late"
        text = text.replace('"late":0', '"late":false').replace('"late":1', '"late":true')
    return text


def _empty_array(dialect):
    return func.json_build_array() if dialect == "postgresql" else func.json_array()


def _open_reports(staff, parent, *columns):
    """`columns` of the open, unmerged, located reports the staff member may see, newest first, at most
    MAX_MAP_REPORTS. One flat query (no self-join) so the planner can start from the department/organisation."""
    query = (
        select(*columns)
        .select_from(Report)
        .join(Status, Status.code == Report.status)
        .outerjoin(Category, Category.id == Report.category_id)
        .outerjoin(parent, parent.c.id == Category.parent_id)
        # closed_at IS NULL says the same as an open status, and lets the planner use the partial indexes.
        .where(Status.is_open.is_(True), Report.closed_at.is_(None), Report.duplicate_of_id.is_(None),
               Report.lat.is_not(None))
    )
    return scope_reports(query, staff).order_by(Report.created_at.desc()).limit(MAX_MAP_REPORTS)


def open_reports_geojson_python(staff, now=None) -> str:
    """The same FeatureCollection, built from ORM rows in Python (the baseline)."""
    now = now or utcnow()
    parent = Category.__table__.alias("main_category")
    query = _open_reports(staff, parent, Report, Status.name, Category.name,
                          func.coalesce(parent.c.slug, Category.slug))
    features = []
    for report, status_name, category_name, main_slug in db.session.execute(query):
        deadline = as_aware_utc(report.deadline)
        features.append({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [report.lon, report.lat]},
            "properties": {
                "reference": report.reference,
                "status": report.status,
                "status_name": status_name,
                "category": category_name or "",
                "main_category": main_slug or "",
                "created_at": as_aware_utc(report.created_at).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "late": deadline is not None and deadline < now,
                "reporters": report.reporters_count,
            },
        })
    return json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":"))


# --- area outlines ---------------------------------------------------------------------------------------

def area_outlines_geojson(staff, tolerance_m: float = 10.0) -> dict:
    """The outlines of the municipalities (and their districts) the staff member works for, simplified, in WGS84."""
    from meldingen.reports.access import visible_organisation_ids
    from meldingen.organisations.models import Organisation

    codes = tuple(sorted(db.session.scalars(
        select(Organisation.code).where(Organisation.id.in_(visible_organisation_ids(staff)))
    )))
    return _outlines_for(db.session.get_bind().url.render_as_string(hide_password=True), codes, tolerance_m)


@lru_cache(maxsize=64)
def _outlines_for(_database: str, municipality_codes: tuple[str, ...], tolerance_m: float) -> dict:
    import shapely
    from geoalchemy2 import functions as gf
    from shapely import wkb

    from meldingen.geo.crs import from_rd
    from meldingen.geo.models import Area

    if not municipality_codes:
        return {"type": "FeatureCollection", "features": []}
    rows = db.session.execute(
        select(Area.code, Area.name, Area.level, func.ST_AsBinary(gf.ST_SimplifyPreserveTopology(Area.geom,
                                                                                                  tolerance_m)))
        .where(Area.level.in_(("municipality", "district")),
               (Area.municipality_code.in_(municipality_codes)) | (Area.code.in_(municipality_codes)))
        .order_by(Area.level, Area.code)
    ).all()

    def to_wgs84(coords):
        import numpy as np

        lon, lat = from_rd(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    features = []
    for code, name, level, blob in rows:
        if blob is None:
            continue
        geometry = shapely.transform(wkb.loads(bytes(blob)), to_wgs84)
        geometry = shapely.set_precision(geometry, 1e-6)
        features.append({"type": "Feature", "geometry": shapely.geometry.mapping(geometry),
                         "properties": {"code": code, "name": name, "level": level}})
    return {"type": "FeatureCollection", "features": features}


def report_age_days(report, now=None) -> int:
    now = now or utcnow()
    return max(0, (now - as_aware_utc(report.created_at)).days)

