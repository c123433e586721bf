"""Background tasks of the outbox: send one message, and the sweep that sends whatever is due."""

from __future__ import annotations

from meldingen import jobs
from meldingen.notify.sender import deliver, send_due_messages


@jobs.task("notify.send")
def send(message_id: int) -> None:
    deliver(message_id)


@jobs.task("notify.send_due")
def send_due() -> None:
    send_due_messages()
