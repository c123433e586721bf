"""The backends that carry a task from `enqueue` to `run_task`, and the choice of one for an app.

Backends (config `JOBS_BACKEND`, chosen automatically when empty):
- "sync": run at once in the caller's thread (tests).
- "process": the embedded default: the web process hands its tasks to one child process, which runs them in a
  thread pool with timers and the sweeps (so acknowledgements never wait for the interpreter behind them).
- "thread": a small thread pool and timer inside the calling process (CLI commands; tests).
- "rq": RQ queues on `BROKER_URL`, run by `meldingen worker` (non-forking workers, one app per process);
  delayed work and the periodic sweeps are moved onto the queues by one scheduler (`jobs/scheduler.py`).

At scale, work of one kind waits only behind work of its own kind: each task runs on the queue of its domain
(`jobs.queue_for`), so a platform that hangs holds up replies, never the intake of other residents.

The child process of "process" needs an app of its own: the app factory and what the child does once its app is
up are given to `init_app` by the caller (the app factory itself), never imported here.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC
from typing import Any

from flask import Flask

from meldingen import jobs
from meldingen.jobs import BACKEND_EXTENSION, LEGACY_QUEUE, QUEUES, queue_for, run_task
from meldingen.jobs.slots import LocalSlots, RedisSlots
from meldingen.jobs.worker import lower_priority

log = logging.getLogger(__name__)

# The app factory as the child process calls it (config overrides → app), and the child's first work once its
# app is up (taking up the spool, loading the classifier). Both must be module-level functions: they are
# pickled by name into a spawned process.
AppFactory = Callable[[dict], Flask]
OnStart = Callable[[Flask], None]

# The function RQ jobs name (a durable contract: jobs queued by older versions name it too).
RQ_ENTRY = "meldingen.jobs.run_in_worker"
DELAYED_EXTENSION = "meldingen_jobs_delayed"


def run_sweeps_forever(enqueue_all: Callable[[], None], interval: float, stop: threading.Event) -> None:
    while not stop.wait(interval):
        try:
            enqueue_all()
        except Exception:  # a sweep must never kill the loop
            log.exception("periodic sweep failed")


class SyncBackend:
    def __init__(self, app: Flask):
        self.app = app
        self.slots = LocalSlots()

    def enqueue(self, name: str, kwargs: dict) -> None:
        run_task(self.app, name, kwargs)

    def enqueue_in(self, seconds: float, name: str, kwargs: dict) -> None:
        # Delayed work is run by the caller (tests call the due-work sweeps themselves).
        self.app.extensions[DELAYED_EXTENSION].append((seconds, name, kwargs))


# Threads per queue of the in-process backend: like the scaled layout's worker pools, a queue's work waits only
# behind its own kind, so sends hanging on an unreachable platform host never hold the thread the website chat's
# intake needs (one pool of four was filled by sends to three unreachable hosts: first replies took 14-17 s).
# Sends mostly wait on the network, and a hanging platform channel holds at most its send slots (3): 16 leave
# room for the others' replies (the website chat's among them) with four platforms hanging at once.
THREADS_PER_QUEUE = {"intake": 2, "replies": 16, "inbound": 2, "sweeps": 2}


class ThreadBackend:
    def __init__(self, app: Flask):
        self.app = app
        self.slots = LocalSlots()
        self.pools = {queue: ThreadPoolExecutor(max_workers=THREADS_PER_QUEUE.get(queue, 2),
                                                thread_name_prefix=f"meldingen-{queue}")
                      for queue in jobs.QUEUES}
        self._sweeper: threading.Thread | None = None
        self._lock = threading.Lock()
        self.stop = threading.Event()

    def start_sweeps(self) -> None:
        """Run the periodic sweeps in this (web) process; started by its first request, not by CLI commands."""
        with self._lock:
            if self._sweeper is not None:
                return
            interval = float(self.app.config.get("SWEEP_SECONDS", 15))

            def enqueue_all() -> None:
                for name in jobs.PERIODIC_TASKS:
                    self.enqueue(name, {})

            self._sweeper = threading.Thread(target=run_sweeps_forever, args=(enqueue_all, interval, self.stop),
                                             name="meldingen-sweeps", daemon=True)
            self._sweeper.start()

    def enqueue(self, name: str, kwargs: dict) -> None:
        try:
            self.pools[jobs.queue_for(name)].submit(run_task, self.app, name, kwargs)
        except RuntimeError:  # shut down (a timer fired late): the work is durable, a later process's sweeps do it
            log.info("task %s not run: the background threads are shut down", name)

    def shutdown(self) -> None:
        for pool in self.pools.values():
            pool.shutdown(wait=True, cancel_futures=True)

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

    def __init__(self, app: Flask, overrides: dict, app_factory: AppFactory, on_start: OnStart | None = None):
        self.app = app
        self.slots = LocalSlots()
        self.overrides = overrides
        self.app_factory = app_factory
        self.on_start = on_start
        self.stop = threading.Event()
        self.serving = False
        self._lock = threading.Lock()
        self._child: Any = None  # a spawned multiprocessing.Process, and its queue of tasks
        self._queue: Any = None
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
            self._child = context.Process(target=background_main,
                                          args=(self._queue, self.app_factory, self.overrides, self.on_start,
                                                os.getpid()),
                                          name="meldingen-background", daemon=True)
            self._child.start()

    def _in_threads(self) -> ThreadBackend:
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


def background_main(queue, app_factory: AppFactory, overrides: dict, on_start: OnStart | None,
                    parent_pid: int) -> None:
    """The child of `ProcessBackend`: an app of its own (made by `app_factory`), its tasks in threads, until told
    or orphaned. `on_start` runs once the sweeps are going (the entry layer's: take up the spool, warm up)."""
    from queue import Empty

    # Not the parent-death signal: Linux sends it when the *thread* that started the child ends, and a
    # development server's request threads end after each request. The parent is looked for every half second.
    # The classifier is loaded by `on_start`, once this process runs at its lower priority (not by the factory).
    app = app_factory({**overrides, "JOBS_BACKEND": "thread", "CLASSIFIER_PRELOAD": False})
    lower_priority(int(app.config.get("WORKER_NICE", 10)))  # the web process answers first when cores are busy
    backend = app.extensions[BACKEND_EXTENSION]
    backend.start_sweeps()
    if on_start is not None:
        try:
            on_start(app)
        except Exception:  # the work still runs; what on_start prepares comes later or at first use
            log.exception("background process: start-up work failed")
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
    backend.shutdown()


class RQBackend:
    def __init__(self, app: Flask, url: str):
        from redis import Redis
        from rq import Queue

        self.app = app
        self.connection = Redis.from_url(url)
        self.slots = RedisSlots(self.connection)
        self.queues = {name: Queue(name, connection=self.connection) for name in QUEUES}

    def enqueue(self, name: str, kwargs: dict) -> None:
        self.queues[queue_for(name)].enqueue(RQ_ENTRY, name, kwargs, retry=rq_retry())

    def enqueue_in(self, seconds: float, name: str, kwargs: dict) -> None:
        schedule_precisely(self.queues[queue_for(name)], max(0.0, seconds), RQ_ENTRY, (name, kwargs))


def schedule_precisely(queue, seconds: float, func: str, args: tuple):
    """Hold a job in the queue's scheduled registry until its time, to the millisecond.

    RQ scores a scheduled job by whole seconds (it truncates), so a timer could come up to a second early; the
    intake then found the quiet period not over and left the resident to the next sweep (11-15 s for a
    reference). The score here is the exact due time; `jobs/scheduler.py` moves it when it is reached.
    """
    from datetime import datetime, timedelta

    from rq.registry import ScheduledJobRegistry

    due = datetime.now(UTC) + timedelta(seconds=seconds)
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


def init_app(app: Flask, app_factory: AppFactory, on_start: OnStart | None = None) -> None:
    """Give the app its backend (`JOBS_BACKEND`, else RQ with a `BROKER_URL`, else the background process).

    `app_factory` and `on_start` are what the background process of the embedded default runs (see
    `background_main`); the caller passes them, so nothing here depends on the app or its domain."""
    backend_name = app.config.get("JOBS_BACKEND") or ("rq" if app.config.get("BROKER_URL") else "process")
    app.extensions[DELAYED_EXTENSION] = []
    backend: SyncBackend | RQBackend | ThreadBackend | ProcessBackend
    if backend_name == "sync":
        backend = SyncBackend(app)
    elif backend_name == "rq":
        backend = RQBackend(app, app.config["BROKER_URL"])
    elif backend_name == "thread":
        backend = ThreadBackend(app)
    else:
        backend = ProcessBackend(app, overrides=app.extensions.get("meldingen_config_overrides", {}),
                                 app_factory=app_factory, on_start=on_start)
    app.extensions[BACKEND_EXTENSION] = backend
    if isinstance(backend, (ThreadBackend, ProcessBackend)):
        sweeping = backend
        app.before_request(lambda: sweeping.start_sweeps())


def queue_stats(connection) -> dict:
    """Per queue: jobs waiting, the age of the oldest waiting one, delayed, running and failed (for monitoring)."""
    from datetime import datetime

    from rq import Queue
    from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

    stats = {}
    now = datetime.now(UTC)
    for name in (*QUEUES, LEGACY_QUEUE):
        queue = Queue(name, connection=connection)
        oldest_age = None
        first = queue.get_job_ids(0, 1)
        if first:
            job = queue.fetch_job(first[0])
            if job is not None and job.enqueued_at is not None:
                enqueued = job.enqueued_at if job.enqueued_at.tzinfo else job.enqueued_at.replace(tzinfo=UTC)
                oldest_age = round(max(0.0, (now - enqueued).total_seconds()), 3)
        stats[name] = {
            "queued": queue.count,
            "oldest_queued_seconds": oldest_age,
            "delayed": ScheduledJobRegistry(name, connection=connection).count,
            "running": StartedJobRegistry(name, connection=connection).count,
            "failed": FailedJobRegistry(name, connection=connection).count,
        }
    return stats
