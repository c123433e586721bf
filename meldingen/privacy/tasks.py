"""The daily retention run, started by the periodic sweeps (jobs.PERIODIC_TASKS) and done at most once a day."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from meldingen.timeutil import as_aware_utc, utcnow

RUN_EVERY = timedelta(hours=24)
START_ACTION = "retention.start"


def run_retention_when_due() -> dict | None:
    """Anonymise what is past MELDINGEN_RETENTION_DAYS, when the last run (in the audit log) is a day old.

    The start is recorded and committed first: sweeps come every few seconds, and a long first run on a large
    database must not be started again by the next one (a run that died is tried again the next day).
    """
    from meldingen.audit.services import last_entry_at, record
    from meldingen.extensions import db
    from meldingen.privacy.retention import RUN_ACTION, retention_batches

    for action in (RUN_ACTION, START_ACTION):
        last = last_entry_at(action)
        if last is not None and utcnow() - as_aware_utc(last) < RUN_EVERY:
            return None
    days = int(current_app.config["RETENTION_DAYS"])
    record(START_ACTION, actor="system", object_type="retention", details={"older_than_days": days})
    db.session.commit()
    for result in retention_batches(days):  # noqa: B007  (the last batch holds the totals)
        db.session.commit()
    return result.as_dict()
