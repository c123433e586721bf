"""Duplicate reports: find the open reports a report may be about, merge automatically when sure, suggest
otherwise, and let staff merge and unmerge by hand. Every surface (chat, API, Open311, staff pages) calls these.

The rules per category are data on `Category`: `dedup_distance_m`, `dedup_window_days`, `dedup_use_assets` and
`dedup_related_slugs` (relations are symmetric). The evidence per pair is scored in `meldingen.dedup.matching`.

Concurrency: two residents reporting the same light at the same instant must end with one open report. The
new-report path serialises per organisation before it searches: on PostgreSQL a transaction-level advisory lock
(`pg_advisory_xact_lock(DEDUP_LOCK_CLASS, organisation_id)`), on SQLite the database write lock, which the
transaction already holds once the report is inserted. The second transaction then searches after the first
has committed and sees its report. Merges lock the target row (`FOR UPDATE`) and re-check that it is open.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import load_only

from meldingen import signals
from meldingen.categories.models import Category
from meldingen.db import RD_SRID, is_sqlite
from meldingen.dedup.matching import DEFAULT_WEIGHTS, Evidence, Weights, score_pair, typed_numbers
from meldingen.dedup.naming import is_named_asset
from meldingen.extensions import db
from meldingen.geo.crs import to_rd
from meldingen.geo.fractions import fractions_in_text
from meldingen.geo.models import Asset
from meldingen.reports.models import DuplicateCandidate, Report, ReportSubscription, Status
from meldingen.reports.services import add_event, change_status
from meldingen.reports.statuses import TransitionRefused
from meldingen.timeutil import utcnow

DEFAULT_DISTANCE_M = 30.0
DEFAULT_WINDOW_DAYS = 84  # Signalen's 12 weeks
# Candidates are looked for up to the category's distance widened by the GPS slack (Weights.gps_slack_m), and
# this many times that when the resident typed a number: only the same typed number can join a pair so far
# apart. (A number that names a registered object has already moved the report onto that object.)
SEARCH_FACTOR = 1.0
SEARCH_FACTOR_NUMBERS = 1.5
DEDUP_LOCK_CLASS = 7_303_311  # first key of the PostgreSQL advisory lock; the second is the organisation id


# The scoring weights in use (the bench swaps them to compare settings).
WEIGHTS: Weights = DEFAULT_WEIGHTS


class MergeRefused(ValueError):
    """A merge or unmerge that cannot be done, with the reason (HTTP 409 / a message on the staff page)."""


@dataclass(frozen=True)
class Rules:
    """The duplicate rules of one category, with the ids of the categories it may share a problem with."""

    distance_m: float
    window_days: int
    use_assets: bool
    category_ids: frozenset[int]  # its own id and those of related categories
    # The fractions the related categories' own names imply, for those about containers ("Container voor
    # plastic afval is vol" → plastic), and which of them are about containers at all.
    category_fractions: dict = field(default_factory=dict)
    container_ids: frozenset[int] = frozenset()


@dataclass
class Candidate:
    """A known report that may be the same problem, with the score (0..1) and the reasons."""

    report: Report
    score: float
    reasons: dict

    @property
    def confident(self) -> bool:
        return self.score >= WEIGHTS.merge_score


def rules_for(category: Category) -> Rules:
    related = {category.id}
    rows = db.session.execute(
        select(Category.id, Category.slug, Category.dedup_related_slugs, Category.name, Category.asset_types)
        .where(Category.parent_id.is_not(None))
    ).all()
    mine = set(category.dedup_related_slugs or [])
    containers, fractions = set(), {}
    for cat_id, slug, their_related, name, asset_types in rows:
        if cat_id == category.id or slug in mine or category.slug in (their_related or []):
            related.add(cat_id)
            if "container" in (asset_types or []):
                containers.add(cat_id)
                fractions[cat_id] = fractions_in_text(name)
    return Rules(
        distance_m=float(category.dedup_distance_m or DEFAULT_DISTANCE_M),
        window_days=int(category.dedup_window_days or DEFAULT_WINDOW_DAYS),
        use_assets=bool(category.dedup_use_assets),
        category_ids=frozenset(related),
        category_fractions=fractions,
        container_ids=frozenset(containers),
    )


# --- finding candidates -----------------------------------------------------------------------------------


@dataclass
class _Group:
    """A known open report and the reports merged into it: one problem, reported from several points."""

    root: Any  # the root's row
    members: list = field(default_factory=list)  # rows of the reports merged into it

    def rows(self) -> list:
        return [self.root, *self.members]


def find_duplicate_candidates(report: Report, limit: int = 10, *, weights: Weights | None = None,
                              min_score: float | None = None) -> list[Candidate]:
    """Open reports of the same or a related category, near enough to be the same problem, best first, scored
    with all evidence; only those at or above the suggestion score (`min_score`).

    A known report is weighed with the reports merged into it: its place is where all of them stand (their
    centroid), its words and typed numbers are all of theirs, its age is counted from the last of them. An open
    report stays a candidate as long as it is open: a light reported for three weeks is one problem."""
    if report.lat is None or report.lon is None or report.category is None:
        return []
    weights = weights or WEIGHTS
    rules = rules_for(report.category)
    floor = weights.suggest_score if min_score is None else min_score
    x, y = to_rd(report.lon, report.lat)
    new_numbers = typed_numbers(report.description)
    radius = search_radius(rules, weights, bool(new_numbers))
    created = _naive_utc(report.created_at or utcnow())
    new_asset = (report.asset_type, report.asset_external_id) if report.asset_type else None
    new_fractions = _fractions(rules, report.category_id, [report.description])

    groups = [_Group(row) for row in _nearby_open_reports(report, x, y, radius, rules, created)]
    if not groups:
        return []
    by_root = {g.root.id: g for g in groups}
    merged_into = [g.root.id for g in groups if (g.root.reporters_count or 1) > 1]
    for member in _members(merged_into) if merged_into else ():
        by_root[member.duplicate_of_id].members.append(member)
    # A pair beyond this logit cannot reach the floor whatever its words say; only a number or an object can
    # lift it, so far-off rows without either are not scored (the search looks at many, most of them far).
    strong = bool(new_numbers or new_asset)
    floor_logit = math.log(floor / (1 - floor)) if 0 < floor < 1 else -30.0

    places = _asset_places(new_asset, groups) if rules.use_assets and new_asset else {}
    scored: list[tuple[float, dict, int, datetime]] = []
    for group in groups:
        row, rows = group.root, group.rows()
        points = [to_rd(r.lon, r.lat) for r in rows if r.lat is not None and r.lon is not None]
        cx, cy = sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)
        distance = ((cx - x) ** 2 + (cy - y) ** 2) ** 0.5
        if distance > radius and math.dist(points[0], (x, y)) > radius:
            continue
        if not (strong or row.asset_type) and _best_logit(distance, rules, weights) < floor_logit:
            continue
        texts = [r.description for r in rows]
        known_asset, known_named = _group_asset(rows)
        new_named = is_named_asset(report.description, new_asset)
        separation = _separation((x, y), (cx, cy), places.get(new_asset), places.get(known_asset),
                                 new_named, known_named)
        last = max(_naive_utc(r.created_at) for r in rows)
        evidence = Evidence(
            distance_m=distance, limit_m=rules.distance_m, window_days=rules.window_days,
            age_difference_days=max(0.0, (created - last).total_seconds()) / 86400.0,
            same_category=row.category_id == report.category_id, use_assets=rules.use_assets,
            new_asset=new_asset, known_asset=known_asset,
            new_text=report.description, known_text=row.description, known_texts=tuple(texts[1:]),
            new_numbers=new_numbers, known_numbers=set().union(*(typed_numbers(t) for t in texts)),
            new_asset_named=new_named, known_asset_named=known_named, asset_separation_m2=separation,
            new_fractions=new_fractions, known_fractions=_fractions(rules, row.category_id, texts),
        )
        score, reasons = score_pair(evidence, weights)
        if group.members:
            reasons["merged_reports"] = len(group.members)
        if score >= floor:
            scored.append((score, reasons, row.id, row.created_at))
    # Best first; between equals the oldest, so that everyone lands on the report that was there first.
    scored.sort(key=lambda item: (-round(item[0], 6), _naive_utc(item[3]), item[2]))
    scored = scored[:limit]
    if not scored:
        return []
    reports = {r.id: r for r in db.session.scalars(
        select(Report).where(Report.id.in_([item[2] for item in scored])).execution_options(populate_existing=True)
    )}
    return [Candidate(reports[rid], round(score, 4), reasons) for score, reasons, rid, _ in scored if rid in reports]


def _asset_places(new_asset: tuple, groups: list[_Group]) -> dict:
    """RD points of the registered objects of the new report and of the known ones (of the same type)."""
    ids = {new_asset[1]} | {r.asset_external_id for g in groups for r in g.rows() if r.asset_type == new_asset[0]}
    rows = db.session.execute(select(Asset.external_id, Asset.lat, Asset.lon).where(
        Asset.type == new_asset[0], Asset.external_id.in_(sorted(i for i in ids if i)))).all()
    return {(new_asset[0], r.external_id): to_rd(r.lon, r.lat) for r in rows}


def _separation(new_point, known_point, new_place, known_place, new_named: bool, known_named: bool):
    """How much nearer each side is to its own object than to the other's (squared metres), the smaller of
    the two; a side that named its object by number is sure of it. None when a place is unknown."""
    if new_place is None or known_place is None:
        return None

    def preference(point, own, other):
        return (math.dist(point, other) ** 2 - math.dist(point, own) ** 2)

    new_pref = math.inf if new_named else preference(new_point, new_place, known_place)
    known_pref = math.inf if known_named else preference(known_point, known_place, new_place)
    found = min(new_pref, known_pref)
    return None if math.isinf(found) else found


def _group_asset(rows) -> tuple[tuple | None, bool]:
    """The registered object a known report (with the reports merged into it) is about, and whether a resident
    named it by number: a named one wins over the root's nearest-to-GPS one."""
    for row in rows:
        asset = (row.asset_type, row.asset_external_id) if row.asset_type else None
        if is_named_asset(row.description, asset):
            return asset, True
    root = rows[0]
    return ((root.asset_type, root.asset_external_id) if root.asset_type else None), False


