"""The seam of background work: a task is a name, its arguments are JSON, and the app knows which function runs it.

Callers name a task and pass JSON-able arguments: `enqueue("notify.send", message_id=...)`, or
`enqueue_in(seconds, ...)` for work that waits (the intake's quiet period), or `after_commit(name, ...)` for work
on rows the caller's transaction writes (`jobs/on_commit.py`: handed over once the outermost transaction commits,
dropped on rollback). Task names are the durable contract in the queues (jobs of an older version still carry
them), so a name is never renamed.

This module decides three things and nothing more:
- The task table of an app: `register_tasks(app, {name: function})`, called once by the app factory with the
  table in `meldingen/tasks.py`. A name that does not resolve fails loudly (`UnknownTask`), at `enqueue` in the
  caller and again in the worker, so no work is ever marked done that did not run.
- Where a task runs: the queue of its domain (`queue_for`), so work of one kind waits only behind its own kind.
- How one task runs (`run_task`): in its own app context and session, errors logged (and raised where asked).

The backends that carry tasks from `enqueue` to `run_task` (in the caller, threads, a child process, RQ) live in
`jobs/backends.py`; making an app for a worker process is the entry layer's (`meldingen/worker.py`). Nothing
under `jobs/` imports the app factory or a domain package.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, current_app

from meldingen.jobs.on_commit import after_commit  # noqa: F401  (work handed over once the caller commits)

log = logging.getLogger(__name__)

# Where an app keeps the factory that made it (`meldingen.create_app`): processes of the app's own (RQ workers)
# make their apps with it, so nothing below the entry layer imports the factory.
APP_FACTORY = "meldingen_app_factory"

# Where the app keeps its task table and its backend.
TASKS_EXTENSION = "meldingen_tasks"
BACKEND_EXTENSION = "meldingen_jobs"

# Sweeps that pick up due work whose timer was lost (a restart, a crashed worker): task name → run every
# SWEEP_SECONDS. They are idempotent: each claims its rows atomically.
PERIODIC_TASKS = ["channels.import_spool", "channels.process_due", "channels.poll", "notify.send_due",
                  "intake.act_due", "privacy.retention", "subscriptions.deliver_due"]

# Queues, most urgent first: a worker listening on several takes from the first non-empty one.
# "intake": quiet-period timers (a resident waits for the reference); "replies": messages out (a slow platform
# waits here); "inbound": stored webhook events and their media downloads; "sweeps": the periodic sweeps.
# Report events to subscribed systems are messages out too ("replies"), at most two sends at once (subscriptions/).
QUEUES = ("intake", "replies", "inbound", "sweeps")
DOMAIN_QUEUES = {"intake": "intake", "notify": "replies", "channels": "inbound", "media": "inbound",
                 "subscriptions": "replies"}
# The single queue of earlier versions: still drained, so work queued before an upgrade is not stranded.
LEGACY_QUEUE = "meldingen"


class UnknownTask(LookupError):
    """A task name that no function of this app answers to: the work is not done, and must not look done."""

    def __init__(self, name: str):
        super().__init__(f"unknown task {name}")
        self.name = name


def register_tasks(app: Flask, tasks: Mapping[str, Callable[..., Any]]) -> None:
    """Add named task functions to the app's table; a name already taken by another function is refused."""
    table: dict[str, Callable[..., Any]] = app.extensions.setdefault(TASKS_EXTENSION, {})
    for name, func in tasks.items():
        if table.get(name, func) is not func:
            raise ValueError(f"task {name} is already registered to {table[name]!r}")
        table[name] = func


def registered_tasks(app: Flask | None = None) -> dict[str, Callable[..., Any]]:
    """The app's task table (the current app's by default), name → function."""
    return dict((app if app is not None else current_app).extensions.get(TASKS_EXTENSION, {}))


def task_function(app: Flask, name: str) -> Callable[..., Any]:
    """The function that runs the named task in this app, or UnknownTask."""
    func = app.extensions.get(TASKS_EXTENSION, {}).get(name)
    if func is None:
        raise UnknownTask(name)
    return func


def queue_for(task_name: str) -> str:
    """The queue a task runs on: the sweeps on their own, the rest by the domain before the first dot."""
    if task_name in PERIODIC_TASKS:
        return "sweeps"
    return DOMAIN_QUEUES.get(task_name.split(".", 1)[0], "inbound")


def enqueue(name: str, **kwargs: Any) -> None:
    """Run a task in the background, after the current transaction has been committed by the caller.
    A name this app has no task for raises UnknownTask here, in the caller."""
    task_function(current_app, name)
    current_app.extensions[BACKEND_EXTENSION].enqueue(name, kwargs)


def enqueue_in(seconds: float, name: str, **kwargs: Any) -> None:
    """Run a task in the background after `seconds` (timers; delayed retries). Unknown names raise as in enqueue."""
    task_function(current_app, name)
    current_app.extensions[BACKEND_EXTENSION].enqueue_in(seconds, name, kwargs)


def concurrency_slot(key: str, limit: int | None, lease_seconds: float):
    """`with concurrency_slot(key, limit, lease) as free:` at most `limit` holders of `key` at once, across every
    worker that shares this deployment's job backend (see `jobs/slots.py`); `free` is False when all are taken."""
    from meldingen.jobs.slots import slot

    return slot(current_app.extensions[BACKEND_EXTENSION].slots, key, limit, lease_seconds)


def run_task(app: Flask, name: str, kwargs: dict, raise_errors: bool | None = None) -> Any:
    """Run one task in its own app context and session; errors are logged, and raised into the caller only
    when `raise_errors` (default: config JOBS_RAISE, set in tests) says so.

    An unknown name is always raised (after it is logged): a queue's job for it fails rather than finishes."""
    from meldingen.extensions import db

    try:
        func = task_function(app, name)
    except UnknownTask:
        log.error("unknown task %s", name)
        raise
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


# The one app of a worker process, installed by the entry layer that made it (`meldingen/worker.py`).
_worker_app: Flask | None = None


def install_worker_app(app: Flask) -> None:
    """Make `app` the one this process runs queued jobs in (`run_in_worker`)."""
    global _worker_app
    _worker_app = app


def run_in_worker(name: str, kwargs: dict) -> Any:
    """Entry point of RQ jobs (queued as "meldingen.jobs.run_in_worker": keep this name): the task in the
    worker's app, its errors raised into RQ, so the job is marked failed and retried (see backends.rq_retry)."""
    if _worker_app is None:
        raise RuntimeError("no worker app in this process: run queued jobs with `meldingen worker`")
    return run_task(_worker_app, name, kwargs, raise_errors=True)
