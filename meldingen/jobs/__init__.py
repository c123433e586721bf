"""Background work behind one small interface: inline in the web process by default, RQ on Redis at scale.

Callers name a task and pass JSON-able arguments: `enqueue("media.fetch", photo_ref=...)`, or
`enqueue_in(seconds, ...)` for work that waits (the intake's quiet period). Tasks are registered with
`@task("name")` and always run inside an app context with a fresh session.

Backends (config `JOBS_BACKEND`, chosen automatically when empty):
- "sync": run at once in the caller's thread (tests).
- "thread": a small thread pool and timer inside the web process (embedded default).
- "rq": an RQ queue on `BROKER_URL`, run by `meldingen worker`.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from flask import Flask, current_app

log = logging.getLogger(__name__)

_TASKS: dict[str, Callable] = {}


def task(name: str):
    def register(func: Callable) -> Callable:
        _TASKS[name] = func
        return func

    return register


def registered_tasks() -> dict[str, Callable]:
    _import_task_modules()
    return dict(_TASKS)


# Modules that define tasks; imported lazily so a task name always resolves in a worker.
TASK_MODULES = [
    "meldingen.media.tasks",
    "meldingen.channels.tasks",
    "meldingen.intake.tasks",
    "meldingen.notify.tasks",
]


def _import_task_modules() -> None:
    from meldingen.plugins import import_optional

    for module_name in TASK_MODULES:
        import_optional(module_name)


# Sweeps that pick up due work whose timer was lost (a restart, a crashed worker): task name → run every
# SWEEP_SECONDS. They are idempotent: each claims its rows atomically.
PERIODIC_TASKS = ["channels.process_due", "notify.send_due", "intake.act_due"]


def run_sweeps_forever(enqueue_all: Callable[[], None], interval: float, stop: threading.Event) -> None:
    while not stop.wait(interval):
        try:
            enqueue_all()
        except Exception:  # a sweep must never kill the loop
            log.exception("periodic sweep failed")


class SyncBackend:
    def __init__(self, app: Flask):
        self.app = app

    def enqueue(self, name: str, kwargs: dict) -> None:
        run_task(self.app, name, kwargs)

    def enqueue_in(self, seconds: float, name: str, kwargs: dict) -> None:
        # Delayed work is run by the caller (tests call the due-work sweeps themselves).
        self.app.extensions["meldingen_jobs_delayed"].append((seconds, name, kwargs))


class ThreadBackend:
    def __init__(self, app: Flask, workers: int = 4):
        self.app = app
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="meldingen-job")
        self._sweeper: threading.Thread | None = None
        self._lock = threading.Lock()
        self.stop = threading.Event()

    def start_sweeps(self) -> None:
        """Run the periodic sweeps in this (web) process; started by its first request, not by CLI commands."""
        with self._lock:
            if self._sweeper is not None:
                return
            interval = float(self.app.config.get("SWEEP_SECONDS", 15))
            enqueue_all = lambda: [self.enqueue(name, {}) for name in PERIODIC_TASKS]  # noqa: E731
            self._sweeper = threading.Thread(target=run_sweeps_forever, args=(enqueue_all, interval, self.stop),
                                             name="meldingen-sweeps", daemon=True)
            self._sweeper.start()

    def enqueue(self, name: str, kwargs: dict) -> None:
        self.pool.submit(run_task, self.app, name, kwargs)

    def enqueue_in(self, seconds: float, name: str, kwargs: dict) -> None:
        timer = threading.Timer(max(0.0, seconds), self.enqueue, args=(name, kwargs))
        timer.daemon = True
        timer.start()


class RQBackend:
    def __init__(self, app: Flask, url: str):
        from redis import Redis
        from rq import Queue

        self.app = app
        self.connection = Redis.from_url(url)
        self.queue = Queue("meldingen", connection=self.connection)

    def enqueue(self, name: str, kwargs: dict) -> None:
        self.queue.enqueue("meldingen.jobs.run_in_worker", name, kwargs, retry=rq_retry())

    def enqueue_in(self, seconds: float, name: str, kwargs: dict) -> None:
        from datetime import timedelta

        self.queue.enqueue_in(timedelta(seconds=seconds), "meldingen.jobs.run_in_worker", name, kwargs,
                              retry=rq_retry())


def rq_retry():
    """RQ retries a job whose task raised (a database that was briefly away); the durable sweeps remain the
    safety net for jobs RQ loses (a worker killed mid-job). Tasks claim their rows, so a retry never doubles."""
    from rq import Retry

    return Retry(max=3, interval=[1, 5, 30])


def init_app(app: Flask) -> None:
    backend_name = app.config.get("JOBS_BACKEND") or ("rq" if app.config.get("BROKER_URL") else "thread")
    app.extensions["meldingen_jobs_delayed"] = []
    if backend_name == "sync":
        backend = SyncBackend(app)
    elif backend_name == "rq":
        backend = RQBackend(app, app.config["BROKER_URL"])
    else:
        backend = ThreadBackend(app)
    app.extensions["meldingen_jobs"] = backend
    if isinstance(backend, ThreadBackend):
        app.before_request(lambda: backend.start_sweeps())
    # Task modules register session listeners when imported; import them now, not first inside a commit.
    _import_task_modules()


def enqueue(name: str, **kwargs) -> None:
    """Run a task in the background, after the current transaction has been committed by the caller."""
    current_app.extensions["meldingen_jobs"].enqueue(name, kwargs)


def enqueue_in(seconds: float, name: str, **kwargs) -> None:
    current_app.extensions["meldingen_jobs"].enqueue_in(seconds, name, kwargs)


def run_task(app: Flask, name: str, kwargs: dict, raise_errors: bool | None = None):
    """Run one task in its own app context and session; errors are logged, and raised into the caller only
    when `raise_errors` (default: config JOBS_RAISE, set in tests) says so."""
    from meldingen.extensions import db

    tasks = registered_tasks()
    func = tasks.get(name)
    if func is None:
        log.error("unknown task %s", name)
        return None
    with app.app_context():
        try:
            return func(**kwargs)
        except Exception:
            db.session.rollback()
            log.exception("task %s failed", name)
            if app.config.get("JOBS_RAISE") if raise_errors is None else raise_errors:
                raise
            return None
        finally:
            db.session.remove()


_worker_app: Flask | None = None


def run_in_worker(name: str, kwargs: dict):
    """Entry point for RQ workers: one app per worker process."""
    global _worker_app
    if _worker_app is None:
        from meldingen import create_app

        _worker_app = create_app()
    # Raised into RQ, so the job is marked failed and retried (see rq_retry).
    return run_task(_worker_app, name, kwargs, raise_errors=True)
