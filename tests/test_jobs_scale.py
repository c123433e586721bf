"""The job queue at scale: each kind of work on its own queue, one scheduler that moves timers on time,
non-forking worker processes, and the health, readiness and metrics endpoints a load balancer and a monitor use."""

from __future__ import annotations

import functools
import time

import pytest

from meldingen import jobs
from meldingen.jobs import backends
from tests.conftest import CLASSIFIER_MODEL_DIR


@pytest.fixture
def redis_url(real_redis_url):
    return real_redis_url


@pytest.mark.parametrize("task, queue", [
    ("intake.act", "intake"),
    ("notify.send", "replies"),
    ("channels.process_event", "inbound"),
    ("media.fetch", "inbound"),
    ("notify.send_due", "sweeps"),
    ("intake.act_due", "sweeps"),
])
def test_each_kind_of_work_waits_only_behind_work_of_its_own_kind(task, queue):
    assert jobs.queue_for(task) == queue


def test_replies_and_timers_go_to_their_own_queues_on_redis(tmp_path, database_url, redis_url):
    from redis import Redis
    from rq import Queue

    from tests.conftest import make_app

    app = make_app(tmp_path, database_url, JOBS_BACKEND="rq", BROKER_URL=redis_url)
    connection = Redis.from_url(redis_url)
    with app.app_context():
        jobs.enqueue("notify.send", message_id=1)
        jobs.enqueue_in(30, "intake.act", conversation_id=1)
    assert Queue("replies", connection=connection).count == 1
    assert Queue("intake", connection=connection).count == 0  # not due yet: held until its time
    assert backends.queue_stats(connection)["intake"]["delayed"] == 1


def test_the_scheduler_moves_a_timer_onto_its_queue_once_it_is_due_and_not_before(redis_url):
    """RQ keeps due times in whole seconds; a timer that came early left the resident to the 15 s sweep."""
    from redis import Redis
    from rq import Queue
    from rq.registry import ScheduledJobRegistry

    from meldingen.jobs.scheduler import Scheduler

    connection = Redis.from_url(redis_url)
    intake = Queue("intake", connection=connection)
    job = backends.schedule_precisely(intake, 0.4, backends.RQ_ENTRY, ("intake.act", {}))
    due = connection.zscore(ScheduledJobRegistry(queue=intake).key, job.id)
    assert due != int(due)  # kept to the fraction of a second, not truncated
    scheduler, state = Scheduler(redis_url, sweep_seconds=3600), {}
    for _ in range(500):
        looked_at = time.time()
        scheduler.tick(time.monotonic(), state)
        if intake.count:
            break
        time.sleep(0.01)
    assert looked_at >= due
    assert intake.job_ids == [job.id]
    scheduler.rq.release_locks()


def test_of_two_schedulers_one_is_active_and_the_sweeps_are_queued_once(redis_url):
    from redis import Redis
    from rq import Queue

    from meldingen.jobs.scheduler import Scheduler

    first, second = Scheduler(redis_url), Scheduler(redis_url)
    first_state, second_state = {}, {}
    first.tick(time.monotonic(), first_state)
    second.tick(time.monotonic(), second_state)
    assert (first.active, second.active) == (True, False)
    assert Queue("sweeps", connection=Redis.from_url(redis_url)).count == len(jobs.PERIODIC_TASKS)
    first.rq.release_locks()  # the active one stops: the other takes over at its next try
    second.tick(time.monotonic() + 2, second_state)
    assert second.active
    second.rq.release_locks()


def test_a_scheduler_killed_with_its_locks_is_replaced_within_the_lock_lifetime(redis_url):
    """Killed (no release), its locks lapse after LOCK_SECONDS unless renewed; a standby then takes over."""
    from redis import Redis

    from meldingen.jobs.scheduler import HEARTBEAT_SECONDS, LOCK_SECONDS, Scheduler

    first, second = Scheduler(redis_url), Scheduler(redis_url)
    first.tick(time.monotonic(), {})
    assert first.active
    connection = Redis.from_url(redis_url)
    lock_key = first.rq.get_locking_key("intake")
    assert 0 < connection.ttl(lock_key) <= LOCK_SECONDS
    assert HEARTBEAT_SECONDS < LOCK_SECONDS / 2  # renewed twice within a lifetime: a slow round does not lose it
    second_state: dict = {}
    second.tick(time.monotonic(), second_state)
    assert not second.active
    connection.delete(*(first.rq.get_locking_key(name) for name in first.queue_names))  # the lapse, without waiting
    second.tick(time.monotonic() + 2, second_state)
    assert second.active
    second.rq.release_locks()


