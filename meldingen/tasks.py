"""The task table: every background task by its name, the one place a name meets its function.

The names are the durable contract of the queues (jobs queued by an older version carry them, and the sweeps in
`jobs.PERIODIC_TASKS` name them): a name is never renamed or dropped while a queue may still hold it. The app
factory registers this table into every app (`register_tasks`), so a web process refuses to enqueue a name that
no worker could run, and a worker fails a job whose name it does not know instead of marking it done.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

from meldingen import jobs
from meldingen.channels import tasks as channel_tasks
from meldingen.intake import tasks as intake_tasks
from meldingen.notify import tasks as notify_tasks
from meldingen.open311 import media as open311_media
from meldingen.privacy import tasks as privacy_tasks
from meldingen.subscriptions import tasks as subscription_tasks

TASKS: dict[str, Callable[..., Any]] = {
    # Inbound: the webhooks' spool into the database, one stored event at a time, and the sweep.
    "channels.import_spool": channel_tasks.import_spool,
    "channels.process_event": channel_tasks.process_event,
    "channels.process_due": channel_tasks.process_due,
    # Platforms without webhooks (Signal's bridge): their waiting messages, fetched and stored.
    "channels.poll": channel_tasks.poll,
    # The intake: a conversation whose quiet period is over, and the sweep.
    "intake.act": intake_tasks.act,
    "intake.act_due": intake_tasks.act_on_due_conversations,
    # The outbox: send one message, settle one whose outcome is unknown, and the sweep.
    "notify.send": notify_tasks.send,
    "notify.send_due": notify_tasks.send_due,
    "notify.settle": notify_tasks.settle,
    # Open311: photos named by media_url, fetched after the report was made.
    "open311.fetch_media": open311_media.fetch_media,
    # Privacy: the daily retention run (started by the sweeps).
    "privacy.retention": privacy_tasks.run_retention_when_due,
    # Report events to subscribed systems: deliver one (and its retries), and the sweep.
    "subscriptions.deliver": subscription_tasks.deliver,
    "subscriptions.deliver_due": subscription_tasks.deliver_due,
}


def register_tasks(app: Flask) -> None:
    jobs.register_tasks(app, TASKS)
