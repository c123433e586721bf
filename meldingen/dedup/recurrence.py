"""The same problem again after it was done: a new report, never merged into the closed one, that links to it.

Staff see on the new report "Opnieuw gemeld, na M-… afgehandeld op …": a light that goes out again a day after
the repair, or the same afternoon, is worth knowing about (a bad repair, a cable fault), but it is new work and
its residents must hear about the new repair, so it is not merged.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from meldingen.dedup import services
from meldingen.dedup.matching import Evidence, score_pair, typed_numbers
from meldingen.dedup.naming import is_named_asset
from meldingen.dedup.services import _COLUMNS, _fractions, rules_for, search_radius
from meldingen.extensions import db
from meldingen.geo.crs import to_rd
from meldingen.reports.models import Report, Status
from meldingen.reports.services import add_event
from meldingen.timeutil import utcnow

# A problem done longer ago than this is history, not a recurrence.
RECURRENCE_DAYS = 365


def find_recurrence(report: Report) -> tuple[Report, float] | None:
    """The closed (done or cancelled) report this new one is the same problem as, with the score; None when
    there is none. Scored as a duplicate would be, without the time since."""
    if report.lat is None or report.lon is None or report.category is None:
        return None
    rules = rules_for(report.category)
    x, y = to_rd(report.lon, report.lat)
    weights = services.WEIGHTS
    radius = search_radius(rules, weights)
    new_asset = (report.asset_type, report.asset_external_id) if report.asset_type else None
    best = None
    for row in _nearby_closed_reports(report, x, y, radius, rules, report.created_at or utcnow()):
        rx, ry = to_rd(row.lon, row.lat)
        known_asset = (row.asset_type, row.asset_external_id) if row.asset_type else None
        evidence = Evidence(
            distance_m=((rx - x) ** 2 + (ry - y) ** 2) ** 0.5, limit_m=rules.distance_m, window_days=0,
            age_difference_days=0.0, same_category=row.category_id == report.category_id,
            use_assets=rules.use_assets, new_asset=new_asset, known_asset=known_asset,
            new_text=report.description, known_text=row.description,
            new_numbers=typed_numbers(report.description), known_numbers=typed_numbers(row.description),
            new_asset_named=is_named_asset(report.description, new_asset),
            known_asset_named=is_named_asset(row.description, known_asset),
            new_fractions=_fractions(rules, report.category_id, [report.description]),
            known_fractions=_fractions(rules, row.category_id, [row.description]),
        )
        score, _ = score_pair(evidence, weights)
        if score >= weights.merge_score and (best is None or score > best[1]):
            best = (row, score)
    previous = db.session.get(Report, best[0].id) if best is not None else None
    return (previous, best[1]) if previous is not None and best is not None else None


def link_recurrence(report: Report) -> Report | None:
    """Note on a new report that it is a problem done before; answers the earlier report. Does not commit."""
    found = find_recurrence(report)
    if found is None:
        return None
    previous, score = found
    done_on = previous.closed_at.strftime("%d-%m-%Y") if previous.closed_at else "onbekend"
    add_event(report, "recurrence", note=f"Opnieuw gemeld, na {previous.reference} afgehandeld op {done_on}",
              data={"previous": previous.reference, "previous_id": previous.id, "previous_status": previous.status,
                    "closed_at": previous.closed_at.isoformat() if previous.closed_at else None,
                    "score": round(score, 4)})
    return previous


def _nearby_closed_reports(report: Report, x: float, y: float, radius: float, rules, created):
    """Rows of closed reports (not merged ones) of the given categories, closed within RECURRENCE_DAYS, in the
    box around the point, through the spatial index."""
    closed_codes = select(Status.code).where(Status.is_open.is_(False), Status.code != "duplicate")
    query = (
        select(*_COLUMNS, Report.closed_at)
        .where(Report.status.in_(closed_codes), Report.duplicate_of_id.is_(None),
               Report.closed_at >= created - timedelta(days=RECURRENCE_DAYS),
               Report.category_id.in_(sorted(rules.category_ids)), Report.lat.is_not(None))
    )
    return db.session.execute(services.others_in_box(query, report, x, y, radius)).all()
