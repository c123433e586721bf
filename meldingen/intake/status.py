"""Answers to "how is my report doing?": one named report, or the resident's open reports (newest first, at
most three) with their status and the date they are expected to be dealt with; none open is said so."""

from __future__ import annotations

from sqlalchemy import or_, select

from meldingen.extensions import db
from meldingen.intake.draft import Intake, category_name
from meldingen.notify.hooks import status_name
from meldingen.reports.models import Report, ReportSubscription
from meldingen.residents.models import Reporter

MOST_REPORTS_LISTED = 3
_MONTHS = {
    "nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
           "november", "december"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
}  # fmt: skip


def residents_reports(reporter: Reporter) -> list[Report]:
    """The reports the resident made or follows, newest first; a merged one stands for the report it joined."""
    own = db.session.scalars(
        select(Report).where(or_(
            Report.reporter_id == reporter.id,
            Report.id.in_(select(ReportSubscription.report_id).where(ReportSubscription.reporter_id == reporter.id))))
        .order_by(Report.created_at.desc(), Report.id.desc()).limit(50)
    ).all()
    shown, seen = [], set()
    for report in own:
        main = followed(report)
        if main.id not in seen:
            seen.add(main.id)
            shown.append(main)
    return shown


def followed(report: Report) -> Report:
    shown = report
    for _ in range(10):  # a chain of merges is short; never loop forever on bad data
        if shown.duplicate_of_id is None or shown.status != "duplicate":
            break
        shown = db.session.get(Report, shown.duplicate_of_id)
    return shown


def open_reports(reporter: Reporter) -> list[Report]:
    return [r for r in residents_reports(reporter) if r.closed_at is None]


def expected_date(report: Report, language: str) -> str:
    if report.deadline is None:
        return ""
    day = report.deadline
    month = _MONTHS.get(language, _MONTHS["nl"])[day.month - 1]
    return f"{day.day} {month} {day.year}"


def answer_status(intake: Intake, cause: str, reference: str | None) -> None:
    """Reply to a status question: the named report, or the open ones."""
    if reference is not None:
        return _answer_one(intake, cause, reference)
    reports = open_reports(intake.reporter)
    if not reports:
        last = residents_reports(intake.reporter)[:1]
        if last:
            intake.reply("status_none_open", cause, values={
                "reference": last[0].reference, "status": status_name(last[0].status, intake.language)})
        else:
            intake.reply("status_no_reports", cause)
        return
    listed = reports[:MOST_REPORTS_LISTED]
    lines = [_line(intake, report) for report in listed]
    more = len(reports) - len(listed)
    intake.reply("status_open_reports", cause, values={
        "count": len(reports), "reports": "\n".join(lines),
        "more": intake.text("status_more_reports", count=more) if more else ""},
        report_id=listed[0].id)


def _line(intake: Intake, report: Report) -> str:
    expected = expected_date(report, intake.language)
    return intake.text("status_line", reference=report.reference, category=category_name(report, intake.language),
                       status=status_name(report.status, intake.language),
                       expected=intake.text("status_expected", date=expected) if expected else "")


def _answer_one(intake: Intake, cause: str, reference: str) -> None:
    mine = {r.reference: r for r in db.session.scalars(
        select(Report).where(Report.reference == reference, or_(
            Report.reporter_id == intake.reporter.id,
            Report.id.in_(select(ReportSubscription.report_id)
                          .where(ReportSubscription.reporter_id == intake.reporter.id)))))}
    report = mine.get(reference)
    if report is None:
        intake.reply("status_not_found", cause, values={"reference": reference})
        return
    shown = followed(report)
    note = last_public_note(shown)
    expected = expected_date(shown, intake.language) if shown.closed_at is None else ""
    values = {"reference": shown.reference, "own_reference": report.reference,
              "status": status_name(shown.status, intake.language),
              "category": category_name(shown, intake.language),
              "expected": intake.text("status_expected", date=expected) if expected else "",
              "note": intake.text("note_line", note=note) if note else ""}
    intake.reply("status_reply_merged" if shown is not report else "status_reply", cause,
                 values=values, report_id=shown.id)


def last_public_note(report: Report) -> str | None:
    """The last message staff chose to send residents with a status change; never a change's internal `note`."""
    for item in reversed(report.events):
        if item.kind == "status" and (item.resident_message or "").strip():
            return (item.resident_message or "").strip()
    return None
