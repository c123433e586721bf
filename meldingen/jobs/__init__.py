"""Background work behind one small interface: inline in the web process by default, RQ on Redis at scale.

Callers name a task and pass JSON-able arguments: `enqueue("media.fetch", photo_ref=...)`, or
`enqueue_in(seconds, ...)` for work that waits (the intake's quiet period); `after_commit(name, ...)` for work on
rows the caller's transaction writes (`jobs/on_commit.py`). Tasks are registered with
`@task("name")` and always run inside an app context with a fresh session.

Backends (config `JOBS_BACKEND`, chosen automatically when empty):
- "sync": run at once in the caller's thread (tests).
- "process": the embedded default: the web process hands its tasks to one child process, which runs them in a
  thread pool with timers and the sweeps (so acknowledgements never wait for the interpreter behind them).
- "thread": a small thread pool and timer inside the calling process (CLI commands; tests).
- "rq": RQ queues on `BROKER_URL`, run by `meldingen worker` (non-forking workers, one app per process);
  delayed work and the periodic sweeps are moved onto the queues by one scheduler (`jobs/scheduler.py`).

At scale, work of one kind waits only behind work of its own kind: each task runs on the queue of its domain
(`queue_for`), so a platform that hangs holds up replies, never the intake of other residents.
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from flask import Flask, current_app

from meldingen.jobs.on_commit import after_commit  # noqa: F401  (work handed over once the caller commits)

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
    "meldingen.open311.media",
    "meldingen.privacy.tasks",
]


def _import_task_modules() -> None:
    from meldingen.plugins import import_optional

    for module_name in TASK_MODULES:
        import_optional(module_name)


# Sweeps that pick up due work whose timer was lost (a restart, a crashed worker): task name → run every
# SWEEP_SECONDS. They are idempotent: each claims its rows atomically.
PERIODIC_TASKS = ["channels.import_spool", "channels.process_due", "notify.send_due", "intake.act_due",
                  "privacy.retention"]

# Queues, most urgent first: a worker listening on several takes from the first non-empty one.
# "intake": quiet-period timers (a resident waits for the reference); "replies": messages out (a slow platform
# waits here); "inbound": stored webhook events and their media downloads; "sweeps": the periodic sweeps.
QUEUES = ("intake", "replies", "inbound", "sweeps")
DOMAIN_QUEUES = {"intake": "intake", "notify": "replies", "channels": "inbound", "media": "inbound"}
# The single queue of earlier versions: still drained, so work queued before an upgrade is not stranded.
LEGACY_QUEUE = "meldingen"


def queue_for(task_name: str) -> str:
    """The queue a task runs on: the sweeps on their own, the rest by the domain before the first dot."""
    if task_name in PERIODIC_TASKS:
        return "sweeps"
    return DOMAIN_QUEUES.get(task_name.split(".", 1)[0], "inbound")


def run_sweeps_forever(enqueue_all: Callable[[], None], interval: float, stop: threading.Event) -> None:
    while not stop.wait(interval):
        try:
            enqueue_all()
        except Exception:  # a sweep must never kill the loop
            log.exception("periodic sweep failed")


class SyncBackend:
    def __init__(self, app: Flask):
        from meldingen.jobs.slots import LocalSlots

        self.app = app
        self.slots = LocalSlots()

    def enqueue(self, name: str, kwargs: dict) -> None:
        run_task(self.app, name, kwargs)

    def enqueue_in(self, seconds: float, name: str, kwargs: dict) -> None:
        # Delayed work is run by the caller (tests call the due-work sweeps themselves).
        self.app.extensions["meldingen_jobs_delayed"].append((seconds, name, kwargs))


class ThreadBackend:
    def __init__(self, app: Flask, workers: int = 4):
        from meldingen.jobs.slots import LocalSlots

        self.app = app
        self.slots = LocalSlots()
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


class ProcessBackend:
    """The embedded default: the background work runs in one child process of the web process.

    A web process that also classified, routed and sent in its own threads made residents' webhooks wait for the
    interpreter lock behind that work (acknowledgements of 0.4 s at 100 requests a second). Here the web process
    only stores and acknowledges; it hands each task to its child, which runs them in a `ThreadBackend` of its
    own (timers, the periodic sweeps, per-platform send slots) on the same database. The child is started by the
    first request and again whenever it is found dead; it ends with the web process (however that ends). What
    was handed to a child that died is durable in the database and taken up by the next one's sweeps.

    Outside a web server (CLI commands, which make an app, enqueue and exit) the work runs in threads, as before.
    """

    def __init__(self, app: Flask, overrides: dict):
        from meldingen.jobs.slots import LocalSlots

        self.app = app
        self.slots = LocalSlots()
        self.overrides = overrides
        self.stop = threading.Event()
        self.serving = False
        self._lock = threading.Lock()
        self._child = None
        self._queue = None
        self._threads: ThreadBackend | None = None

    def start_sweeps(self) -> None:
        """Called before each request: the first one starts the child (which runs the sweeps)."""
        if not self.serving:
            self.serving = True
        self._ensure_child()

    def _ensure_child(self) -> None:
        if self._child is not None and self._child.is_alive():
            return
        import multiprocessing

        with self._lock:
            if self.stop.is_set() or (self._child is not None and self._child.is_alive()):
                return
            if self._child is not None:
                log.warning("background process %s ended (exit %s); starting another", self._child.pid,
                            self._child.exitcode)
            context = multiprocessing.get_context("spawn")  # a fork of a threaded server could inherit a lock
            self._queue = context.Queue()
            self._child = context.Process(target=background_main, args=(self._queue, self.overrides, os.getpid()),
                                          name="meldingen-background", daemon=True)
            self._child.start()

    def _in_threads(self) -> "ThreadBackend":
        if self._threads is None:
            self._threads = ThreadBackend(self.app)
        return self._threads

    def enqueue(self, name: str, kwargs: dict) -> None:
        self.enqueue_in(0.0, name, kwargs)

    def enqueue_in(self, seconds: float, name: str, kwargs: dict) -> None:
        if not self.serving:
            backend = self._in_threads()
            backend.enqueue(name, kwargs) if seconds <= 0 else backend.enqueue_in(seconds, name, kwargs)
            return
        self._ensure_child()
        if self._queue is not None:
            self._queue.put((max(0.0, seconds), name, kwargs))

    def close(self, timeout: float = 5.0) -> None:
        """Stop the child (it finishes the task at hand within `timeout`, else it is ended)."""
        self.stop.set()
        child, queue = self._child, self._queue
        if child is None:
            return
        if child.is_alive() and queue is not None:
            try:
                queue.put(None)
            except (OSError, ValueError):
                pass
            child.join(timeout)
        if child.is_alive():
            child.terminate()
            child.join(timeout)
        if queue is not None:
            queue.close()
            queue.join_thread()


def background_main(queue, overrides: dict, parent_pid: int) -> None:
    """The child of `ProcessBackend`: an app of its own, its tasks in threads, until told or orphaned."""
    from queue import Empty

    # Not the parent-death signal: Linux sends it when the *thread* that started the child ends, and a
    # development server's request threads end after each request. The parent is looked for every half second.
    from meldingen import create_app

    app = create_app({**overrides, "JOBS_BACKEND": "thread"})
    from meldingen.jobs.worker import lower_priority

    lower_priority(int(app.config.get("WORKER_NICE", 10)))  # the web process answers first when cores are busy
    backend = app.extensions["meldingen_jobs"]
    backend.start_sweeps()
    backend.enqueue("channels.import_spool", {})  # deliveries a previous process acknowledged and left
    with app.app_context():
        try:
            from meldingen.classify.services import get_classifier

            get_classifier()  # before the first resident's report, not during it
        except Exception:
            log.exception("background process: classifier not loaded")
    while True:
        try:
            item = queue.get(timeout=0.5)
        except Empty:
            if os.getppid() != parent_pid:
                # The web process is gone: so is this one, at once. Work in flight was claimed with a lease in
                # the database; the next web process's child takes it up.
                os._exit(0)
            continue
        except (EOFError, OSError):
            os._exit(0)
        if item is None:
            break
        seconds, name, kwargs = item
        if seconds > 0:
            backend.enqueue_in(seconds, name, kwargs)
        else:
            backend.enqueue(name, kwargs)
    backend.stop.set()
    backend.pool.shutdown(wait=True, cancel_futures=True)


class RQBackend:
    def __init__(self, app: Flask, url: str):
        from redis import Redis
        from rq import Queue

        from meldingen.jobs.slots import RedisSlots

        self.app = app
        self.connection = Redis.from_url(url)
        self.slots = RedisSlots(self.connection)
        self.queues = {name: Queue(name, connection=self.connection) for name in QUEUES}

    def enqueue(self, name: str, kwargs: dict) -> None:
        self.queues[queue_for(name)].enqueue("meldingen.jobs.run_in_worker", name, kwargs, retry=rq_retry())

    def enqueue_in(self, seconds: float, name: str, kwargs: dict) -> None:
        schedule_precisely(self.queues[queue_for(name)], max(0.0, seconds), "meldingen.jobs.run_in_worker",
                           (name, kwargs))


def schedule_precisely(queue, seconds: float, func: str, args: tuple):
    """Hold a job in the queue's scheduled registry until its time, to the millisecond.

    RQ scores a scheduled job by whole seconds (it truncates), so a timer could come up to a second early; the
    intake then found the quiet period not over and left the resident to the next sweep (11-15 s for a
    reference). The score here is the exact due time; `jobs/scheduler.py` moves it when it is reached.
    """
    from datetime import datetime, timedelta, timezone

    from rq.registry import ScheduledJobRegistry

    due = datetime.now(timezone.utc) + timedelta(seconds=seconds)
    job = queue.create_job(func, args=args, retry=rq_retry())
    with queue.connection.pipeline() as pipe:
        queue.schedule_job(job, due, pipeline=pipe)
        pipe.zadd(ScheduledJobRegistry(queue=queue).key, {job.id: due.timestamp()})
        pipe.execute()
    return job


def rq_retry():
    """RQ retries a job whose task raised (a database that was briefly away); the durable sweeps remain the
    safety net for jobs RQ loses (a worker killed mid-job). Tasks claim their rows, so a retry never doubles."""
    from rq import Retry

    return Retry(max=3, interval=[1, 5, 30])


def init_app(app: Flask) -> None:
    backend_name = app.config.get("JOBS_BACKEND") or ("rq" if app.config.get("BROKER_URL") else "process")
    app.extensions["meldingen_jobs_delayed"] = []
    if backend_name == "sync":
        backend = SyncBackend(app)
    elif backend_name == "rq":
        backend = RQBackend(app, app.config["BROKER_URL"])
    elif backend_name == "thread":
        backend = ThreadBackend(app)
    else:
        backend = ProcessBackend(app, overrides=app.extensions.get("meldingen_config_overrides", {}))
    app.extensions["meldingen_jobs"] = backend
    if isinstance(backend, (ThreadBackend, ProcessBackend)):
        app.before_request(lambda: backend.start_sweeps())
    # Task modules register session listeners when imported; import them now, not first inside a commit.
    _import_task_modules()


def enqueue(name: str, **kwargs) -> None:
    """Run a task in the background, after the current transaction has been committed by the caller."""
    current_app.extensions["meldingen_jobs"].enqueue(name, kwargs)


def enqueue_in(seconds: float, name: str, **kwargs) -> None:
    current_app.extensions["meldingen_jobs"].enqueue_in(seconds, name, kwargs)


def concurrency_slot(key: str, limit: int | None, lease_seconds: float):
    """`with concurrency_slot(key, limit, lease) as free:` at most `limit` holders of `key` at once, across every
    worker that shares this deployment's job backend (see `jobs/slots.py`); `free` is False when all are taken."""
    from meldingen.jobs.slots import slot

    return slot(current_app.extensions["meldingen_jobs"].slots, key, limit, lease_seconds)


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


