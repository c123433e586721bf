"""Where the migrations are, and the Alembic settings that keep spatial system tables out of autogenerate and
render spatial DDL portably."""

from __future__ import annotations

import re
from pathlib import Path

from geoalchemy2 import alembic_helpers

# SpatiaLite and PostGIS keep their own tables in the same schema; autogenerate must never drop them. The
# staff search's FTS5 table (and its shadow tables) on SQLite is made by hand in migration 0009.
_SYSTEM_TABLES = re.compile(
    r"^(spatial_ref_sys.*|geometry_columns.*|views_geometry_columns.*|virts_geometry_columns.*|"
    r"spatialite_history|sql_statements_log|SpatialIndex|ElementaryGeometries|KNN2?|data_licenses|"
    r"idx_.*|geography_columns|raster_columns|raster_overviews|topology|layer|spatial_ref_sys_aux|"
    r"sqlite_sequence|vector_layers.*|geom_cols_ref_sys|reports_search.*)$"
)


# Indexes made by hand in migrations for one database only (e.g. a partial GiST index on PostGIS).
_DATABASE_SPECIFIC_INDEXES = {"ix_reports_open_geom", "ix_reports_search_trgm"}


def include_name(name, type_, parent_names):
    if type_ == "table":
        return not _SYSTEM_TABLES.match(name or "")
    if type_ == "index":
        return name not in _DATABASE_SPECIFIC_INDEXES
    return True


def process_revision_directives(context, revision, directives):
    """GeoAlchemy2's writer, and no empty migration when nothing changed (Flask-Migrate's own hook)."""
    alembic_helpers.writer(context, revision, directives)
    script = directives[0] if directives else None
    if script is not None and script.upgrade_ops.is_empty():
        directives[:] = []


def migrate_options() -> dict:
    return {
        "render_as_batch": True,
        "compare_type": True,
        "include_name": include_name,
        "include_object": alembic_helpers.include_object,
        "render_item": alembic_helpers.render_item,
        "process_revision_directives": process_revision_directives,
    }


def migrations_dir() -> Path:
    """The Alembic migrations of this source tree (the app factory's Flask-Migrate, the readiness check's head)."""
    return Path(__file__).resolve().parent.parent / "migrations"
