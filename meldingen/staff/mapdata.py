"""The field map's data: open reports as GeoJSON built in the database, and the organisation's area outlines.

Building the FeatureCollection in SQL sends one text value over the wire instead of one ORM object per report;
Signalen saw a map request fall from about 4 s to about 30 ms that way. On PostgreSQL the features are
concatenated text (cheaper than json_build_object per row) and a served map is kept until anything on it changes
(see "the map's cache" below); on SQLite json_object/json_group_array build it. `open_reports_geojson_python` is
the same result built in Python, kept as the baseline for bench/bench_staff.py and as the agreement check in the
tests.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import Text, and_, case, cast, func, literal, literal_column, select, table

from meldingen.categories.models import Category
from meldingen.extensions import db
from meldingen.reports.access import scope_reports
from meldingen.reports.models import Report, Status
from meldingen.timeutil import as_aware_utc, utcnow

MAX_MAP_REPORTS = 20_000


def open_reports_geojson(staff, now=None) -> str:
    """A GeoJSON FeatureCollection (as text) of the open reports on the staff member's map, built in SQL."""
    now = now or utcnow()
    if db.session.get_bind().dialect.name == "postgresql":
        return _cached_open_reports_geojson_postgresql(staff, now)
    parent = Category.__table__.alias("main_category")
    late = and_(Report.deadline.is_not(None), Report.deadline < now)
    feature = func.json_object(
        literal("type"), literal("Feature"),
        literal("geometry"), func.json_object(literal("type"), literal("Point"), literal("coordinates"),
                                              func.json_array(Report.lon, Report.lat)),
        literal("properties"), func.json_object(
            literal("reference"), Report.reference,
            literal("status"), Report.status,
            literal("status_name"), Status.name,
            literal("category"), func.coalesce(Category.name, ""),
            literal("main_category"), func.coalesce(parent.c.slug, Category.slug, ""),
            literal("created_at"), func.strftime("%Y-%m-%dT%H:%M:%SZ", Report.created_at),
            literal("late"), late,
            literal("reporters"), Report.reporters_count,
        ),
    )
    rows = _open_reports(staff, parent, feature.label("f")).subquery()
    collection = func.json_object(literal("type"), literal("FeatureCollection"), literal("features"),
                                  func.coalesce(func.json_group_array(func.json(rows.c.f)), func.json_array()))
    text = db.session.scalar(select(collection))
    # SQLite has no boolean: 0/1 for "late"
    return text.replace('"late":0', '"late":false').replace('"late":1', '"late":true')


# --- the map's cache (PostgreSQL) ----------------------------------------------------------------------------
# A crew's map is asked for again and again while its reports change a few times an hour. Building it costs a few
# tens of milliseconds; telling whether anything it shows has changed costs one pass over the same index entries
# and rows, without building any text. A served map is kept per database and scope with:
# - a fingerprint of what it was built from: the number of reports in scope and a sum of a hash of each one's id
#   and row version (xmin, new for every UPDATE however it is made, so no reliance on updated_at or on the order
#   in which transactions commit), and the same for the status and category tables (their names are on the map);
# - the window of `now` in which no report's "late" flips: after the latest deadline already passed, up to the
#   first one still to come.
# The fingerprint is read before the map is built, so a change committed in between can only cause a rebuild.

_MAP_CACHE: OrderedDict = OrderedDict()
_MAP_CACHE_SIZE = 16
_MAP_CACHE_LOCK = threading.Lock()


def _cached_open_reports_geojson_postgresql(staff, now) -> str:
    key, fingerprint, late_window = _map_fingerprint(staff, now)
    with _MAP_CACHE_LOCK:
        entry = _MAP_CACHE.get(key)
        if entry is not None and entry[0] == fingerprint and entry[1][0] < now <= entry[1][1]:
            _MAP_CACHE.move_to_end(key)
            return entry[2]
    text = _open_reports_geojson_postgresql(staff, now)
    with _MAP_CACHE_LOCK:
        _MAP_CACHE[key] = (fingerprint, late_window, text)
        _MAP_CACHE.move_to_end(key)
        while len(_MAP_CACHE) > _MAP_CACHE_SIZE:
            _MAP_CACHE.popitem(last=False)
    return text