def worker_app() -> Flask:
    """The one app of a worker process, made at its first use."""
    global _worker_app
    if _worker_app is None:
        from meldingen import create_app

        _worker_app = create_app()
    return _worker_app


def warm_up_worker(classifier: bool = True) -> None:
    """Make the app and load the classifier before the first job, so the first resident does not wait for it."""
    app = worker_app()
    if not classifier:
        return
    with app.app_context():
        try:
            from meldingen.classify.services import get_classifier

            get_classifier()
        except Exception:  # a worker without a model still sends replies and fetches photos
            log.exception("worker warm-up: classifier not loaded")


def run_in_worker(name: str, kwargs: dict):
    """Entry point for RQ workers: one app per worker process."""
    # Raised into RQ, so the job is marked failed and retried (see rq_retry).
    return run_task(worker_app(), name, kwargs, raise_errors=True)


def queue_stats(connection) -> dict:
    """Per queue: jobs waiting, the age of the oldest waiting one, delayed, running and failed (for monitoring)."""
    from datetime import datetime, timezone

    from rq import Queue
    from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

    stats = {}
    now = datetime.now(timezone.utc)
    for name in (*QUEUES, LEGACY_QUEUE):
        queue = Queue(name, connection=connection)
        oldest_age = None
        first = queue.get_job_ids(0, 1)
        if first:
            job = queue.fetch_job(first[0])
            if job is not None and job.enqueued_at is not None:
                enqueued = job.enqueued_at if job.enqueued_at.tzinfo else job.enqueued_at.replace(tzinfo=timezone.utc)
                oldest_age = round(max(0.0, (now - enqueued).total_seconds()), 3)
        stats[name] = {
            "queued": queue.count,
            "oldest_queued_seconds": oldest_age,
            "delayed": ScheduledJobRegistry(name, connection=connection).count,
            "running": StartedJobRegistry(name, connection=connection).count,
            "failed": FailedJobRegistry(name, connection=connection).count,
        }
    return stats
