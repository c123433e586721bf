"""Work that may start only once the transaction that asked for it has committed: `after_commit(name, **kwargs)`.

A message in the outbox, a quiet-period timer: their rows are written in the caller's transaction, and the task
that acts on them must not run before those rows are visible, nor at all when the transaction rolls back. So the
work is collected in the session and handed to the job backend when the outermost transaction commits, once
(the same task with the same arguments asked twice runs once); a rollback, or a session closed without a
commit, drops it. If handing it over fails (the broker briefly away), the durable sweeps pick the rows up.

The only Session listeners of the jobs: the session is where a transaction's end is known.
"""

from __future__ import annotations

import json
import logging

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from meldingen.extensions import db

log = logging.getLogger(__name__)

_PENDING = "meldingen_jobs_after_commit"

# (task name, delay in seconds or None, the arguments as JSON) → the arguments, in the order asked.
Pending = dict[tuple[str, float | None, str], dict]


def after_commit(name: str, *, delay: float | None = None, **kwargs) -> None:
    """Run task `name` with `kwargs` (after `delay` seconds, when given) once the current transaction commits."""
    session = db.session()
    if not session.in_transaction():
        session.begin()  # nothing done since the last commit: the work belongs to the transaction begun here
    pending: Pending = session.info.setdefault(_PENDING, {})
    pending.setdefault((name, delay, json.dumps(kwargs, sort_keys=True, default=str)), kwargs)


@event.listens_for(Session, "after_commit")
def _hand_over(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: nothing is committed until the outermost transaction is
    pending: Pending | None = session.info.pop(_PENDING, None)
    if not pending:
        return
    from meldingen import jobs

    for (name, delay, _), kwargs in pending.items():
        try:
            if delay is None:
                jobs.enqueue(name, **kwargs)
            else:
                jobs.enqueue_in(delay, name, **kwargs)
        except Exception:  # the task's sweep (notify.send_due, intake.act_due) picks its rows up later
            log.exception("task %s %s not handed to the worker", name, kwargs)


@event.listens_for(Session, "after_transaction_end")
def _drop_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended: committed (handed over above) or not
        session.info.pop(_PENDING, None)
