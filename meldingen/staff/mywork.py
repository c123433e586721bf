""""Mijn werk": a crew member's shortlist of open reports: first those assigned to them, then the rest of their
department's, each group nearest first when the phone gives its position (else by deadline). Plain functions over
the session; the view only reads the position from the URL."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import case, or_, select
from sqlalchemy.orm import selectinload

from meldingen.extensions import db
from meldingen.reports.access import scope_reports
from meldingen.reports.models import Report
from meldingen.timeutil import as_aware_utc, utcnow

LIMIT = 60
# Within the Netherlands a degree of longitude is about cos(52°) ≈ 0.62 of a degree of latitude: enough to
# order by distance in the database without a spatial function that differs between the two databases.
LON_SCALE = 0.62


@dataclass
class WorkItem:
    report: Report
    mine: bool
    distance_m: float | None
    late: bool


def my_work(staff, here: tuple[float, float] | None = None, limit: int = LIMIT, now=None) -> list[WorkItem]:
    """Open, unmerged reports assigned to `staff` or in their department (that they may see)."""
    now = now or utcnow()
    mine = Report.assignee_id == staff.id
    condition = mine if staff.department_id is None else or_(mine, Report.department_id == staff.department_id)
    query = scope_reports(select(Report).where(Report.closed_at.is_(None), Report.duplicate_of_id.is_(None),
                                               condition), staff)
    order = [case((mine, 0), else_=1)]
    if here is not None:
        lat, lon = here
        order.append(case((Report.lat.is_(None), 1), else_=0))
        order.append((Report.lat - lat) * (Report.lat - lat)
                     + (Report.lon - lon) * (Report.lon - lon) * (LON_SCALE * LON_SCALE))
    order += [Report.deadline.is_(None), Report.deadline.asc(), Report.id.asc()]
    reports = db.session.scalars(query.order_by(*order).limit(limit).options(
        selectinload(Report.photos), selectinload(Report.category))).all()
    return [WorkItem(report=r, mine=r.assignee_id == staff.id,
                     distance_m=distance_m(here, (r.lat, r.lon)) if here and r.lat is not None else None,
                     late=r.deadline is not None and as_aware_utc(r.deadline) < now) for r in reports]


def distance_m(a, b) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(h))
