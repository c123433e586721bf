"""The department heads' list (the backlog): reports filtered by status (open by default, closed, all, one
status), lateness, area, category, department, assignee, age and typed words (the staff search's index), sorted by
deadline or age; their aggregates (by category, area, age, late against the deadline), hotspots, the weekly in/out
counts and the CSV export, all of the same filter. Plain functions over the session; the views only parse the URL
and render."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import NamedTuple

from sqlalchemy import Integer, String, and_, case, cast, func, literal, or_, select, union_all

from meldingen.categories.models import Category
from meldingen.extensions import db
from meldingen.inputs.bounds import bounded_int
from meldingen.organisations.models import Department
from meldingen.reports.access import scope_reports
from meldingen.reports.models import Report, Status
from meldingen.timeutil import as_aware_utc, local_zone, utcnow

AGE_BUCKETS = [(0, 7, "< 1 week"), (7, 30, "1–4 weken"), (30, 90, "1–3 maanden"), (90, None, "> 3 maanden")]
PAGE_SIZE = 50
SORTS = {
    "deadline": (Report.deadline.asc(), Report.id.asc()),
    "oldest": (Report.created_at.asc(), Report.id.asc()),
    "newest": (Report.created_at.desc(), Report.id.desc()),
    "reporters": (Report.reporters_count.desc(), Report.created_at.asc()),
}


MAX_AGE_DAYS = 36_500  # a hundred years: every age a report can have
MAX_PAGE = 100_000


class BacklogFilterError(ValueError):
    """A filter value out of its bounds; the message (Dutch) says which and what is allowed."""


def _whole_number_within(text: str, low: int, high: int) -> bool:
    return text.isascii() and text.isdigit() and low <= int(text) <= high


@dataclass
class BacklogFilter:
    """What the head filters on; every field is a URL query parameter, so a filtered page can be shared."""

    category: str = ""  # main or sub category slug
    area: str = ""  # municipality, district or neighbourhood code
    department: str = ""  # department code
    status: str = ""  # "" (every open status), one status code, "closed" or "all"
    min_age: str = ""  # days
    late: str = ""  # "1": only past their deadline
    assignee: str = ""  # "me", "none" or a staff id
    q: str = ""  # reference, address or words, as in the staff search
    sort: str = "deadline"
    page: str = "1"

    @classmethod
    def from_args(cls, args) -> BacklogFilter:
        """The filter from URL arguments; raises BacklogFilterError (Dutch) for a number out of its bounds."""
        from meldingen.staff.search import clean_text

        values = {f.name: clean_text(args.get(f.name))[:300 if f.name == "q" else 100] for f in fields(cls)}
        result = cls(**{k: v for k, v in values.items() if v})
        if result.sort not in SORTS:
            result.sort = "deadline"
        if result.min_age and not _whole_number_within(result.min_age, 0, MAX_AGE_DAYS):
            raise BacklogFilterError(f"‘Minimaal dagen oud’ is een heel getal van 0 tot {MAX_AGE_DAYS}.")
        if not _whole_number_within(result.page, 1, MAX_PAGE):
            raise BacklogFilterError(f"Het paginanummer is een heel getal van 1 tot {MAX_PAGE}.")
        return result

    def as_args(self, **changes) -> dict:
        """The filter as query arguments (empty ones left out), e.g. for url_for."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return {k: v for k, v in values.items() if v and not (k == "sort" and v == "deadline")
                and not (k == "page" and v == "1")}

    @property
    def page_number(self) -> int:
        return int(self.page) if _whole_number_within(self.page, 1, MAX_PAGE) else 1

    @property
    def open_only(self) -> bool:
        """Only open reports: no status chosen (every open one) — a chosen status may be open too."""
        return self.status not in ("closed", "all") and not (self.status and self.status in _closed_codes())


def _closed_codes() -> set[str]:
    return set(db.session.scalars(select(Status.code).where(Status.is_open.is_(False))))


