"""The embedded default's background process: a web process only stores and acknowledges; its child process does
the work (so an acknowledgement never waits for the interpreter behind classifying, routing or sending), is
replaced when it dies, and never starts for a CLI command."""

from __future__ import annotations

import os
import signal

import pytest
from conftest import make_app
from fake_chat_platform import TelegramResident, install_send_routes, platform_config, sent_messages
from fault_harness import alive, wait_until
from sqlalchemy import func, select

from meldingen import jobs
from meldingen.extensions import db
from meldingen.jobs.backends import ProcessBackend
from meldingen.reports.models import Report

AMSTERDAM = (52.3877221, 4.8925727)


@pytest.fixture
def process_app(tmp_path, database_url, fake):
    install_send_routes(fake)
    # The child makes its own app from these settings: the same database, platforms and classifier.
    app = make_app(tmp_path, database_url, JOBS_BACKEND="process", JOBS_RAISE=False, SWEEP_SECONDS=0.3,
                   **platform_config(fake))
    yield app
    app.extensions["meldingen_jobs"].close()


def niceness(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[16])


def reports(app) -> int:
    with app.app_context():
        try:
            return db.session.scalar(select(func.count()).select_from(Report))
        finally:
            db.session.remove()


def test_the_web_process_acknowledges_and_its_child_makes_the_report(process_app, fake):
    backend = process_app.extensions["meldingen_jobs"]
    assert isinstance(backend, ProcessBackend)
    resident = TelegramResident(process_app.test_client(), fake, "123123123")
    assert resident.send_text("De lantaarnpaal is kapot").status_code == 200
    assert resident.send_location(*AMSTERDAM).status_code == 200
    child = backend._child
    assert child is not None and child.pid != os.getpid() and child.is_alive()
    # It yields the cores to the web process when both want them.
    wait_until(lambda: niceness(child.pid) == process_app.config["WORKER_NICE"] > niceness(os.getpid()), 30,
               what="the background process to lower its priority")
    wait_until(lambda: reports(process_app) == 1, 90, what="the report made by the background process")
    wait_until(lambda: any("M-" in m["text"] for m in sent_messages(fake)), 30, what="the reply with the reference")
    assert backend._threads is None  # nothing ran in the web process's own threads


def test_a_background_process_that_died_is_replaced_and_the_work_is_taken_up(process_app, fake):
    backend = process_app.extensions["meldingen_jobs"]
    client = process_app.test_client()
    assert client.get("/healthz").status_code == 200  # the first request starts the child
    first = backend._child
    wait_until(lambda: first.is_alive(), 10, what="the first background process")
    os.kill(first.pid, signal.SIGKILL)
    first.join(10)
    resident = TelegramResident(client, fake, "456456456")
    resident.send_text("Losse stoeptegel, struikelgevaar")  # handed to a new child
    resident.send_location(*AMSTERDAM)
    assert backend._child is not first and backend._child.is_alive()
    wait_until(lambda: reports(process_app) == 1, 90, what="the report made by the new background process")


def test_closing_stops_the_child_and_a_cli_command_starts_none(process_app):
    backend = process_app.extensions["meldingen_jobs"]
    with process_app.app_context():
        jobs.enqueue("notify.send_due")  # as a CLI command would: no request has been served
    assert backend._child is None and backend._threads is not None
    process_app.test_client().get("/healthz")
    child = backend._child
    wait_until(lambda: child.is_alive(), 10, what="the background process")
    backend.close()
    assert not alive(child.pid)
