"""The daily retention run, started by the periodic sweeps (jobs.PERIODIC_TASKS) and done at most once a day."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from meldingen.jobs import task
from meldingen.timeutil import as_aware_utc, utcnow

RUN_EVERY = timedelta(hours=24)


@task("privacy.retention")
def run_retention_when_due() -> dict | None:
    """Anonymise what is past MELDINGEN_RETENTION_DAYS, when the last run (in the audit log) is a day old."""
    from meldingen.audit.services import last_entry_at
    from meldingen.privacy.retention import RUN_ACTION, anonymise_older_than

    last = last_entry_at(RUN_ACTION)
    if last is not None and utcnow() - as_aware_utc(last) < RUN_EVERY:
        return None
    return anonymise_older_than(int(current_app.config["RETENTION_DAYS"])).as_dict()
