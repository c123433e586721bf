"""Bulk actions from the staff search: many reports to one status, department or assignee.

Each report goes through the same services as a change on its own page (the status table, the status-change
hooks that tell residents, the history, reassignment checks) inside a savepoint of its own: one refusal undoes
that report's change only, never the others, and every refusal comes back with its reason. The request commits
them all at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from meldingen.db import begin_write
from meldingen.extensions import db
from meldingen.reports.access import visible_report
from meldingen.reports.services import change_status
from meldingen.reports.statuses import TransitionRefused, load_status_table
from meldingen.staff import report_actions
from meldingen.staff.roles import STATUS_ROLES
from meldingen.staff.search import clean_text

ACTIONS = ("status", "department", "assignee")
MAX_REPORTS = 200


class BulkInputError(ValueError):
    """A bulk request that cannot be carried out at all (HTTP 400), with the reason in Dutch."""


@dataclass
class BulkOutcome:
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # reference, reason (Dutch)


def apply_bulk(staff, references: list[str], action: str, value: str, note: str | None = None,
               limit: int = MAX_REPORTS) -> BulkOutcome:
    """Apply one action to every report the staff member may see among `references` (at most `limit`: ticked
    ones MAX_REPORTS, every one a filter finds more). Flushes; the caller commits."""
    references = list(dict.fromkeys(clean_text(r).upper()[:20] for r in references if clean_text(r)))
    if not references:
        raise BulkInputError("Kies eerst een of meer meldingen.")
    if len(references) > limit:
        raise BulkInputError(f"Kies hoogstens {limit} meldingen tegelijk.")
    if action not in ACTIONS:
        raise BulkInputError("Kies wat er met de meldingen moet gebeuren.")
    note = clean_text(note)[:5000] or None
    value = clean_text(value)
    if action == "status":
        table = load_status_table()
        if value not in table.names:
            raise BulkInputError("Deze status bestaat niet.")
        if value == "duplicate":
            raise BulkInputError("Samenvoegen gaat per melding, met de melding waarmee ze samengaan.")
        if staff.role not in STATUS_ROLES or (
                staff.role == "crew" and value not in report_actions.CREW_STATUSES):
            raise BulkInputError("U mag deze status niet zetten.")
    assignee_id = None
    if action == "assignee":
        if value and not value.isdigit():
            raise BulkInputError("Kies een medewerker.")
        assignee_id = int(value[:9]) if value else 0

    outcome = BulkOutcome()
    begin_write(db.session)  # SQLite: a real transaction around the savepoints (and the write lock, taken once)
    for reference in references:
        report = visible_report(staff, reference)
        if report is None:
            outcome.refused.append((reference, "niet gevonden"))
            continue
        try:
            with db.session.begin_nested():
                if action == "status":
                    if report.status == value:
                        outcome.unchanged.append(reference)
                        continue
                    change_status(report, value, note, actor=staff.email, actor_id=staff.id)
                    outcome.changed.append(reference)
                else:
                    before = (report.department_id, report.assignee_id)
                    if action == "department":
                        report_actions.reassign(report, staff, value, None)
                    else:
                        report_actions.reassign(report, staff, None, assignee_id)
                    changed = (report.department_id, report.assignee_id) != before
                    (outcome.changed if changed else outcome.unchanged).append(reference)
        except TransitionRefused:
            outcome.refused.append((reference, refusal_in_dutch(report.status, value)))
        except report_actions.ActionRefused as exc:
            outcome.refused.append((reference, str(exc)))
    return outcome


def refusal_in_dutch(current: str, new: str) -> str:
    """Why the status table refuses a move, in the words of the status names staff know."""
    table = load_status_table()
    names = table.names
    if (current, new) not in table.moves:
        return f"kan niet van ‘{names.get(current, current)}’ naar ‘{names.get(new, new)}’"
    return f"naar ‘{names.get(new, new)}’ kan alleen met een notitie"
