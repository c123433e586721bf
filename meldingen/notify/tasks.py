"""Background tasks of the outbox: send one message, settle one whose outcome is unknown, and the sweep."""

from __future__ import annotations

from meldingen.notify.sender import deliver, send_due_messages
from meldingen.notify.uncertain import settle_unknown


def send(message_id: int) -> None:
    deliver(message_id)


def send_due() -> None:
    send_due_messages()


def settle(message_id: int) -> None:
    settle_unknown(message_id)
