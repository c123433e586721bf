"""Background work behind one interface: in-process by default, RQ on Redis at scale."""

import os
import threading

import pytest

from meldingen import jobs
from tests.conftest import BROKER_URL, IN_CI

CALLS: list = []
DONE = threading.Event()


def record(value):
    CALLS.append(value)
    DONE.set()
    return value


def explode():
    raise RuntimeError("boom")


TEST_TASKS = {"test.record": record, "test.explode": explode}


def make_app_with_test_tasks(tmp_path, database_url, **extra):
    from tests.conftest import make_app

    app = make_app(tmp_path, database_url, **extra)
    jobs.register_tasks(app, TEST_TASKS)
    return app


@pytest.fixture(autouse=True)
def clear():
    CALLS.clear()
    DONE.clear()


@pytest.fixture
def app(app):
    jobs.register_tasks(app, TEST_TASKS)
    return app


def test_sync_backend_runs_at_once(app):
    jobs.enqueue("test.record", value=1)
    assert CALLS == [1]


def test_sync_backend_records_delayed_work_for_the_caller(app):
    jobs.enqueue_in(5, "test.record", value=2)
    assert CALLS == []
    assert app.extensions["meldingen_jobs_delayed"][-1] == (5, "test.record", {"value": 2})


def test_thread_backend_runs_in_the_background(tmp_path, database_url):
    app = make_app_with_test_tasks(tmp_path, database_url, JOBS_BACKEND="thread")
    with app.app_context():
        jobs.enqueue("test.record", value=3)
        assert DONE.wait(5)
    assert CALLS == [3]


def test_a_failing_task_is_logged_not_raised(tmp_path, database_url, caplog):
    app = make_app_with_test_tasks(tmp_path, database_url, JOBS_RAISE=False)
    with app.app_context():
        jobs.enqueue("test.explode")
    assert "task test.explode failed" in caplog.text


def test_an_unknown_task_is_refused_when_enqueued(app):
    with pytest.raises(jobs.UnknownTask, match="unknown task test.nothing"):
        jobs.enqueue("test.nothing")
    with pytest.raises(jobs.UnknownTask):
        jobs.enqueue_in(5, "test.nothing")
    assert app.extensions["meldingen_jobs_delayed"] == []


def test_an_unknown_task_in_a_queue_fails_loudly_even_when_errors_are_not_raised(app, caplog):
    """A job for a name the worker does not know (queued by another version) fails: it is never marked done."""
    with pytest.raises(jobs.UnknownTask):
        jobs.run_task(app, "test.nothing", {}, raise_errors=False)
    assert "unknown task test.nothing" in caplog.text


def test_a_task_name_is_never_taken_over_by_another_function(app):
    jobs.register_tasks(app, {"test.record": record})  # the same function again: fine
    with pytest.raises(ValueError, match="already registered"):
        jobs.register_tasks(app, {"test.record": explode})


@pytest.fixture
def redis_url():
    if BROKER_URL:
        return BROKER_URL
    if IN_CI:
        pytest.fail("CI must set MELDINGEN_TEST_BROKER_URL")
    return None


def test_rq_backend_queues_on_redis_and_a_worker_runs_it(tmp_path, database_url, redis_url, monkeypatch):
    from redis import Redis
    from rq import Queue, SimpleWorker

    from tests.conftest import make_app

    if redis_url is None:
        import fakeredis

        connection = fakeredis.FakeStrictRedis()
        monkeypatch.setattr("redis.Redis.from_url", lambda url: connection)
        redis_url = "redis://fake/0"
    else:
        connection = Redis.from_url(redis_url)
        connection.flushdb()
    app = make_app_with_test_tasks(tmp_path, database_url, JOBS_BACKEND="rq", BROKER_URL=redis_url)
    monkeypatch.setattr(jobs, "_worker_app", app)
    with app.app_context():
        jobs.enqueue("test.record", value=os.getpid())
        queue = Queue(jobs.queue_for("test.record"), connection=connection)
        assert queue.count == 1
        assert CALLS == []
        SimpleWorker([queue], connection=connection).work(burst=True)
    assert [os.getpid()] == CALLS


def test_sweeps_run_periodically_in_the_web_process(tmp_path, database_url, monkeypatch):
    from tests.conftest import make_app

    monkeypatch.setattr(jobs, "PERIODIC_TASKS", ["test.swept"])
    swept = threading.Event()
    app = make_app(tmp_path, database_url, JOBS_BACKEND="thread", SWEEP_SECONDS=0.05)
    jobs.register_tasks(app, {"test.swept": lambda **kwargs: swept.set()})
    backend = app.extensions["meldingen_jobs"]
    try:
        assert app.test_client().get("/healthz").status_code == 200
        assert swept.wait(5)
    finally:
        backend.stop.set()


def test_bad_json_configuration_is_refused_at_start(tmp_path, database_url):
    from tests.conftest import make_app

    with pytest.raises(RuntimeError, match="WHATSAPP_TEMPLATES is not valid JSON"):
        make_app(tmp_path, database_url, WHATSAPP_TEMPLATES="{not json")
