"""The worker processes behind `meldingen worker`: long-lived processes on the RQ queues, no process forked per job.

RQ's default worker forks a child for every job, and each child builds the application again (about 100 ms a
job). Here each process is an RQ `SimpleWorker` that runs jobs in itself with one application it keeps, and
`--processes N` starts N of them (started with `spawn`, so none inherits a connection or a lock; each ends with
its parent), restarts one that dies, and passes SIGTERM on so each finishes its job first. One process (the
default) works in `meldingen worker` itself. A job that hangs on a slow platform holds up one
process; the others go on, and work on other queues never waits behind it.

Each process first calls the `prepare` it was given (the entry layer's `meldingen.worker.prepare_worker_process`:
make the app, install it for `jobs.run_in_worker`, load the classifier): nothing here makes an app itself.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

# Called once in each worker process with its queue names, before the first job (a module-level function: it is
# pickled by name into spawned processes).
Prepare = Callable[[list[str]], None]


def lower_priority(nice: int) -> None:
    """Run at this niceness (never raising it back): when the cores are busy, the web processes that answer
    webhooks and staff get them first, and background work takes what is left (Unix; elsewhere a no-op)."""
    try:
        if nice > os.getpriority(os.PRIO_PROCESS, 0):
            os.setpriority(os.PRIO_PROCESS, 0, min(19, nice))
    except (AttributeError, OSError):
        pass


def work(url: str, queue_names: list[str], prepare: Prepare, burst: bool = False, child: bool = False,
         nice: int = 0) -> None:
    """One worker process: take jobs from the named queues, most urgent first, until told to stop."""
    if child:
        die_with_parent()
    lower_priority(nice)
    from redis import Redis
    from rq import Queue, SimpleWorker

    prepare(queue_names)
    connection = Redis.from_url(url)
    queues = [Queue(name, connection=connection) for name in queue_names]
    worker = SimpleWorker(queues, connection=connection)
    worker.work(burst=burst, with_scheduler=False, logging_level="WARNING")


def die_with_parent() -> None:
    """A worker process started by the pool ends when the pool's process ends, however it ends (SIGKILL
    included): no orphan keeps taking jobs that a supervisor believes stopped (Linux; elsewhere a no-op)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Pool:
    """N worker processes, kept at N until stopped."""

    def __init__(self, url: str, queue_names: list[str], processes: int, prepare: Prepare, burst: bool = False,
                 nice: int = 0):
        self.url = url
        self.prepare = prepare
        self.nice = nice
        self.queue_names = queue_names
        self.size = max(1, processes)
        self.burst = burst
        self.context = multiprocessing.get_context("spawn")
        self.children: list = []
        self.stopping = threading.Event()

    def _start_one(self):
        child = self.context.Process(target=work,
                                     args=(self.url, self.queue_names, self.prepare, self.burst, True, self.nice),
                                     name="meldingen-worker", daemon=False)
        child.start()
        return child

    def stop(self, *_args) -> None:
        self.stopping.set()
        for child in self.children:
            if child.is_alive():
                os.kill(child.pid, signal.SIGTERM)  # RQ's warm shutdown: finish the job at hand

    def run(self) -> None:
        if self.size == 1:
            # One worker: in this process, so that stopping or killing `meldingen worker` stops the work itself.
            work(self.url, self.queue_names, self.prepare, self.burst, nice=self.nice)
            return
        self.children = [self._start_one() for _ in range(self.size)]
        while True:
            for index, child in enumerate(self.children):
                if not child.is_alive() and not self.stopping.is_set() and not self.burst:
                    log.warning("worker process %s ended (exit %s); starting another", child.pid, child.exitcode)
                    self.children[index] = self._start_one()
            if self.stopping.is_set() or self.burst:
                if not any(child.is_alive() for child in self.children):
                    return
            time.sleep(0.5)