def backlog_query(staff, flt: BacklogFilter, now=None, columns=None):
    """select(Report) (or `columns`) of the reports the staff member may see that the filter finds: by default
    the open, unmerged ones. Raises meldingen.staff.search.SearchTooShort for typed words too short to look up."""
    now = now or utcnow()
    query = select(*(columns or [Report])).select_from(Report)
    if flt.status == "all":
        pass
    elif flt.status == "closed":
        query = query.where(Report.closed_at.is_not(None))
    elif flt.status:
        query = query.where(Report.status == flt.status)
        if flt.open_only:
            query = query.where(Report.closed_at.is_(None), Report.duplicate_of_id.is_(None))
    else:
        query = query.where(
            Report.status.in_(select(Status.code).where(Status.is_open.is_(True))),
            Report.closed_at.is_(None),  # implied by an open status; lets the planner use the partial indexes
            Report.duplicate_of_id.is_(None),
        )
    query = filter_what(scope_reports(query, staff), staff, flt)
    min_age = bounded_int(flt.min_age, default=0, low=0, high=MAX_AGE_DAYS)
    if min_age:
        query = query.where(Report.created_at <= now - timedelta(days=min_age))
    if flt.late == "1":
        query = query.where(Report.deadline < now, Report.closed_at.is_(None))
    return query


def filter_what(query, staff, flt: BacklogFilter):
    """The filter's conditions on what reports are about and who has them (category, area, department,
    assignee, typed words), apart from status and age: the weekly chart follows these."""
    from meldingen.staff.search import match_terms, parse_query

    if flt.category:
        parent = Category.__table__.alias("parent")
        sub_ids = select(Category.id).outerjoin(parent, Category.parent_id == parent.c.id).where(
            or_(Category.slug == flt.category, parent.c.slug == flt.category)
        )
        query = query.where(Report.category_id.in_(sub_ids))
    if flt.area:
        query = query.where(or_(Report.municipality_code == flt.area, Report.district_code == flt.area,
                                Report.neighbourhood_code == flt.area))
    if flt.department:
        query = query.where(Report.department_id.in_(select(Department.id).where(Department.code == flt.department)))
    if flt.assignee == "me":
        query = query.where(Report.assignee_id == staff.id)
    elif flt.assignee == "none":
        query = query.where(Report.assignee_id.is_(None))
    elif flt.assignee.isascii() and flt.assignee.isdigit():
        query = query.where(Report.assignee_id == int(flt.assignee[:9]))
    if flt.q:
        query, _order = match_terms(query, parse_query(flt.q))
    return query


def matching_references(staff, flt: BacklogFilter, limit: int, now=None) -> list[str]:
    """The references of every report the filter finds (all pages), in the list's order, at most `limit`."""
    query = backlog_query(staff, flt, now, columns=[Report.reference]).order_by(*SORTS[flt.sort]).limit(limit)
    return list(db.session.scalars(query))