def _best_logit(distance: float, rules: Rules, weights: Weights) -> float:
    """The highest logit a pair this far apart can have without typed numbers or registered objects."""
    ratio = distance / (rules.distance_m + weights.gps_slack_m)
    return (weights.prior + weights.distance * (0.5 - ratio) + weights.text * (1 - weights.text_neutral)
            + max(0.0, weights.same_fraction))


def search_radius(rules: Rules, weights: Weights, numbers: bool = False) -> float:
    """How far from the new report known ones are looked for (see SEARCH_FACTOR)."""
    return (rules.distance_m + weights.gps_slack_m) * (SEARCH_FACTOR_NUMBERS if numbers else SEARCH_FACTOR)


def _naive_utc(value: datetime) -> datetime:
    """Stored times are naive UTC on SQLite and aware on PostgreSQL: compare them as naive UTC."""
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo is not None else value


def _fractions(rules: Rules, category_id: int | None, texts: list) -> frozenset[str]:
    """The container fractions a report (with the reports merged into it) is about: all that its words name,
    else its category's; empty for a category that is not about containers."""
    if category_id not in rules.container_ids:
        return frozenset()
    named = frozenset().union(*(fractions_in_text(t) for t in texts))
    return named or rules.category_fractions.get(category_id, frozenset())


