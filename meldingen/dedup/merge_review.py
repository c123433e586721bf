"""What staff see before they merge two reports by hand, and when a merge needs their reason.

Two reports of different categories (that the category rules do not relate), or further apart than the known
report's category allows for duplicates, or without a known place, are probably two problems: staff may still
merge them, but only with a reason, which is kept in both histories. The staff pages and the JSON API both ask
`review_merge` and `check_merge_reason` before they call `merge_reports`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from meldingen.dedup.services import DEFAULT_DISTANCE_M, MergeRefused, merge_reports, rules_for
from meldingen.geo.crs import to_rd
from meldingen.reports.models import Report
from meldingen.reports.services import add_event

MAX_REASON_LENGTH = 1000


class MergeNeedsReason(MergeRefused):
    """A merge of two reports that look like different problems, asked for without a reason."""


@dataclass
class MergeReview:
    duplicate: Report
    target: Report
    distance_m: float | None  # None where either place is unknown
    limit_m: float  # the known report's category's duplicate distance
    same_category: bool  # the same sub category, or one the category rules relate
    concerns: list[str] = field(default_factory=list)  # in Dutch, for staff
    concerns_en: list[str] = field(default_factory=list)  # the same, in English, for systems (API)

    @property
    def needs_reason(self) -> bool:
        return bool(self.concerns)

    @property
    def days_apart(self) -> float:
        a, b = self.duplicate.created_at, self.target.created_at
        return abs(_naive(a) - _naive(b)).total_seconds() / 86400.0

    def as_dict(self) -> dict:
        def side(report: Report) -> dict:
            return {"reference": report.reference, "status": report.status,
                    "category": report.category.slug if report.category is not None else None,
                    "created_at": report.created_at, "reporters_count": report.reporters_count}

        return {"duplicate": side(self.duplicate), "into": side(self.target),
                "distance_m": None if self.distance_m is None else round(self.distance_m, 1),
                "duplicate_distance_m": self.limit_m, "same_category": self.same_category,
                "days_apart": round(self.days_apart, 1), "needs_reason": self.needs_reason,
                "concerns": self.concerns_en}


def _naive(value: datetime) -> datetime:
    return value.replace(tzinfo=None) if value.tzinfo is not None else value


def review_merge(duplicate: Report, target: Report) -> MergeReview:
    """Distance, categories and dates of the pair, and what speaks against it being one problem."""
    distance = None
    if None not in (duplicate.lat, duplicate.lon, target.lat, target.lon):
        ax, ay = to_rd(duplicate.lon, duplicate.lat)
        bx, by = to_rd(target.lon, target.lat)
        distance = ((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5
    rules = rules_for(target.category) if target.category is not None else None
    limit = rules.distance_m if rules is not None else DEFAULT_DISTANCE_M
    same = (duplicate.category_id is not None and rules is not None
            and duplicate.category_id in rules.category_ids)
    review = MergeReview(duplicate=duplicate, target=target, distance_m=distance, limit_m=limit, same_category=same)
    if not same:
        names = (duplicate.category.name if duplicate.category else "geen categorie",
                 target.category.name if target.category else "geen categorie")
        review.concerns.append(f"andere categorie: {names[0]} en {names[1]}")
        review.concerns_en.append("the reports are of different categories")
    if distance is None:
        review.concerns.append("de plaats van een van beide meldingen is onbekend")
        review.concerns_en.append("the place of one of the reports is unknown")
    elif distance > limit:
        review.concerns.append(f"{distance:.0f} m uit elkaar (dubbele meldingen liggen hooguit {limit:.0f} m "
                               "uit elkaar)")
        review.concerns_en.append(f"the reports lie {distance:.0f} m apart, more than the category's duplicate "
                                  f"distance of {limit:.0f} m")
    return review


def check_merge_reason(review: MergeReview, reason: str | None) -> str | None:
    """The reason, cleaned, when the pair needs one; raises MergeNeedsReason when it is missing."""
    reason = (reason or "").strip()[:MAX_REASON_LENGTH] or None
    if review.needs_reason and reason is None:
        raise MergeNeedsReason("give a reason to merge these reports: " + "; ".join(review.concerns_en))
    return reason


def record_merge_reason(review: MergeReview, reason: str | None, *, actor: str, actor_id: int | None) -> None:
    """Keep the reason in both histories, next to the merge events. Does not commit."""
    if not reason:
        return
    for report, other in ((review.duplicate, review.target), (review.target, review.duplicate)):
        add_event(report, "note", actor=actor, actor_id=actor_id,
                  note=f"Reden samenvoegen met {other.reference}: {reason}",
                  data={"merge_reason": reason, "concerns": review.concerns})


def merge_with_reason(duplicate: Report, target: Report, reason: str | None, *, actor: str,
                      actor_id: int | None = None) -> MergeReview:
    """Merge by hand: the duplicates service's own refusals first (already merged, closed target, …), then the
    review against the report actually merged into. Raises MergeRefused / MergeNeedsReason, after which the
    caller rolls back (the merge is then undone with everything else). Does not commit."""
    root = merge_reports(duplicate, target, actor=actor, actor_id=actor_id)
    review = review_merge(duplicate, root)
    reason = check_merge_reason(review, reason)
    record_merge_reason(review, reason, actor=actor, actor_id=actor_id)
    return review
