"""Fixtures: a real app on a real database, on SQLite/SpatiaLite and, when configured, on PostgreSQL/PostGIS.

Every database test runs once per backend (the `backend` parameter). The schema comes from the Alembic
migrations and the sample data from `meldingen load-sample-data`; both are built once per session into a
template (a file for SQLite, a template database for PostGIS) and each test gets a fresh copy.
"""

from __future__ import annotations

import itertools
import os
import queue
import shutil
import tempfile
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from meldingen import create_app

PG_URL = os.environ.get("MELDINGEN_TEST_DATABASE_URL", "")
BROKER_URL = os.environ.get("MELDINGEN_TEST_BROKER_URL", "")
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", … when the suite runs in parallel
if BROKER_URL and _WORKER.startswith("gw") and _WORKER[2:].isdigit():
    # Each parallel worker flushes and fills a Redis database of its own: 15 for gw0, 14 for gw1, …
    from redis.connection import parse_url as _parse_redis_url

    _db = int(_parse_redis_url(BROKER_URL).get("db", 0) or 0) - int(_WORKER[2:])
    BROKER_URL = BROKER_URL.rsplit("/", 1)[0] + f"/{max(_db, 0)}" if "/" in BROKER_URL.split("://", 1)[1] \
        else BROKER_URL + f"/{max(_db, 0)}"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

if IN_CI and not PG_URL:
    raise pytest.UsageError("CI is set but MELDINGEN_TEST_DATABASE_URL is not: the PostGIS tests would not run")

BACKENDS = ["sqlite"] + (["postgis"] if PG_URL else [])

# Modules whose tests start servers, workers, databases or a browser of their own, and wait for them with time
# bounds: marked `processes`. `make test` runs the rest in parallel (pytest-xdist) and these afterwards on their
# own, so nothing else competes with them for the cores.
PROCESS_MODULES = {"test_faults", "test_scaled_layout", "test_jobs_process", "test_jobs_scale", "test_jobs",
                   "test_webchat_browser", "test_staff_browser", "test_staff_browser_worklists",
                   "test_staff_pages_browser", "test_recovery", "test_accessibility_browser",
                   "test_staff_crew_volume_browser", "test_staff_head_agent_browser", "test_map_attribution_browser",
                   "test_staff_status_keyboard_browser", "test_served_limits"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.module.__name__.rsplit(".", 1)[-1] in PROCESS_MODULES:
            item.add_marker(pytest.mark.processes)
_counter = itertools.count()
# One classifier model for the whole session, trained on first use, outside the repository's instance folder.
CLASSIFIER_MODEL_DIR = Path(tempfile.mkdtemp(prefix="meldingen-classifier-"))


def _pg_url(url: str) -> str:
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def base_config(tmp_path, database_url: str, **extra) -> dict:
    config = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "MEDIA_DIR": str(tmp_path / "media"),
        "JOBS_BACKEND": "sync",
        "JOBS_RAISE": True,
        "GEOCODER_URL": "off",
        "RATELIMIT_ENABLED": False,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # scrypt costs ~0.8 s a hash on CI; what is hashed is not
        "WTF_CSRF_ENABLED": False,
        "INTAKE_QUIET_SECONDS": 0,
        "CLASSIFIER_MODEL_PATH": str(CLASSIFIER_MODEL_DIR / "model.joblib"),
        "TILE_URL": "",  # no outside traffic in tests: maps show area outlines only
    }
    config.update(extra)
    return config


_created_apps: list = []


def make_app(tmp_path, database_url: str, **extra):
    """An app on the given database; its connections are closed after the test (see `_close_apps`)."""
    application = create_app(base_config(tmp_path, database_url, **extra))
    _created_apps.append(application)
    return application


def dispose_app(application) -> None:
    from meldingen.extensions import db

    backend = application.extensions.get("meldingen_jobs")
    if getattr(backend, "close", None) is not None:
        backend.close()  # a background process ends with the test, not after its database is gone
    elif getattr(backend, "stop", None) is not None:
        backend.stop.set()  # the in-process sweeps end with the test, not after its database is gone
    with application.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


