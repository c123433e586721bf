"""The database layer: declarative base, and the engine setup that makes SQLite a SpatiaLite database.

One code path serves SQLite+SpatiaLite (embedded default) and PostgreSQL+PostGIS (at scale). Geometries are
stored in EPSG:28992 (RD New, metres), so distances are planar metres on both databases.
"""

from __future__ import annotations

import os
from datetime import UTC

from geoalchemy2 import functions as geofunc
from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

RD_SRID = 28992

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def sqlite_dbapi_module():
    """A sqlite3 module that can load extensions, or None when the standard one can.

    pyenv and python.org builds of Python often lack enable_load_extension; sqlean.py ships one that has it.
    """
    import sqlite3

    if hasattr(sqlite3.Connection, "enable_load_extension"):
        return None
    try:
        import sqlean

        return sqlean
    except ImportError:  # pragma: no cover - depends on the platform
        pass
    try:
        from pysqlite3 import dbapi2

        return dbapi2
    except ImportError as exc:  # pragma: no cover
        raise RuntimeError(
            "This Python's sqlite3 cannot load extensions; install 'sqlean.py' or 'pysqlite3-binary'."
        ) from exc


def engine_options(url: str) -> dict:
    """SQLAlchemy engine options for the configured database URL."""
    if url.startswith("sqlite"):
        options: dict = {"connect_args": {"timeout": 30, "check_same_thread": False}}
        module = sqlite_dbapi_module()
        if module is not None:
            options["module"] = module
        return options
    # A server that does not answer is an error after 10 s, not a wait without end.
    return {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20, "connect_args": {"connect_timeout": 10}}


def database_error_line(url: str, exc: BaseException) -> str:
    """One line saying which database could not be used and why (the password left out)."""
    from sqlalchemy.engine import make_url

    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except Exception:
        shown = "the configured URL"
    reason = " ".join(part.strip() for part in str(getattr(exc, "orig", None) or exc).splitlines()
                      if part.strip() and not part.strip().startswith(("(Background on", "[SQL:")))
    return f"cannot use the database {shown} (MELDINGEN_DATABASE_URL): {reason or type(exc).__name__}"


def check_database(engine, url: str) -> None:
    """The database answers, or a ConfigError with one line saying what is wrong (server and command start)."""
    from sqlalchemy.exc import DBAPIError

    from meldingen.config import ConfigError

    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except DBAPIError as exc:
        raise ConfigError(database_error_line(url, exc)) from None


def install_spatialite(engine) -> None:
    """Load mod_spatialite on every new SQLite connection, initialising its metadata quickly once."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.enable_load_extension(True)
        dbapi_conn.load_extension(os.environ.get("SPATIALITE_LIBRARY_PATH", "mod_spatialite"))
        dbapi_conn.enable_load_extension(False)
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("SELECT CheckSpatialMetaData()")
        if cursor.fetchone()[0] < 1:
            # The default InitSpatialMetaData inserts all 6,215 EPSG codes one by one (about 10 s);
            # WGS84 mode in one transaction takes milliseconds. RD New is added for our geometries.
            cursor.execute("SELECT InitSpatialMetaData(1, 'WGS84')")
            cursor.execute("SELECT InsertEpsgSrid(?)", (RD_SRID,))
            dbapi_conn.commit()
        cursor.close()


@compiles(geofunc.ST_DWithin, "sqlite")
def _st_dwithin_sqlite(element, compiler, **kw):
    # SpatiaLite 5.0 has no ST_DWithin; PtDistWithin is planar for projected SRIDs (ours is RD New).
    return f"PtDistWithin({compiler.process(element.clauses, **kw)})"


def is_sqlite(session_or_engine) -> bool:
    bind = getattr(session_or_engine, "bind", None) or session_or_engine
    if hasattr(session_or_engine, "get_bind"):
        bind = session_or_engine.get_bind()
    return bind.dialect.name == "sqlite"


class UTCDateTime(TypeDecorator):
    """An aware datetime stored as UTC on both databases (SQLite keeps no zone; PostgreSQL does)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def begin_write(session) -> None:
    """On SQLite, take the write lock now, before a read-then-write sequence.

    In WAL mode a deferred transaction that has read and then wants to write fails at once ("database is
    locked", no busy wait) when another writer committed in between. BEGIN IMMEDIATE waits for the lock
    (busy_timeout) and then reads the latest data. A connection already in a transaction has written (the
    sqlite3 module only begins one before a write), so it holds the lock already. PostgreSQL needs nothing.
    """
    if session.get_bind().dialect.name != "sqlite":
        return
    connection = session.connection()
    if not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
