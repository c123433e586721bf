"""The one scheduler of a deployment on RQ: moves delayed jobs onto their queues on time and enqueues the sweeps.

RQ's own scheduler lives inside a worker and looks once a second, and a worker that holds its lock while busy can
let timers slip; a resident then waits seconds beyond the quiet period for the reference. This loop looks every
`SCHEDULER_INTERVAL` seconds (0.1 by default) with RQ's own registries and locks: any number may run (one in each
`meldingen worker`, or `meldingen scheduler` on its own), Redis locks make exactly one active, the others stand
by and take over within LOCK_SECONDS (10 s) when the active one's lock lapses.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

# How long the active scheduler's locks live without renewal (a standby takes over within this), and how often
# they are renewed.
LOCK_SECONDS = 10
HEARTBEAT_SECONDS = 2.0


class Scheduler:
    def __init__(self, url: str, *, interval: float = 0.1, sweep_seconds: float = 15.0,
                 queue_names: tuple[str, ...] | None = None):
        from redis import Redis
        from rq.scheduler import RQScheduler

        from meldingen.jobs import LEGACY_QUEUE, QUEUES

        self.connection = Redis.from_url(url)
        names = queue_names or (*QUEUES, LEGACY_QUEUE)
        self.rq = RQScheduler(list(names), connection=self.connection, interval=1, logging_level=logging.WARNING)
        # RQ's `interval` is used here only for its locks' lifetime, which RQ makes `interval + 60` seconds: a
        # scheduler killed with its worker left every timer waiting a minute for the lock to lapse. The locks
        # live LOCK_SECONDS and are renewed every HEARTBEAT_SECONDS; this loop keeps its own interval.
        self.rq.interval = LOCK_SECONDS - 60
        self.interval = interval
        self.sweep_seconds = sweep_seconds
        self.queue_names = set(names)

    @property
    def active(self) -> bool:
        return bool(self.rq.acquired_locks)

    def tick(self, now: float, state: dict) -> None:
        """One round: (re)take the locks now and then, move due jobs, heartbeat, sweeps when due."""
        if self.rq.acquired_locks != self.queue_names and now >= state.get("next_lock_try", 0.0):
            self.rq.acquire_locks()
            state["next_lock_try"] = now + 1.0
        if not self.rq.acquired_locks:
            return
        self.enqueue_due_jobs(time.time())
        if now >= state.get("next_heartbeat", 0.0):
            self.rq.heartbeat()
            state["next_heartbeat"] = now + HEARTBEAT_SECONDS
        if "sweeps" in self.rq.acquired_locks and now >= state.get("next_sweep", 0.0):
            enqueue_sweeps(self.connection)
            state["next_sweep"] = now + self.sweep_seconds

    def enqueue_due_jobs(self, timestamp: float) -> int:
        """Move every scheduled job whose due time (to the millisecond) has come onto its queue.

        RQ's own `enqueue_scheduled_jobs` compares with whole seconds and would hold a job up to a second late."""
        from rq import Queue
        from rq.job import Job
        from rq.registry import ScheduledJobRegistry

        moved = 0
        for name in self.rq.acquired_locks:
            registry = ScheduledJobRegistry(name, connection=self.connection)
            job_ids = registry.get_jobs_to_schedule(timestamp)
            if not job_ids:
                continue
            queue = Queue(name, connection=self.connection)
            with self.connection.pipeline() as pipe:
                for job_id, job in zip(job_ids, Job.fetch_many(job_ids, connection=self.connection)):
                    if job is not None:
                        queue._enqueue_job(job, pipeline=pipe, at_front=job.should_enqueue_at_front())
                        moved += 1
                    registry.remove(job_id, pipeline=pipe)
                pipe.execute()
        return moved

    def run(self, stop: threading.Event) -> None:
        state: dict = {}
        self.rq.register_birth()
        try:
            while not stop.is_set():
                try:
                    self.tick(time.monotonic(), state)
                except Exception:  # Redis away for a moment: keep trying, never die
                    log.exception("scheduler round failed")
                    stop.wait(1.0)
                    continue
                stop.wait(self.interval if self.active else 1.0)
        finally:
            try:
                self.rq.release_locks()
                self.rq.register_death()
            except Exception:
                log.warning("scheduler could not release its locks; they lapse within %s s", LOCK_SECONDS)


def enqueue_sweeps(connection) -> None:
    from rq import Queue

    from meldingen.jobs import PERIODIC_TASKS, queue_for

    for name in PERIODIC_TASKS:
        Queue(queue_for(name), connection=connection).enqueue("meldingen.jobs.run_in_worker", name, {})


def run_in_thread(make: Callable[[], Scheduler], stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=lambda: make().run(stop), name="meldingen-scheduler", daemon=True)
    thread.start()
    return thread
