"""Who may see which reports: staff see their own organisation's reports, crews their department's."""

from __future__ import annotations

from sqlalchemy import or_, select

from meldingen import authz
from meldingen.extensions import db
from meldingen.reports.models import Report


def visible_organisation_ids(staff) -> list[int]:
    """The staff member's organisation, and for a shared service point the organisations it serves."""
    return authz.acting_organisation_ids(staff)


def scope_reports(query, staff):
    """Restrict a select(Report) to what this staff member may see."""
    org_ids = visible_organisation_ids(staff)
    condition = Report.organisation_id.in_(org_ids)
    if staff.organisation is not None and staff.organisation.kind == "service_point":
        condition = or_(condition, Report.organisation_id.is_(None))
    query = query.where(condition)
    if staff.role == "crew" and staff.department_id is not None:
        query = query.where(Report.department_id == staff.department_id)
    return query


def visible_report(staff, reference: str) -> Report | None:
    query = scope_reports(select(Report).where(Report.reference == reference.upper()), staff)
    return db.session.scalar(query)
