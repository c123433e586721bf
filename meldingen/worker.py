"""The worker entry: the apps of background processes, and the commands of the job queue (`meldingen worker`,
`meldingen scheduler`, `meldingen jobs status`).

`jobs/` carries tasks but never makes an app: an RQ worker process gets its app from
`prepare_worker_process` (given to `jobs.worker.Pool` with the factory that made the command's app), and the embedded background process of a web process is
made by the app factory with `start_background_process` as its first work (given to `jobs.backends.init_app` by
`create_app`). Both warm the classifier here, before the first resident's report rather than during it.
"""

from __future__ import annotations

import functools
import json
import logging
import signal
import threading
from collections.abc import Callable

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from meldingen import jobs
from meldingen.jobs import APP_FACTORY

log = logging.getLogger(__name__)

# Only the intake and inbound events classify; a worker for replies needs no model in memory.
CLASSIFYING_QUEUES = {"intake", "inbound", jobs.LEGACY_QUEUE}


def warm_up(app: Flask) -> None:
    """Load the classifier now, so the first resident does not wait for it (a worker without a model still sends
    replies and fetches photos)."""
    from meldingen.classify.services import prepare_model

    prepare_model(app)  # made first when missing (one process of several, the others wait and load it)


def prepare_worker_process(queue_names: list[str], app_factory: Callable[[], Flask]) -> None:
    """In each `meldingen worker` process, before its first job: its one app (made by the factory the app that
    started the pool was made by), installed for `jobs.run_in_worker`."""
    app = app_factory()
    jobs.install_worker_app(app)
    if CLASSIFYING_QUEUES & set(queue_names):
        warm_up(app)


def start_background_process(app: Flask) -> None:
    """The first work of the embedded background process: what its dead predecessor held (claimed events, sends
    in flight) taken up at once rather than after their leases, deliveries a previous process acknowledged and
    left in the inbox spool, then the classifier. The embedded layout has one background process, so nothing
    it takes over is still in anyone's hands."""
    from meldingen.channels.tasks import take_over_claims
    from meldingen.notify.tasks import take_over_sends

    with app.app_context():
        try:
            take_over_claims()
            take_over_sends()
        except Exception:  # the sweeps take them up when their leases run out
            log.exception("taking over the previous process's work failed")
        jobs.enqueue("channels.import_spool")
        jobs.enqueue("channels.process_due")
        jobs.enqueue("notify.send_due")
    warm_up(app)


def _broker_url() -> str:
    url = current_app.config.get("BROKER_URL")
    if not url:
        raise click.ClickException("MELDINGEN_BROKER_URL is not set; without it background work runs in the web process")
    return url


def _queue_names(value: str | None) -> list[str]:
    known = [*jobs.QUEUES, jobs.LEGACY_QUEUE]
    if not value:
        return known
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise click.BadParameter(f"unknown queue {', '.join(unknown)}; the queues are {', '.join(jobs.QUEUES)}",
                                 param_hint="--queues")
    return names


def _make_scheduler(url: str):
    from meldingen.jobs.scheduler import Scheduler

    config = current_app.config
    return Scheduler(url, interval=float(config.get("SCHEDULER_INTERVAL", 0.1)),
                     sweep_seconds=float(config.get("SWEEP_SECONDS", 15)))


@click.command("worker")
@click.option("--queues", "queues", default=None, metavar="Q1,Q2",
              help="queues to work on, most urgent first (default: intake,replies,inbound,sweeps)")
@click.option("--processes", type=click.IntRange(1, 64), default=1, show_default=True,
              help="worker processes (each runs one job at a time, without forking per job)")
@click.option("--scheduler/--no-scheduler", default=True, show_default=True,
              help="also stand by as the scheduler (one in the deployment is active, by a lock in Redis)")
@click.option("--burst", is_flag=True, help="stop when the queues are empty")
@click.option("--nice", type=click.IntRange(0, 19), default=None,
              help="CPU niceness of the workers, so web processes come first (default MELDINGEN_WORKER_NICE, 10)")
@with_appcontext
def worker_command(queues, processes, scheduler, burst, nice):
    """Background workers on the job queues (needs MELDINGEN_BROKER_URL)."""
    from meldingen.extensions import db
    from meldingen.jobs.worker import Pool

    url = _broker_url()
    names = _queue_names(queues)
    for engine in db.engines.values():
        engine.dispose()  # this process only supervises; the workers open their own connections
    nice = int(current_app.config.get("WORKER_NICE", 10)) if nice is None else nice
    # The app factory goes by reference: pickled by its qualified name into each spawned process.
    prepare = functools.partial(prepare_worker_process, app_factory=current_app.extensions[APP_FACTORY])
    pool = Pool(url, names, processes, prepare=prepare, burst=burst, nice=nice)
    stop = threading.Event()
    if scheduler and not burst:
        from meldingen.jobs.scheduler import run_in_thread

        sched = _make_scheduler(url)
        run_in_thread(lambda: sched, stop)

    def shutdown(*_args):
        stop.set()
        pool.stop()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    if burst:
        # Due delayed work first, so a burst run also does what is waiting.
        once = _make_scheduler(url)
        once.tick(0.0, {})
        once.rq.release_locks()
    try:
        pool.run()
    finally:
        stop.set()


@click.command("scheduler")
@with_appcontext
def scheduler_command():
    """The scheduler alone: delayed jobs onto their queues on time, and the periodic sweeps."""
    url = _broker_url()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    _make_scheduler(url).run(stop)


@click.group("jobs")
def jobs_cli():
    """The job queues."""


@jobs_cli.command("status")
@with_appcontext
def jobs_status():
    """Depth and age of each queue as JSON (for monitoring)."""
    from redis import Redis

    from meldingen.jobs.backends import queue_stats

    click.echo(json.dumps(queue_stats(Redis.from_url(_broker_url())), indent=2))
