"""Background tasks of the intake, the entry points that own its transactions: act on a conversation when its
quiet period is over (one transaction; a failure is recorded in another), and the sweep of due conversations."""

from __future__ import annotations

import logging

from meldingen.extensions import db
from meldingen.intake.reporting import act_if_due, due_conversations, record_act_failure
from meldingen.timeutil import utcnow

log = logging.getLogger(__name__)


def act(conversation_id: int, now=None) -> str:
    """Act on one conversation and commit: its question or its report and answer. On failure that work is rolled
    back, the failure recorded and committed (retried after the backoff, or parked for a person), and raised."""
    try:
        result = act_if_due(conversation_id, now)
        db.session.commit()
        return result
    except Exception as exc:
        db.session.rollback()
        record_act_failure(conversation_id, exc, now)
        db.session.commit()
        raise


def act_on_due_conversations(now=None, limit: int = 200) -> int:
    """The sweep: every conversation whose quiet period is over, each in its own transaction. Returns how many."""
    now = now or utcnow()
    ids = due_conversations(now, limit)
    for conversation_id in ids:
        try:
            act(conversation_id, now)
        except Exception:  # one conversation's failure does not stop the sweep for the others
            log.debug("conversation %s: acting failed, recorded for a retry", conversation_id)
    return len(ids)