_COLUMNS = (Report.id, Report.category_id, Report.created_at, Report.lat, Report.lon, Report.asset_type,
            Report.asset_external_id, Report.description, Report.reporters_count)


def _members(root_ids: list[int]):
    """Rows of the reports merged into these (merges always point at the root: `_absorb` moves children)."""
    return db.session.execute(
        select(*_COLUMNS, Report.duplicate_of_id).where(Report.duplicate_of_id.in_(root_ids),
                                                        Report.status == "duplicate")
    ).all()


def _nearby_open_reports(report: Report, x: float, y: float, radius: float, rules: Rules, created):
    """Rows of open, unmerged reports of the given categories within the box around the point, through the
    spatial index (SpatialIndex on SpatiaLite, GiST on PostGIS). No age limit: open is open."""
    open_codes = select(Status.code).where(Status.is_open.is_(True))
    query = (
        select(*_COLUMNS)
        # closed_at IS NULL is implied by an open status and lets PostGIS use the partial GiST index (0004).
        .where(Report.status.in_(open_codes), Report.closed_at.is_(None), Report.duplicate_of_id.is_(None),
               Report.category_id.in_(sorted(rules.category_ids)),
               Report.lat.is_not(None))
    )
    return db.session.execute(others_in_box(query, report, x, y, radius)).all()