def backlog_page(staff, flt: BacklogFilter, now=None) -> tuple[list[Report], int]:
    query = backlog_query(staff, flt, now)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(
        query.order_by(*SORTS[flt.sort]).offset((flt.page_number - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    return rows, total


@dataclass
class Aggregates:
    total: int
    late: int
    by_category: list[tuple[str, str, int, int]]  # main slug, name, open, late
    by_area: list[tuple[str, int, int]]  # district (or municipality) code, open, late
    by_age: list[tuple[str, int]]
    area_names: dict


def backlog_aggregates(staff, flt: BacklogFilter, now=None) -> Aggregates:
    """Counts over the filtered backlog by category, area and age, and how many are late.

    One pass over the open reports: they are first counted per (sub category, area, age bucket, late), groups
    far fewer than the reports at scale (about 24,000 for 160,000 open reports in Amsterdam), and the three
    breakdowns are sums over those groups (UNION ALL over one CTE, the same SQL on both databases). A GROUP BY per
    breakdown over the reports themselves read every open report four times.
    """
    now = now or utcnow()
    late = case((Report.deadline < now, 1), else_=0)
    area = func.coalesce(Report.district_code, Report.municipality_code, "")
    age = _age_bucket(Report.created_at, now)
    groups = backlog_query(staff, flt, now, columns=[
        Report.category_id.label("category_id"), area.label("area"), age.label("age"), late.label("late"),
        func.count().label("n"),
    ]).group_by(Report.category_id, area, age, late).cte("backlog_groups")
    g = groups.c
    parent = Category.__table__.alias("parent")
    main_slug = func.coalesce(parent.c.slug, Category.slug, "")
    main_name = func.coalesce(parent.c.name, Category.name, "(geen categorie)")
    late_n = func.sum(g.n * g.late)
    no_text, no_int = cast(None, String), cast(None, Integer)
    rows = db.session.execute(union_all(
        select(literal("category"), main_slug, main_name, no_int, func.sum(g.n), late_n)
        .select_from(groups)
        .outerjoin(Category, Category.id == g.category_id)
        .outerjoin(parent, parent.c.id == Category.parent_id)
        .group_by(main_slug, main_name),
        select(literal("area"), g.area, no_text, no_int, func.sum(g.n), late_n).group_by(g.area),
        select(literal("age"), no_text, no_text, g.age, func.sum(g.n), late_n).group_by(g.age),
    )).all()
    by_category = sorted(((slug, name, int(n), int(lt)) for kind, slug, name, _a, n, lt in rows if kind == "category"),
                         key=lambda row: (-row[2], row[0]))
    areas = sorted(((code, int(n), int(lt)) for kind, code, _n, _a, n, lt in rows if kind == "area"),
                   key=lambda row: (-row[1], row[0]))
    ages = {bucket: int(n) for kind, _c, _n, bucket, n, _lt in rows if kind == "age"}
    by_area = areas[:30]
    return Aggregates(
        total=sum(n for _a, n, _l in areas),
        late=sum(lt for _a, _n, lt in areas),
        by_category=by_category,
        by_area=by_area,
        by_age=[(label, ages.get(i, 0)) for i, (_l, _h, label) in enumerate(AGE_BUCKETS)],
        area_names=area_names([a for a, _c, _l in by_area]),
    )


def _age_bucket(created_at, now):
    """The index in AGE_BUCKETS of a report's age (-1: no age, e.g. created in the future). The buckets are
    consecutive day ranges from 0, so the first upper bound the report is younger than is its bucket."""
    whens = [(created_at.is_(None), -1), (created_at > now - timedelta(days=AGE_BUCKETS[0][0]), -1)]
    whens += [(created_at > now - timedelta(days=high), i) for i, (_low, high, _l) in enumerate(AGE_BUCKETS)
              if high is not None]
    return case(*whens, else_=len(AGE_BUCKETS) - 1)


def area_names(codes) -> dict:
    from meldingen.geo.models import Area

    codes = [c for c in codes if c]
    if not codes:
        return {}
    return dict(db.session.execute(select(Area.code, Area.name).where(Area.code.in_(codes))).all())


def hotspots(staff, flt: BacklogFilter, now=None, cell_degrees: float = 0.002, limit: int = 30) -> list[dict]:
    """The densest grid cells (about 200 m) of the filtered backlog: centre, count, late count."""
    now = now or utcnow()
    filtered = backlog_query(staff, flt, now, columns=[Report.lat, Report.lon, Report.deadline]).where(
        Report.lat.is_not(None)).subquery()
    r = filtered.c
    row_cell = cast(r.lat / cell_degrees, Integer)
    col_cell = cast(r.lon / cell_degrees, Integer)
    rows = db.session.execute(
        select(func.avg(r.lat), func.avg(r.lon), func.count(), func.sum(case((r.deadline < now, 1), else_=0)))
        .select_from(filtered)
        .group_by(row_cell, col_cell)
        .having(func.count() >= 2)
        .order_by(func.count().desc())
        .limit(limit)
    ).all()
    return [{"lat": lat, "lon": lon, "count": count, "late": int(late or 0)} for lat, lon, count, late in rows]


class WeekCount(NamedTuple):
    label: str  # ISO week, e.g. 2026-W48
    created: int  # reports that came in
    handled: int  # closed by work (done, cancelled, …)
    merged: int  # closed because they were merged into a known report: not work done


def weekly_in_out(staff, weeks: int = 12, now=None, flt: BacklogFilter | None = None) -> list[WeekCount]:
    """Reports in (created), handled and merged (closed) per ISO week, the last `weeks` weeks, oldest first.

    A merged duplicate is closed without any work on it, so it is counted apart from the handled ones. One query
    of conditional sums over the organisation's reports (open or not), the same on both databases. With a filter:
    only the reports it is about (category, area, department, assignee, words; status and age are what the chart
    shows, so they do not narrow it).
    """
    now = now or utcnow()
    local = now.astimezone(local_zone())
    monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    starts = [monday - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
    bounds = [(s, s + timedelta(weeks=1)) for s in starts]
    merged = or_(Report.duplicate_of_id.is_not(None), Report.status == "duplicate")
    sums = []
    for start, end in bounds:
        closed_in_week = and_(Report.closed_at >= start, Report.closed_at < end)
        sums.append(func.sum(case((and_(Report.created_at >= start, Report.created_at < end), 1), else_=0)))
        sums.append(func.sum(case((and_(closed_in_week, ~merged), 1), else_=0)))
        sums.append(func.sum(case((and_(closed_in_week, merged), 1), else_=0)))
    query = scope_reports(select(*sums).select_from(Report).where(
        or_(Report.created_at >= starts[0], Report.closed_at >= starts[0])), staff)
    if flt is not None:
        query = filter_what(query, staff, flt)
    values = db.session.execute(query).one()
    result = []
    for i, start in enumerate(starts):
        iso = start.isocalendar()
        result.append(WeekCount(f"{iso[0]}-W{iso[1]:02d}", *(int(values[3 * i + k] or 0) for k in range(3))))
    return result


# --- CSV export --------------------------------------------------------------------------------------------

CSV_COLUMNS = ["referentie", "status", "hoofdcategorie", "subcategorie", "omschrijving", "adres", "postcode",
               "plaats", "wijk", "buurt", "afdeling", "toegewezen aan", "aangemaakt", "deadline", "te laat",
               "aantal melders", "lat", "lon"]


def csv_rows(staff, flt: BacklogFilter, delimiter: str = ";", now=None, batch: int = 1000):
    """The filtered backlog as CSV text chunks: a UTF-8 BOM first (so Excel reads the accents), every field quoted
    as needed by the csv module, formulas neutralised (a cell starting with = + - @ gets a leading quote)."""
    from sqlalchemy.orm import selectinload

    from meldingen.reports.statuses import load_status_table

    now = now or utcnow()
    status_names = load_status_table().names
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    yield "\ufeff" + _take(buffer)
    query = backlog_query(staff, flt, now).order_by(*SORTS[flt.sort]).options(
        selectinload(Report.category).selectinload(Category.parent),
        selectinload(Report.department),
        selectinload(Report.assignee),
    ).execution_options(yield_per=batch)
    for report in db.session.scalars(query):
        category = report.category
        deadline = as_aware_utc(report.deadline)
        address = " ".join(p for p in (report.address_street, report.address_number) if p) or (
            report.address_text or "")
        writer.writerow([_cell(v) for v in (
            report.reference, status_names.get(report.status, report.status),
            category.parent.name if category is not None and category.parent is not None else "",
            category.name if category is not None else "",
            report.description, address, report.address_postcode or "", report.address_city or "",
            report.district_code or "", report.neighbourhood_code or "",
            report.department.code if report.department is not None else "",
            report.assignee.email if report.assignee is not None else "",
            _local(report.created_at), _local(report.deadline),
            "ja" if deadline is not None and deadline < now else "nee",
            report.reporters_count,
            "" if report.lat is None else f"{report.lat:.6f}", "" if report.lon is None else f"{report.lon:.6f}",
        )])
        if buffer.tell() > 64_000:
            yield _take(buffer)
    yield _take(buffer)


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _cell(value):
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _local(value) -> str:
    value = as_aware_utc(value)
    return value.astimezone(local_zone()).strftime("%Y-%m-%d %H:%M") if value else ""
