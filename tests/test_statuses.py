"""The status table as data: every allowed move works, forbidden moves are refused with a reason."""

import pytest

from meldingen.extensions import db
from meldingen.reports.models import ReportEvent, StatusTransition
from meldingen.reports.services import change_status
from meldingen.reports.statuses import DEFAULT_TRANSITIONS, TransitionRefused
from tests.factories import make_report

# How to bring a new report into a given status with allowed moves.
PATH_TO = {
    "new": [],
    "in_progress": [("in_progress", None)],
    "planned": [("planned", None)],
    "on_hold": [("on_hold", None)],
    "forwarded": [("forwarded", None)],
    "done": [("done", "Gerepareerd")],
    "cancelled": [("cancelled", "Dubbel gemeld")],
    "reopened": [("done", "Gerepareerd"), ("reopened", "Toch nog kapot")],
    "duplicate": [("duplicate", None)],
}


def report_in(status):
    report = make_report()
    for step, note in PATH_TO[status]:
        change_status(report, step, note)
    db.session.commit()
    assert report.status == status
    return report


@pytest.mark.parametrize("frm,to,needs_note", DEFAULT_TRANSITIONS, ids=lambda v: str(v))
def test_every_allowed_transition_is_made_and_recorded(app, frm, to, needs_note):
    report = report_in(frm)
    change_status(report, to, "Met toelichting" if needs_note else None, actor="tester@example.nl")
    db.session.commit()
    assert report.status == to
    last = report.events[-1]
    assert (last.kind, last.from_status, last.status, last.actor) == ("status", frm, to, "tester@example.nl")


@pytest.mark.parametrize("frm,to", [
    ("new", "reopened"), ("done", "in_progress"), ("cancelled", "done"), ("done", "planned"),
    ("new", "new"), ("duplicate", "done"), ("planned", "forwarded"),
])
def test_forbidden_transitions_are_refused_with_a_reason(app, frm, to):
    report = report_in(frm)
    with pytest.raises(TransitionRefused) as refused:
        change_status(report, to, "een notitie")
    assert f"'{frm}'" in refused.value.reason and f"'{to}'" in refused.value.reason
    db.session.rollback()
    assert report.status == frm


@pytest.mark.parametrize("to", ["done", "cancelled"])
def test_closing_needs_a_note(app, to):
    report = report_in("in_progress")
    with pytest.raises(TransitionRefused, match="needs a note"):
        change_status(report, to, "   ")


def test_reopening_needs_a_note(app):
    report = report_in("done")
    with pytest.raises(TransitionRefused, match="needs a note"):
        change_status(report, "reopened", None)


def test_unknown_status_is_refused(app):
    report = report_in("new")
    with pytest.raises(TransitionRefused, match="unknown status"):
        change_status(report, "exploded", "x")


def test_the_table_is_data_an_administrator_can_change(app):
    report = report_in("done")
    db.session.add(StatusTransition(from_code="done", to_code="in_progress", requires_note=False))
    db.session.commit()
    change_status(report, "in_progress", None)
    assert report.status == "in_progress"


def test_history_is_append_only_and_ordered(app):
    report = report_in("reopened")
    kinds = [(e.kind, e.status) for e in db.session.query(ReportEvent).filter_by(report_id=report.id)
             .order_by(ReportEvent.id)]
    assert kinds[0] == ("created", "new")
    assert [s for k, s in kinds if k == "status"] == ["done", "reopened"]
    assert report.closed_at is None