def others_in_box(query, report: Report, x: float, y: float, radius: float):
    """`query` narrowed to the other reports of the report's organisation whose point lies in the square of
    `radius` around (x, y) in RD, through the spatial index (SpatialIndex on SpatiaLite, GiST on PostGIS)."""
    if report.id is not None:
        query = query.where(Report.id != report.id)
    if report.organisation_id is not None:
        query = query.where(Report.organisation_id == report.organisation_id)
    box = {"minx": x - radius, "miny": y - radius, "maxx": x + radius, "maxy": y + radius}
    if is_sqlite(db.session):
        return query.where(text(
            "reports.ROWID IN (SELECT ROWID FROM SpatialIndex WHERE f_table_name = 'reports' "
            f"AND f_geometry_column = 'geom' AND search_frame = BuildMbr(:minx, :miny, :maxx, :maxy, {RD_SRID}))"
        ).bindparams(**box))
    return query.where(text(
        f"reports.geom && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, {RD_SRID})"
    ).bindparams(**box))


# --- the new-report path -----------------------------------------------------------------------------------


def handle_new_report(report: Report, *, weights: Weights | None = None) -> Report | None:
    """Called by the pipeline for every new report, before its transaction commits.

    Merges it into the best known report when the score is at or above the merge score, and answers that
    report; otherwise keeps the less certain candidates as suggestions for staff and answers None.
    """
    if report.lat is None or report.lon is None or report.category is None:
        return None
    weights = weights or WEIGHTS
    db.session.flush()
    lock_for_dedup(report.organisation_id)
    candidates = find_duplicate_candidates(report, weights=weights)
    for candidate in candidates:
        if candidate.score < weights.merge_score:
            break
        try:
            return merge_reports(report, candidate.report, actor="system", score=candidate.score,
                                 reasons=candidate.reasons)
        except MergeRefused:
            continue  # closed or merged meanwhile: the next best, or a suggestion
    for candidate in candidates:
        record_candidate(report, candidate.report, candidate.score, candidate.reasons)
    return None


def record_candidate(report: Report, known: Report, score: float, reasons: dict,
                     state: str = "suggested") -> DuplicateCandidate:
    row = db.session.scalar(select(DuplicateCandidate).where(
        DuplicateCandidate.report_id == report.id, DuplicateCandidate.candidate_id == known.id))
    if row is None:
        row = DuplicateCandidate(report_id=report.id, candidate_id=known.id, score=score, reasons=reasons,
                                 state=state)
        db.session.add(row)
    else:
        row.score, row.reasons, row.state = score, reasons or row.reasons, state
    return row


