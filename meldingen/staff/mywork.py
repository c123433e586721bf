""""Mijn werk": a crew member's open reports: first those assigned to them, then the rest of their department's,
each group nearest first when the phone gives its position (else by deadline), a page at a time with the true
count. Plain functions over the session; the view only reads the position and the page from the URL."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import case, func, or_, select
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


@dataclass
class WorkPage:
    items: list[WorkItem]
    total: int  # all the reports on the list, not only this page's
    mine: int  # of which assigned to the staff member
    page: int
    pages: int
    first: int  # the number of this page's first item in the whole list (1-based; 0 when empty)


def nearness(here: tuple[float, float]) -> list:
    """ORDER BY terms: reports without a place last, then by (squared, scaled) distance from `here`."""
    lat, lon = here
    return [case((Report.lat.is_(None), 1), else_=0),
            (Report.lat - lat) * (Report.lat - lat) + (Report.lon - lon) * (Report.lon - lon) * (LON_SCALE * LON_SCALE)]


def _my_work_query(staff, *columns):
    mine = Report.assignee_id == staff.id
    condition = mine if staff.department_id is None else or_(mine, Report.department_id == staff.department_id)
    return scope_reports(select(*columns).where(Report.closed_at.is_(None), Report.duplicate_of_id.is_(None),
                                                condition), staff)


def my_work_page(staff, here: tuple[float, float] | None = None, page: int = 1, per_page: int = LIMIT,
                 now=None) -> WorkPage:
    """One page of "mijn werk", with how many there are in all (and how many of them are assigned to me)."""
    total, mine = db.session.execute(_my_work_query(
        staff, func.count(), func.count(case((Report.assignee_id == staff.id, 1))))).one()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    items = my_work(staff, here, limit=per_page, now=now, offset=(page - 1) * per_page)
    return WorkPage(items=items, total=total, mine=mine or 0, page=page, pages=pages,
                    first=(page - 1) * per_page + 1 if items else 0)


def my_work(staff, here: tuple[float, float] | None = None, limit: int = LIMIT, now=None,
            offset: int = 0) -> list[WorkItem]:
    """Open, unmerged reports assigned to `staff` or in their department (that they may see): assigned first,
    then nearest (or by deadline)."""
    now = now or utcnow()
    mine = Report.assignee_id == staff.id
    order = [case((mine, 0), else_=1)]
    if here is not None:
        order += nearness(here)
    order += [Report.deadline.is_(None), Report.deadline.asc(), Report.id.asc()]
    reports = db.session.scalars(_my_work_query(staff, Report).order_by(*order).limit(limit).offset(offset).options(
        selectinload(Report.photos), selectinload(Report.category))).all()
    return [WorkItem(report=r, mine=r.assignee_id == staff.id,
                     distance_m=distance_m(here, (r.lat, r.lon)) if here and r.lat is not None else None,
                     late=r.deadline is not None and as_aware_utc(r.deadline) < now) for r in reports]


def distance_m(a, b) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(h))
