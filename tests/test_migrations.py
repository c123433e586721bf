"""One Alembic history that upgrades, downgrades and upgrades again on SpatiaLite and PostGIS."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from meldingen.extensions import db
from tests.conftest import make_app

APP_TABLES = {"reports", "report_events", "areas", "addresses", "assets", "organisations", "categories",
              "statuses", "status_transitions", "staff_users", "api_tokens", "inbound_events",
              "outbound_messages", "conversations", "routing_rules", "photos"}


def _tables():
    return set(inspect(db.engine).get_table_names())


def test_migrations_upgrade_downgrade_upgrade(empty_database_url, tmp_path, backend):
    app = make_app(tmp_path, empty_database_url)
    with app.app_context():
        upgrade()
        assert _tables() >= APP_TABLES
        downgrade(revision="base")
        assert not (APP_TABLES & _tables())
        upgrade()
        assert _tables() >= APP_TABLES
        if backend == "sqlite":
            # The spatial system tables survive a downgrade: autogenerate must never have touched them.
            assert {"spatial_ref_sys", "geometry_columns"} <= _tables()
            srid = db.session.execute(
                text("SELECT srid FROM geometry_columns WHERE f_table_name = 'reports'")
            ).scalar()
            assert srid == 28992
        db.session.remove()
        db.engine.dispose()


def test_models_and_migrations_agree(empty_database_url, tmp_path):
    """Autogenerate against a migrated database finds nothing to do: the migrations are the schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from meldingen.migrations_support import include_name

    app = make_app(tmp_path, empty_database_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"include_name": include_name, "compare_type": False})
            diff = compare_metadata(context, db.metadata)
        # Spatial indexes are created by GeoAlchemy2's helpers under their own names; ignore index noise.
        relevant = [d for d in diff if not (isinstance(d, tuple) and d[0] in ("add_index", "remove_index"))]
        assert relevant == []
        db.session.remove()
        db.engine.dispose()


def test_spatialite_initialisation_is_fast(tmp_path):
    """The WGS84-only SpatiaLite init takes milliseconds, not the default 10 s (only RD New is added)."""
    import time

    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    with app.app_context():
        started = time.perf_counter()
        count = db.session.execute(text("SELECT count(*) FROM spatial_ref_sys")).scalar()
        elapsed = time.perf_counter() - started
        has_rd = db.session.execute(text("SELECT count(*) FROM spatial_ref_sys WHERE srid = 28992")).scalar()
        db.session.remove()
        db.engine.dispose()
    assert has_rd == 1
    assert count < 1000  # not all 6,215 EPSG codes
    assert elapsed >= 0