def _map_fingerprint(staff, now):
    """(cache key, fingerprint of the map's data, (after, until): the `now`s for which "late" stays the same)."""
    def version_hash(identity, table_name):
        return func.hashtextextended(cast(identity, Text) + ":" + cast(literal_column(f"{table_name}.xmin"), Text), 0)

    def table_sum(model, identity):
        return select(func.sum(version_hash(identity, model.__tablename__))).scalar_subquery()

    # Who may see what, once: its condition goes into the query and, compiled with its values, into the key.
    scope = scope_reports(select(Report.id), staff).whereclause
    query = (
        select(func.count(), func.sum(version_hash(Report.id, "reports")),
               func.max(Report.deadline).filter(Report.deadline < now),
               func.min(Report.deadline).filter(Report.deadline >= now),
               table_sum(Status, Status.code), table_sum(Category, Category.id),
               select(literal_column("oid")).select_from(table("pg_database"))
               .where(literal_column("datname") == func.current_database()).scalar_subquery())
        .select_from(Report)
        .join(Status, Status.code == Report.status)
        .where(Status.is_open.is_(True), Report.closed_at.is_(None), Report.duplicate_of_id.is_(None),
               Report.lat.is_not(None), scope)
    )
    count, reports_sum, last_passed, next_due, statuses_sum, categories_sum, database_oid = (
        db.session.execute(query).one())
    bind = db.session.get_bind()
    compiled_scope = scope.compile(dialect=bind.dialect)
    key = (bind.engine.url.render_as_string(hide_password=True), database_oid, str(compiled_scope),
           tuple(sorted((name, repr(value)) for name, value in compiled_scope.params.items())))
    late_window = (last_passed or datetime.min.replace(tzinfo=UTC),
                   next_due or datetime.max.replace(tzinfo=UTC))
    return key, (count, reports_sum, statuses_sum, categories_sum), late_window


def _open_reports_geojson_postgresql(staff, now) -> str:
    """The FeatureCollection as one text value, concatenated rather than built with json_build_object.

    json_build_object looks up the type of each of its arguments for every row, and sorting the finished
    features spills to disk; here the newest reports are chosen on narrow rows first, and each feature is a
    concatenation of text whose only per-row JSON escaping is the reference's. The texts of a status and of a
    category are escaped once per status and category, not once per report. Values are written as
    json_build_object would (numbers in PostgreSQL's shortest exact form, null for a missing value); the tests
    and bench/bench_staff.py check the result equals `open_reports_geojson_python`.
    """
    parent = Category.__table__.alias("main_category")
    status_text = (select(Status.code, ('"status":' + _json(Status.code) + ',"status_name":'
                                        + _json(Status.name)).label("text"))
                   .where(Status.is_open.is_(True)).subquery("status_text"))
    category_text = (select(Category.id, ('"category":' + _json(func.coalesce(Category.name, "")) + ',"main_category":'
                                          + _json(func.coalesce(parent.c.slug, Category.slug, ""))).label("text"))
                     .outerjoin(parent, parent.c.id == Category.parent_id).subquery("category_text"))
    newest = scope_reports(
        select(Report.lon, Report.lat, Report.reference, Report.created_at, Report.reporters_count,
               case((Report.deadline < now, "true"), else_="false").label("late"),
               status_text.c.text.label("status_text"),
               func.coalesce(category_text.c.text, '"category":"","main_category":""').label("category_text"))
        .select_from(Report)
        .join(status_text, status_text.c.code == Report.status)
        .outerjoin(category_text, category_text.c.id == Report.category_id)
        .where(Report.closed_at.is_(None), Report.duplicate_of_id.is_(None), Report.lat.is_not(None)),
        staff,
    ).order_by(Report.created_at.desc()).limit(MAX_MAP_REPORTS).subquery("newest")
    r = newest.c
    created = func.to_char(func.timezone("UTC", r.created_at), 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
    feature = ('{"type":"Feature","geometry":{"type":"Point","coordinates":[' + _number(r.lon) + "," + _number(r.lat)
               + ']},"properties":{"reference":' + _json(r.reference) + "," + r.status_text + "," + r.category_text
               + ',"created_at":' + func.coalesce('"' + created + '"', "null") + ',"late":' + r.late
               + ',"reporters":' + _number(r.reporters_count) + "}}")
    features = func.coalesce(func.string_agg(feature, literal(",")), "")
    return db.session.scalar(select('{"type":"FeatureCollection","features":[' + features + "]}").select_from(newest))


def _json(value):
    """`value` as a JSON text (escaped and quoted), or null."""
    return func.coalesce(cast(func.to_json(value), Text), "null")


def _number(value):
    """A number as PostgreSQL writes it (the shortest text that reads back the same), or null."""
    return func.coalesce(cast(value, Text), "null")


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
    from meldingen.organisations.models import Organisation
    from meldingen.reports.access import visible_organisation_ids

    codes = tuple(sorted(db.session.scalars(
        select(Organisation.code).where(Organisation.id.in_(visible_organisation_ids(staff)))
    )))
    return _outlines_for(db.session.get_bind().engine.url.render_as_string(hide_password=True), codes, tolerance_m)


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