def stored_candidates(report: Report, state: str = "suggested") -> list[Candidate]:
    """The suggestions kept when the report came in (both directions), best first."""
    rows = db.session.execute(
        select(DuplicateCandidate).where(
            DuplicateCandidate.state == state,
            (DuplicateCandidate.report_id == report.id) | (DuplicateCandidate.candidate_id == report.id))
        .order_by(DuplicateCandidate.score.desc())
    ).scalars().all()
    out = []
    for row in rows:
        other_id = row.candidate_id if row.report_id == report.id else row.report_id
        other = db.session.get(Report, other_id)
        if other is not None:
            out.append(Candidate(other, row.score, row.reasons))
    return out


def lock_for_dedup(organisation_id: int | None) -> None:
    """Serialise duplicate decisions for one organisation until this transaction ends (see module doc)."""
    if is_sqlite(db.session):
        # Any write takes SQLite's database write lock for the rest of the transaction; this one changes nothing.
        db.session.execute(text("UPDATE organisations SET name = name WHERE id = :id"), {"id": organisation_id or 0})
    else:
        db.session.execute(text("SELECT pg_advisory_xact_lock(CAST(:k1 AS integer), CAST(:k2 AS integer))"),
                           {"k1": DEDUP_LOCK_CLASS, "k2": int(organisation_id or 0)})


# --- merge and unmerge --------------------------------------------------------------------------------------


def merge_reports(duplicate: Report, target: Report, *, actor: str, actor_id: int | None = None,
                  score: float | None = None, reasons: dict | None = None) -> Report:
    """Make `duplicate` a duplicate of `target` (or of the report `target` was merged into): its status becomes
    "duplicate", its residents are subscribed to the known report, which counts its reporters. Answers the
    report merged into, and sends `signals.report_merged`. Raises MergeRefused when it cannot be done. Does not
    commit."""
    if duplicate.id == target.id:
        raise MergeRefused("a report cannot be merged into itself")
    if duplicate.duplicate_of_id is not None:
        raise MergeRefused(f"{duplicate.reference} is already merged into another report; unmerge it first")
    if duplicate.organisation_id != target.organisation_id:
        raise MergeRefused("reports of different organisations cannot be merged")
    db.session.flush()
    lock_for_dedup(duplicate.organisation_id)
    target = _root_locked(target)
    if target.id == duplicate.id:
        raise MergeRefused(f"{target.reference} is already merged into {duplicate.reference}")
    if not target.is_open:
        raise MergeRefused(f"{target.reference} is closed ({target.status}); a closed report is not a merge target")

    try:
        change_status(duplicate, "duplicate", f"Samengevoegd met {target.reference}", actor=actor,
                      actor_id=actor_id)
    except TransitionRefused as exc:
        raise MergeRefused(exc.reason) from None
    moved = _absorb(duplicate, target)
    duplicate.duplicate_of = target
    duplicate.duplicate_of_id = target.id
    db.session.flush()
    _recount(target)
    _recount(duplicate)
    automatic = actor == "system"
    add_event(target, "merge", actor=actor, actor_id=actor_id,
              note=f"{duplicate.reference} samengevoegd met deze melding",
              data={"duplicate": duplicate.reference, "automatic": automatic, "score": score,
                    "reasons": reasons or {}, "moved_duplicates": moved})
    add_event(duplicate, "merge", actor=actor, actor_id=actor_id, note=f"Samengevoegd met {target.reference}",
              data={"into": target.reference, "automatic": automatic, "score": score})
    record_candidate(duplicate, target, score if score is not None else 1.0, reasons or {"by": actor},
                     state="merged")
    db.session.flush()
    signals.report_merged.send(target, duplicate=duplicate,
                               reporter=duplicate.reporter if duplicate.reporter_id is not None else None)
    return target


