"""Retention: what is kept how long. Reports closed longer ago than the retention period lose the resident's
own words (their public text stays); residents with nothing open or recent lose their platform id, name and
chat texts; raw platform deliveries older than the period are deleted.

Run by `meldingen anonymise --older-than DAYS` and once a day by the background sweeps (privacy/tasks.py).
Idempotent: what was anonymised is marked and not touched again. The work comes in batches, and the command or
task that runs it commits after each one it is handed (`retention_batches` yields them), so a long first run
holds no lock for long and what was done stays done when a later batch fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from meldingen.channels.models import InboundEvent
from meldingen.extensions import db
from meldingen.privacy.residents import anonymise_report, anonymise_reporter, has_recent_or_open_reports
from meldingen.reports.models import Report
from meldingen.residents.models import Reporter
from meldingen.timeutil import utcnow

BATCH = 500
RUN_ACTION = "retention.run"


@dataclass
class RetentionResult:
    older_than_days: int
    cutoff: datetime
    reports: int = 0
    residents: int = 0
    deliveries_deleted: int = 0

    def as_dict(self) -> dict:
        return {"older_than_days": self.older_than_days, "cutoff": self.cutoff.isoformat(), "reports": self.reports,
                "residents": self.residents, "deliveries_deleted": self.deliveries_deleted}


def retention_batches(days: int, *, now: datetime | None = None, actor: str = "system") -> Iterator[RetentionResult]:
    """Anonymise what is past retention, a batch of at most BATCH rows at a time, and record the run in the audit
    log. Each batch is flushed and then yielded with the totals so far; the caller commits it before asking for the
    next. The last step (raw deliveries deleted, the run recorded) is yielded too: the last result is the run's."""
    from meldingen.audit.services import record

    if days < 0:
        raise ValueError("the retention period cannot be negative")
    now = now or utcnow()
    result = RetentionResult(days, now - timedelta(days=days))
    cutoff = result.cutoff

    while True:
        reports = db.session.scalars(select(Report).where(Report.closed_at.is_not(None), Report.closed_at < cutoff,
                                                          Report.anonymised_at.is_(None))
                                     .order_by(Report.id).limit(BATCH)).all()
        if not reports:
            break
        for report in reports:
            anonymise_report(report, now)
        result.reports += len(reports)
        db.session.flush()
        yield result

    last_seen = func.coalesce(Reporter.last_inbound_at, Reporter.created_at)
    while True:
        reporters = db.session.scalars(
            select(Reporter).where(Reporter.anonymised_at.is_(None), last_seen < cutoff,
                                   ~has_recent_or_open_reports(Reporter.id, cutoff))
            .order_by(Reporter.id).limit(BATCH)).all()
        if not reporters:
            break
        for reporter in reporters:
            anonymise_reporter(reporter, "geanonimiseerd")
        result.residents += len(reporters)
        db.session.flush()
        yield result

    # Raw deliveries are kept for redelivery checks and retries, not for a year: past retention they go.
    result.deliveries_deleted = db.session.execute(
        delete(InboundEvent).where(InboundEvent.received_at < cutoff, InboundEvent.state != "pending")).rowcount
    record(RUN_ACTION, actor=actor, object_type="retention", details=result.as_dict())
    db.session.flush()
    yield result
