"""The status form's server side: an implicit submission (no status) changes nothing; a change that messages
residents or cancels the report is confirmed first, in a sentence with the true count of residents who hear of it;
the page marks the buttons that will ask, and the flash after it says how many were told (never "0 melders")."""

from __future__ import annotations

import pytest

from meldingen.extensions import db
from meldingen.reports.models import Report
from tests.factories import make_report
from tests.test_staff_notes import crew_client, followed, messages_of, sign_in

pytestmark = pytest.mark.rolled_back


def test_a_post_without_a_status_changes_nothing(crew_client, followed):
    report, _ = followed
    answer = crew_client.post(f"/staff/reports/{report.reference}/status",
                              data={"status": "", "note": "x", "to_resident": "1", "resident_message": "Hallo"},
                              follow_redirects=True)
    assert "Er is niets gewijzigd" in answer.get_data(as_text=True)
    assert db.session.get(Report, report.id).status == "new" and messages_of(report) == []


def test_the_page_guards_implicit_submission_and_marks_the_buttons_that_ask(crew_client, followed):
    report, _ = followed
    page = crew_client.get(f"/staff/reports/{report.reference}").get_data(as_text=True)
    form = page[page.index('id="status-form"'):]
    first_button = form[form.index("<button"):form.index("</button>")]
    assert 'formmethod="dialog"' in first_button and 'name="status"' not in first_button
    assert 'value="done" class="st-done" data-confirm="1"' in page  # residents hear of "Afgehandeld"
    quiet = page[page.index('value="in_progress"'):]
    assert "data-confirm" not in quiet[:quiet.index(">")]  # a quiet change is not asked about
    assert 'data-summary="De melding wordt afgehandeld en 3 melders krijgen dit bericht."' in page  # for no signal


def test_done_with_followers_is_confirmed_with_the_true_count_then_made(crew_client, followed):
    report, residents = followed
    asked = crew_client.post(f"/staff/reports/{report.reference}/status", data={"status": "done", "note": "Klaar"})
    text = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "De melding wordt afgehandeld en 3 melders krijgen dit bericht." in text
    assert "0 melders" not in text and db.session.get(Report, report.id).status == "new"
    preview = crew_client.get(f"/staff/reports/{report.reference}/message-preview",
                              query_string={"status": "done", "message": ""}).json
    assert preview["summary"] == "De melding wordt afgehandeld en 3 melders krijgen dit bericht."
    assert preview["residents"] == 3 and preview["confirm"] is True
    done = crew_client.post(f"/staff/reports/{report.reference}/status",
                            data={"status": "done", "note": "Klaar", "confirmed": "1"}, follow_redirects=True)
    assert "3 melders krijgen hiervan bericht" in done.get_data(as_text=True)
    assert len(messages_of(report)) == len(residents)


def test_a_message_nobody_can_receive_says_so_instead_of_0_melders(app, make_staff):
    report = make_report("Fietswrak bij het station", point=(52.3650, 4.9100))
    user, _ = make_staff("head", "GM0363")
    client = app.test_client()
    sign_in(client, user)
    asked = client.post(f"/staff/reports/{report.reference}/status",
                        data={"status": "in_progress", "to_resident": "1", "resident_message": "We kijken ernaar."})
    text = asked.get_data(as_text=True)
    assert "Niemand volgt deze melding" in text and "0 melders" not in text
    cancel = client.post(f"/staff/reports/{report.reference}/status", data={"status": "cancelled", "note": "Weg"})
    assert cancel.status_code == 200 and "De melding wordt geannuleerd." in cancel.get_data(as_text=True)
    assert db.session.get(Report, report.id).status == "new"
    made = client.post(f"/staff/reports/{report.reference}/status",
                       data={"status": "cancelled", "note": "Weg", "confirmed": "1"}, follow_redirects=True)
    assert "melders krijgen" not in made.get_data(as_text=True)
    assert db.session.get(Report, report.id).status == "cancelled"