def close_created_apps() -> None:
    """Every app a test made stops its background sweeps and gives its database connections back (so
    PostgreSQL never runs out of them), before the test's database is dropped."""
    while _created_apps:
        dispose_app(_created_apps.pop())


@pytest.fixture(autouse=True)
def _close_apps():
    yield
    close_created_apps()


def build_schema_and_sample(app) -> None:
    from flask_migrate import upgrade

    from meldingen.seed import load_sample_data

    with app.app_context():
        upgrade()
        load_sample_data()
        from meldingen.extensions import db

        db.session.commit()
        db.session.remove()
        db.engine.dispose()


class PostgresAdmin:
    """Creates and drops databases on the test server."""

    def __init__(self, url: str):
        self.url = make_url(_pg_url(url))
        self.engine = create_engine(self.url.set(database="postgres"), isolation_level="AUTOCOMMIT")

    def url_for(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def create(self, name: str, template: str | None = None) -> str:
        with self.engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            if template:
                # FILE_COPY copies the template's files (0.1 s); PostgreSQL 15's default WAL_LOG writes the whole
                # template through the WAL (0.4 s), once per test.
                strategy = " STRATEGY FILE_COPY" if conn.dialect.server_version_info >= (15,) else ""
                conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"{strategy}'))
            else:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        if not template:
            engine = create_engine(self.url_for(name))
            with engine.begin() as conn:
                conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
            engine.dispose()
        return self.url_for(name)

    def drop(self, name: str) -> None:
        with self.engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def pg_admin():
    if not PG_URL:
        pytest.fail("PostGIS test requested but MELDINGEN_TEST_DATABASE_URL is not set")
    admin = PostgresAdmin(PG_URL)
    yield admin
    admin.engine.dispose()


@pytest.fixture(scope="session")
def sample_templates(tmp_path_factory):
    """Per backend, how to get a fresh database with schema and sample data."""
    built: dict[str, str] = {}
    root = tmp_path_factory.mktemp("templates")
    admins: list[PostgresAdmin] = []

    def get(backend: str) -> str:
        if backend in built:
            return built[backend]
        if backend == "sqlite":
            path = root / "template.sqlite"
            build_schema_and_sample(make_app(root, f"sqlite:///{path}"))
            built[backend] = str(path)
        else:
            admin = PostgresAdmin(PG_URL)
            admins.append(admin)
            name = f"meldingen_tmpl_{os.getpid()}"
            url = admin.create(name)
            build_schema_and_sample(make_app(root, url))
            built[backend] = name
        return built[backend]

    yield get
    give_back_shared()
    while _copies:  # no copy is being made from a template that is about to go
        _copies.popitem()[1].close()
    for admin in admins:
        for name in built.values():
            if not name.endswith(".sqlite"):
                admin.drop(name)
        admin.engine.dispose()


class PostgresCopies:
    """Fresh copies of the template database, made ahead in a thread of their own while the tests run, and
    dropped there after use: a copy and a drop cost about a second of the server's time each under load, and
    were most of the PostGIS half's time when each test waited for them."""

    AHEAD = 2

    def __init__(self, template: str):
        self.admin = PostgresAdmin(PG_URL)
        self.template = template
        self.ready: queue.Queue = queue.Queue()
        self.used: queue.Queue = queue.Queue()
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.made = 0
        self.thread = threading.Thread(target=self._run, name="pg-copies", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                self._drop(self.used.get_nowait())
                continue
            except queue.Empty:
                pass
            if self.made - self._taken < self.AHEAD:
                name = f"meldingen_t_{os.getpid()}_{next(_counter)}"
                try:
                    self.ready.put((name, self.admin.create(name, template=self.template)))
                except Exception as exc:  # the test that takes it fails with the reason
                    self.ready.put(exc)
                self.made += 1
                continue
            self.wake.wait(0.5)
            self.wake.clear()

    _taken = 0

    def _drop(self, name: str) -> None:
        try:
            self.admin.drop(name)
        except Exception as exc:  # a leftover database is not worth failing a later test for
            print(f"could not drop {name}: {exc}")

    def take(self) -> tuple[str, str]:
        self._taken += 1
        self.wake.set()
        item = self.ready.get(timeout=300)
        if isinstance(item, Exception):
            raise item
        return item

    def give_back(self, name: str) -> None:
        self.used.put(name)
        self.wake.set()

    def close(self) -> None:
        self.stopping.set()
        self.wake.set()
        self.thread.join(60)
        for source in (self.used, self.ready):
            while True:
                try:
                    item = source.get_nowait()
                except queue.Empty:
                    break
                if not isinstance(item, Exception):
                    self._drop(item if isinstance(item, str) else item[0])
        self.admin.engine.dispose()


_copies: dict[str, PostgresCopies] = {}


def postgres_copies(template: str) -> PostgresCopies:
    if template not in _copies:
        _copies[template] = PostgresCopies(template)
    return _copies[template]


@pytest.fixture(scope="session", autouse=True)
def _drop_postgres_copies():
    yield
    give_back_shared()
    while _copies:
        _copies.popitem()[1].close()


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


# Tests marked `rolled_back` share one PostGIS database and run inside a transaction that is rolled back at their
# end, instead of getting a copy of the template each (a copy and its drop cost the server about two seconds; on
# SQLite a copy costs milliseconds, so there every test keeps its own, and its sync jobs their own connections:
# the SQLite half still catches work enqueued before its commit). Safe for tests in one process and thread whose app
# (the `app` fixture) is the only one writing: every other connection is refused writes (the shared PostGIS
# database is read-only by default; on SQLite the test holds the write lock), so a test that is not safe fails
# loudly instead of leaving its writes to the next. MELDINGEN_TEST_ROLLBACK=1 treats every test that uses `app` so,
# on both backends (to find the modules that are safe with it), =0 none (a copy for every test: to compare, or to
# rule it out).
ROLLBACK_MODE = os.environ.get("MELDINGEN_TEST_ROLLBACK", "")
_shared: dict[str, str] = {}


def rolled_back_test(request) -> bool:
    if "app" not in request.fixturenames:  # a test that makes its own app gets a copy
        return False
    if ROLLBACK_MODE in ("0", "1"):
        return ROLLBACK_MODE == "1"
    marked = request.node.get_closest_marker("rolled_back") is not None
    return marked and request.getfixturevalue("backend") == "postgis"


def shared_database(backend: str, template: str, root: Path) -> str:
    """The database every rolled-back test of this process uses: one copy of the template, never committed to."""
    if backend not in _shared:
        if backend == "sqlite":
            path = root / "shared.sqlite"
            shutil.copyfile(template, path)
            _shared[backend] = f"sqlite:///{path}"
        else:
            copies = postgres_copies(template)
            name, url = copies.take()
            with copies.admin.engine.connect() as conn:  # writes of any other connection fail loudly
                conn.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
            _shared[backend] = url
            _shared_postgres.append((template, name))
    return _shared[backend]


_shared_postgres: list[tuple[str, str]] = []


def give_back_shared() -> None:
    close_created_apps()
    while _shared_postgres:
        template, name = _shared_postgres.pop()
        if template in _copies:
            _copies[template].give_back(name)
    _shared.clear()


@contextmanager
def rolled_back(application):
    """Every session of the app (requests, CLI commands, sync jobs: one thread) works on one connection inside an
    outer transaction; their commits release savepoints, and the outer transaction is rolled back at the end."""
    from flask import current_app
    from flask_sqlalchemy.session import Session as FlaskSession

    from meldingen.extensions import db

    db.session.remove()
    connection = db.engine.connect()
    if connection.dialect.name == "sqlite":
        outer = connection.begin()
        # pysqlite begins lazily; savepoints need a real transaction around them, and the write lock is ours
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE")
        connection.commit()
        outer = connection.begin()
    options = db.session.session_factory.kw
    options["join_transaction_mode"] = "create_savepoint"
    original_get_bind = FlaskSession.get_bind

    def get_bind(self, *args, **kwargs):  # this app's sessions only (a test may make another app)
        if current_app._get_current_object() is application:
            return connection
        return original_get_bind(self, *args, **kwargs)

    FlaskSession.get_bind = get_bind
    try:
        yield
    finally:
        FlaskSession.get_bind = original_get_bind
        options.pop("join_transaction_mode", None)
        db.session.remove()
        outer.rollback()
        connection.close()


def unique_url(url: str) -> str:
    """The same database under a URL of this test's own: caches keyed by the database URL (per-database area
    indexes, map outlines) never hand one test what another test rolled back."""
    number = next(_counter)
    if url.startswith("sqlite:///"):  # a URI filename: SQLite ignores query parameters it does not know
        return f"sqlite:///file:{url[len('sqlite:///'):]}?uri=true&test={number}"
    return f"{url}{'&' if '?' in url else '?'}application_name=meldingen-test-{number}"


@pytest.fixture
def database_url(backend, sample_templates, tmp_path, tmp_path_factory, request):
    """A fresh database holding the schema and the sample data (shared and rolled back: `rolled_back` tests)."""
    template = sample_templates(backend)
    if rolled_back_test(request):
        yield unique_url(shared_database(backend, template, tmp_path_factory.getbasetemp()))
        return
    if backend == "sqlite":
        path = tmp_path / "meldingen.sqlite"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    copies = postgres_copies(template)
    name, url = copies.take()
    yield url
    close_created_apps()
    copies.give_back(name)


@pytest.fixture
def app_config():
    """Extra configuration for the `app` fixture; override in a test module or with indirect parametrisation."""
    return {}


@pytest.fixture
def app(database_url, tmp_path, app_config, request):
    application = make_app(tmp_path, database_url, **app_config)
    with application.app_context():
        if rolled_back_test(request):
            with rolled_back(application):
                yield application
        else:
            yield application
    close_created_apps()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def empty_database_url(backend, tmp_path):
    """A database with nothing in it (for migration tests)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
        return
    admin = PostgresAdmin(PG_URL)
    name = f"meldingen_e_{os.getpid()}_{next(_counter)}"
    url = admin.create(name)
    yield url
    close_created_apps()
    admin.drop(name)
    admin.engine.dispose()


@pytest.fixture
def fake():
    """A chat platform faked at its HTTP boundary on loopback (tests/fake_platforms.py); tests add routes."""
    from fake_platforms import start_fake_platform

    platform, stop = start_fake_platform()
    yield platform
    stop()


@pytest.fixture
def make_staff(app):
    """make_staff(role, organisation="GM0363", department=None) -> (user, token)."""
    from meldingen.extensions import db
    from meldingen.staff.services import create_staff, issue_token

    def make(role: str, organisation: str = "GM0363", department: str | None = None):
        email = f"{role}-{uuid.uuid4().hex[:8]}@{organisation.lower()}.test"
        user = create_staff(email, role, organisation, department, "correct horse battery", name=role)
        token = issue_token(email)
        db.session.commit()  # the fixture is the entry point: the account exists for every later session
        return user, token

    return make


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def auth():
    return bearer


@pytest.fixture
def real_redis_url():
    """A real Redis, emptied (RQ's scheduler runs Lua scripts, and worker processes share it): CI has one."""
    if not BROKER_URL:
        if IN_CI:
            pytest.fail("CI must set MELDINGEN_TEST_BROKER_URL")
        pytest.skip("needs Redis (MELDINGEN_TEST_BROKER_URL)")
    from redis import Redis

    connection = Redis.from_url(BROKER_URL)
    connection.flushdb()
    connection.close()
    return BROKER_URL
