"""Background tasks of the outbox: send one message, settle one whose outcome is unknown, and the sweep."""

from __future__ import annotations

from meldingen import jobs
from meldingen.notify.sender import deliver, send_due_messages
from meldingen.notify.uncertain import settle_unknown


@jobs.task("notify.send")
def send(message_id: int) -> None:
    deliver(message_id)


@jobs.task("notify.send_due")
def send_due() -> None:
    send_due_messages()


@jobs.task("notify.settle")
def settle(message_id: int) -> None:
    settle_unknown(message_id)
