"""Merging by typed reference on the staff pages: both reports shown side by side with their distance,
categories and dates first; a reason asked for where they look like different problems; unmerge."""

from __future__ import annotations

import pytest

from meldingen.extensions import db
from tests.factories import AMSTERDAM, make_report

pytestmark = pytest.mark.rolled_back  # one shared database, rolled back after each test

PASSWORD = "correct horse battery"
METRES_37_EAST = (AMSTERDAM[0], AMSTERDAM[1] + 37 / 67_900)


def signed_in(app, user):
    client = app.test_client()
    assert client.post("/staff/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return client


def test_typing_a_reference_shows_distance_categories_and_dates_and_asks_a_reason_for_different_problems(
        app, make_staff):
    head, _ = make_staff("head")
    known = make_report("Losse stoeptegel", point=AMSTERDAM)
    other = make_report("Container zit vol", point=METRES_37_EAST, category="container-is-vol")
    client = signed_in(app, head)
    assert 'name="target"' in client.get(f"/staff/reports/{other.reference}").get_data(as_text=True)
    page = client.get(f"/staff/reports/{other.reference}/merge?target={known.reference.lower()}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "37 m" in html and "andere categorie" in html and known.category.name in html
    assert other.created_at.strftime("%d-%m-%Y") in html or "-20" in html
    assert "Reden (verplicht)" in html
    # Without a reason: not merged, back to the review with a plain message.
    refused = client.post(f"/staff/reports/{other.reference}/merge", data={"target": known.reference})
    assert refused.status_code == 303 and "/merge?target=" in refused.headers["Location"]
    db.session.expire_all()
    assert other.duplicate_of_id is None
    done = client.post(f"/staff/reports/{other.reference}/merge",
                       data={"target": known.reference, "reason": "Melder wees de verkeerde plek aan"})
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/staff/reports/{known.reference}")
    db.session.expire_all()
    assert other.duplicate_of_id == known.id and other.status == "duplicate"
    assert any("Melder wees de verkeerde plek aan" in (e.note or "") for e in known.events)
    # And undone again.
    client.post(f"/staff/reports/{other.reference}/unmerge")
    db.session.expire_all()
    assert other.duplicate_of_id is None and other.status == "new"


def test_an_unknown_or_invisible_typed_reference_is_named_back(app, make_staff):
    head, _ = make_staff("head")
    report = make_report("Losse stoeptegel", point=AMSTERDAM)
    client = signed_in(app, head)
    response = client.get(f"/staff/reports/{report.reference}/merge?target=M-ZZZZZZ", follow_redirects=True)
    assert "Melding ‘M-ZZZZZZ’ niet gevonden." in response.get_data(as_text=True)
    response = client.get(f"/staff/reports/{report.reference}/merge?target={report.reference}",
                          follow_redirects=True)
    assert "niet met zichzelf" in response.get_data(as_text=True)