def test_workers_lower_their_priority_and_never_raise_it_back():
    """Background work yields the cores to web processes (run in a child: the test process keeps its own)."""
    import subprocess
    import sys

    script = ("import os\nfrom meldingen.jobs.worker import lower_priority\n"
              "lower_priority(7); first = os.getpriority(os.PRIO_PROCESS, 0)\n"
              "lower_priority(3); print(first, os.getpriority(os.PRIO_PROCESS, 0))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["7", "7"]


def test_worker_processes_run_jobs_without_forking_one_per_job(tmp_path, database_url, redis_url, monkeypatch):
    """Two long-lived worker processes drain the queues; every job ran in one of those two processes."""
    from redis import Redis
    from rq import Queue
    from rq.registry import FinishedJobRegistry

    from meldingen import create_app
    from meldingen.jobs.worker import Pool
    from meldingen.worker import prepare_worker_process

    for key, value in {"DATABASE_URL": database_url, "BROKER_URL": redis_url, "GEOCODER_URL": "off",
                       "MEDIA_DIR": str(tmp_path / "media"), "SECRET_KEY": "x",
                       "CLASSIFIER_MODEL_PATH": str(CLASSIFIER_MODEL_DIR / "model.joblib")}.items():
        monkeypatch.setenv(f"MELDINGEN_{key}", value)
    connection = Redis.from_url(redis_url)
    sweeps = Queue("sweeps", connection=connection)
    # Jobs name their entry point as every version queued them: "meldingen.jobs.run_in_worker".
    queued = [sweeps.enqueue("meldingen.jobs.run_in_worker", name, {}) for name in jobs.PERIODIC_TASKS * 3]
    prepare = functools.partial(prepare_worker_process, app_factory=create_app)  # as `meldingen worker` gives it
    pool = Pool(redis_url, ["sweeps"], processes=2, prepare=prepare, burst=True)
    pool.run()
    assert all(child.exitcode == 0 for child in pool.children)
    assert FinishedJobRegistry("sweeps", connection=connection).count == len(queued)
    worker_pids = {child.pid for child in pool.children}
    ran_in = {job.worker_name for job in (Queue("sweeps", connection=connection).fetch_job(j.id) for j in queued)}
    assert len(ran_in) <= 2 and len(worker_pids) == 2


def test_worker_refuses_a_queue_that_does_not_exist(runner, app):
    app.config["BROKER_URL"] = "redis://127.0.0.1:6379/0"
    result = runner.invoke(args=["worker", "--queues", "intake,replys"])
    assert result.exit_code != 0
    assert "unknown queue replys" in result.output


def test_readiness_is_ok_with_the_database_at_the_current_schema(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_readiness_is_503_when_the_job_queue_cannot_be_reached(tmp_path, database_url):
    from tests.conftest import make_app

    app = make_app(tmp_path, database_url, BROKER_URL="redis://127.0.0.1:1/0", JOBS_BACKEND="sync")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["queue"] == "failed" and response.json["database"] == "ok"


def test_readiness_is_503_when_the_schema_is_behind(app, client):
    from sqlalchemy import text

    from meldingen.extensions import db

    db.session.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    db.session.commit()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["database"] == "schema not current"


def test_metrics_are_off_without_a_token(client):
    assert client.get("/metrics").status_code == 404


def test_metrics_need_the_token_and_show_each_queue(tmp_path, database_url, redis_url):
    from tests.conftest import make_app

    app = make_app(tmp_path, database_url, METRICS_TOKEN="m-token", BROKER_URL=redis_url, JOBS_BACKEND="sync")
    client = app.test_client()
    refused = client.get("/metrics", headers={"Authorization": "Bearer wrong"})
    assert refused.status_code == 401 and "Bearer" in refused.headers["WWW-Authenticate"]
    body = client.get("/metrics", headers={"Authorization": "Bearer m-token"}).get_data(as_text=True)
    for queue in jobs.QUEUES:
        assert f'meldingen_queue_jobs{{queue="{queue}"}} 0' in body
