"""What staff do to one report from the web pages, through the shared report, media and dedup services:
change its status with a note and a photo, reassign department or assignee, undo a merge (merging by hand, with
its review, is meldingen.dedup.merge_review.merge_with_reason). Each flushes its changes; the page that called it
commits, or rolls back after a refusal."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from meldingen.accounts.models import StaffUser
from meldingen.dedup import services as dedup_services
from meldingen.extensions import db
from meldingen.organisations.models import Department
from meldingen.reports.access import scope_reports
from meldingen.reports.models import Report
from meldingen.reports.services import add_event, change_status

# The buttons a field crew sees, in this order; each shown only where the status table allows the move.
CREW_STATUSES = ("in_progress", "planned", "done")  # = authz.LIMITED_STATUSES["crew"]


class ActionRefused(Exception):
    """A refused action with the reason shown to the staff member (Dutch)."""


def update_status_with_photo(report: Report, staff, new_status: str, note: str | None, upload=None,
                             resident_message: str | None = None):
    """Status change (the status-change hooks tell subscribed residents) plus an optional photo. Flushes.

    `note` stays internal; `resident_message` (staff chose "bericht aan melder") goes to the residents.

    Raises TransitionRefused (status table) or ImageRejected (photo); the caller rolls back then.
    """
    from meldingen.media.services import store_photo

    note = (note or "").strip() or None
    photo = None
    if upload is not None and upload.filename:
        data = upload.read(current_app.config["MAX_PHOTO_BYTES"] + 1)
        photo = store_photo(data, source="staff", report_id=report.id, uploaded_by_id=staff.id)
    change_status(report, new_status, note, actor=staff.email, actor_id=staff.id,
                  resident_message=resident_message)
    if photo is not None:
        add_event(report, "photo", actor=staff.email, actor_id=staff.id, data={"photo": photo.token})
    db.session.flush()
    return photo


def reassign(report: Report, staff, department_code: str | None, assignee_id: int | None) -> None:
    """Give the report another department (of its own organisation) and/or assignee. Flushes.

    Raises ActionRefused for a department or assignee that does not belong to the report's organisation; a
    department may have been changed before an assignee is refused, so the caller rolls back then."""
    changes = {}
    if department_code is not None:
        department = None
        if department_code:
            department = db.session.scalar(select(Department).where(
                Department.organisation_id == report.organisation_id, Department.code == department_code))
            if department is None:
                raise ActionRefused(f"Afdeling {department_code} bestaat niet bij deze organisatie.")
        if (department.id if department else None) != report.department_id:
            changes["department"] = [report.department.code if report.department else None,
                                     department.code if department else None]
            report.department = department
    if assignee_id is not None:
        assignee = None
        if assignee_id:
            assignee = db.session.get(StaffUser, assignee_id)
            if assignee is None or not assignee.active or assignee.organisation_id != report.organisation_id:
                raise ActionRefused("Deze medewerker hoort niet bij de organisatie van de melding.")
        if (assignee.id if assignee else None) != report.assignee_id:
            changes["assignee"] = [report.assignee.email if report.assignee else None,
                                   assignee.email if assignee else None]
            report.assignee = assignee
    if not changes:
        return
    kind = "routing" if "department" in changes else "assign"
    add_event(report, kind, actor=staff.email, actor_id=staff.id, data=changes)
    db.session.flush()


def take(report: Report, staff) -> bool:
    """The staff member takes the report for themselves (assignee: them). Flushes; False when it was theirs.

    Raises ActionRefused for a closed report or one of another organisation (a service point's staff see the
    municipalities' reports but work for their own organisation: a report is taken by its own organisation)."""
    if report.organisation_id != staff.organisation_id:
        raise ActionRefused("U kunt alleen meldingen van uw eigen organisatie op uw naam zetten.")
    if not report.is_open:
        raise ActionRefused("Deze melding is al afgesloten.")
    if report.assignee_id == staff.id:
        return False
    add_event(report, "assign", actor=staff.email, actor_id=staff.id,
              data={"assignee": [report.assignee.email if report.assignee else None, staff.email]})
    report.assignee = staff
    db.session.flush()
    return True


def duplicate_candidates(report: Report, staff) -> list[dict]:
    """Reports that may be the same problem, from the duplicates service; only those the staff member may see."""
    candidates = [(found.report, found.score) for found in dedup_services.find_duplicate_candidates(report)]
    visible_ids = set(db.session.scalars(scope_reports(
        select(Report.id).where(Report.id.in_([c.id for c, _ in candidates] or [0])), staff)))
    return [{"report": c, "score": s} for c, s in candidates if c.id in visible_ids and c.id != report.id]


def unmerge(duplicate: Report, staff) -> None:
    dedup_services.unmerge_report(duplicate, actor=staff.email, actor_id=staff.id)
    db.session.flush()

