"""Issue 24: a long-running problem stays one report while it is open; after "done" the same problem again is a
new report that links to the old one ("opnieuw gemeld, na M-… afgehandeld op …")."""

from __future__ import annotations

import math
from datetime import timedelta

from sqlalchemy import select

from meldingen.extensions import db
from meldingen.reports.models import Report, ReportEvent
from meldingen.reports.services import change_status
from meldingen.timeutil import utcnow
from tests.factories import AMSTERDAM, make_report

LIGHT = "straatverlichting-openbare-klok"
M_LAT = 1 / 111_200
M_LON = 1 / 67_900
PASSWORD = "correct horse battery"


def around(point, metres: float, degrees: float):
    a = math.radians(degrees)
    return (point[0] + metres * math.sin(a) * M_LAT, point[1] + metres * math.cos(a) * M_LON)


def test_ten_residents_over_three_weeks_about_one_dead_light_make_one_report_without_a_register(app):
    start = utcnow() - timedelta(days=21)
    # Phones put them 12–24 m from the light, all around it: the first and the last stand 40 m apart.
    texts = ["Lantaarnpaal doet het niet", "lamp kapot", "Straatlamp brandt niet", "het is donker, lamp uit",
             "De straatverlichting is uit", "lantaarnpaal nog steeds kapot", "Lamp doet het al weken niet",
             "Straatlantaarn brandt niet meer", "lamp is nog altijd kapot", "lantaarn kapot, hele stuk donker"]
    reports = [make_report(text, point=around(AMSTERDAM, 12 + (i % 4) * 4, i * 137), category=LIGHT,
                           created_at=start + timedelta(days=i * 2.2)) for i, text in enumerate(texts)]
    first = reports[0]
    assert all(r.duplicate_of_id == first.id for r in reports[1:])
    db.session.refresh(first)
    assert first.reporters_count == 10


def test_after_done_the_same_light_the_same_day_is_a_new_report_that_links_to_the_old_one(app, make_staff):
    old = make_report("Lantaarnpaal doet het niet", point=AMSTERDAM, category=LIGHT)
    change_status(old, "done", "Lamp vervangen")
    db.session.commit()
    again = make_report("De lantaarnpaal is weer uit", point=around(AMSTERDAM, 6, 90), category=LIGHT)
    assert again.duplicate_of_id is None and again.status == "new"
    link = db.session.scalar(select(ReportEvent).where(ReportEvent.report_id == again.id,
                                                       ReportEvent.kind == "recurrence"))
    done_on = old.closed_at.strftime("%d-%m-%Y")
    assert link.note == f"Opnieuw gemeld, na {old.reference} afgehandeld op {done_on}"
    assert link.data["previous"] == old.reference
    # A third resident that evening joins the new report, not the done one.
    third = make_report("lamp kapot", point=around(AMSTERDAM, 5, 200), category=LIGHT)
    assert third.duplicate_of_id == again.id

    head, _ = make_staff("head")
    client = app.test_client()
    assert client.post("/staff/login", data={"email": head.email, "password": PASSWORD}).status_code == 302
    page = client.get(f"/staff/reports/{again.reference}").get_data(as_text=True)
    assert "Opnieuw gemeld" in page and f"/staff/reports/{old.reference}" in page and done_on in page


def test_another_problem_after_done_is_not_linked_to_it(app):
    old = make_report("Lantaarnpaal doet het niet", point=AMSTERDAM, category=LIGHT)
    change_status(old, "done", "Lamp vervangen")
    db.session.commit()
    tile = make_report("Losse stoeptegel", point=AMSTERDAM)
    far = make_report("Lantaarnpaal doet het niet", point=around(AMSTERDAM, 400, 0), category=LIGHT)
    linked = db.session.scalars(select(ReportEvent.report_id).where(ReportEvent.kind == "recurrence")).all()
    assert linked == [] and tile.duplicate_of_id is None and far.duplicate_of_id is None


def test_a_merged_report_of_a_done_problem_is_never_a_target(app):
    old = make_report("Lantaarnpaal doet het niet", point=AMSTERDAM, category=LIGHT)
    dup = make_report("lamp kapot", point=around(AMSTERDAM, 4, 0), category=LIGHT)
    assert dup.duplicate_of_id == old.id
    change_status(db.session.get(Report, old.id), "done", "Lamp vervangen")
    db.session.commit()
    again = make_report("lamp kapot", point=around(AMSTERDAM, 4, 10), category=LIGHT)
    assert again.duplicate_of_id is None
