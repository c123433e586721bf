"""Background tasks of the intake: act on a conversation when its quiet period is over, and the sweep."""

from __future__ import annotations

from meldingen.intake.services import act_if_due, act_on_due_conversations, record_act_failure


def act(conversation_id: int) -> None:
    try:
        act_if_due(conversation_id)
    except Exception as exc:
        record_act_failure(conversation_id, exc)
        raise


def act_due() -> None:
    act_on_due_conversations()