def unmerge_report(duplicate: Report, *, actor: str, actor_id: int | None = None) -> Report:
    """Undo a merge: the report is its own again (status "new"), its residents return to it, and the known
    report counts one reporter less. Answers the report it was merged into. Does not commit."""
    if duplicate.duplicate_of_id is None:
        raise MergeRefused(f"{duplicate.reference} is not merged into another report")
    db.session.flush()
    lock_for_dedup(duplicate.organisation_id)
    target = db.session.get(Report, duplicate.duplicate_of_id, with_for_update=True, populate_existing=True)

    returning = db.session.scalars(select(ReportSubscription).where(
        ReportSubscription.report_id == target.id, ReportSubscription.via_report_id == duplicate.id)).all()
    own = set(db.session.scalars(select(ReportSubscription.reporter_id).where(
        ReportSubscription.report_id == duplicate.id)))
    for sub in returning:
        if sub.reporter_id in own:
            db.session.delete(sub)
        else:
            sub.report_id = duplicate.id
            own.add(sub.reporter_id)
    if duplicate.reporter_id is not None and duplicate.reporter_id not in own:
        db.session.add(ReportSubscription(report_id=duplicate.id, reporter_id=duplicate.reporter_id,
                                          via_report_id=duplicate.id))
    duplicate.duplicate_of = None
    duplicate.duplicate_of_id = None
    try:
        change_status(duplicate, "new", f"Losgemaakt van {target.reference}", actor=actor, actor_id=actor_id)
    except TransitionRefused as exc:
        raise MergeRefused(exc.reason) from None
    db.session.flush()
    _recount(target)
    _recount(duplicate)
    add_event(target, "unmerge", actor=actor, actor_id=actor_id,
              note=f"{duplicate.reference} is weer een eigen melding",
              data={"duplicate": duplicate.reference, "residents_returned": len(returning)})
    add_event(duplicate, "unmerge", actor=actor, actor_id=actor_id, note=f"Losgemaakt van {target.reference}",
              data={"from": target.reference})
    # Staff said these are different problems: never merge this pair automatically again.
    record_candidate(duplicate, target, 0.0, {"by": actor, "unmerged": True}, state="rejected")
    db.session.flush()
    return target


def _root_locked(report: Report) -> Report:
    """The report at the end of the duplicate_of chain, re-read under a row lock (FOR UPDATE on PostgreSQL)."""
    seen = set()
    current = db.session.get(Report, report.id, with_for_update=True, populate_existing=True)
    while current.duplicate_of_id is not None and current.id not in seen:
        seen.add(current.id)
        current = db.session.get(Report, current.duplicate_of_id, with_for_update=True, populate_existing=True)
    return current


def _absorb(duplicate: Report, target: Report) -> list[str]:
    """Move the duplicate's residents and its own duplicates to the target; answers the moved references."""
    have = set(db.session.scalars(select(ReportSubscription.reporter_id).where(
        ReportSubscription.report_id == target.id)))
    for sub in db.session.scalars(select(ReportSubscription).where(ReportSubscription.report_id == duplicate.id)):
        if sub.reporter_id in have:
            db.session.delete(sub)  # already hears about the target; an unmerge subscribes them again
            continue
        sub.report_id = target.id
        sub.via_report_id = sub.via_report_id or duplicate.id
        have.add(sub.reporter_id)
    moved = []
    for child in db.session.scalars(select(Report).where(Report.duplicate_of_id == duplicate.id)
                                    .options(load_only(Report.id, Report.reference, Report.duplicate_of_id))):
        child.duplicate_of_id = target.id
        moved.append(child.reference)
    return moved


def _recount(report: Report) -> None:
    """Reporters of a report: itself and every report merged into it."""
    merged = db.session.scalar(select(func.count()).select_from(Report).where(Report.duplicate_of_id == report.id))
    report.reporters_count = 1 + int(merged or 0)
