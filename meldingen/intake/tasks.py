"""Background tasks of the intake: act on a conversation when its quiet period is over, and the sweep."""

from __future__ import annotations

from meldingen import jobs
from meldingen.intake.services import act_if_due, act_on_due_conversations


@jobs.task("intake.act")
def act(conversation_id: int) -> None:
    act_if_due(conversation_id)


@jobs.task("intake.act_due")
def act_due() -> None:
    act_on_due_conversations()
