"""Internal and public notes: a note is for staff only; "bericht aan melder" (page) or `resident_message` (API)
goes, inside the status message, to every resident who follows the report, after staff saw the exact text."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from meldingen.extensions import db
from meldingen.notify.models import OutboundMessage
from meldingen.reports.models import Report, ReportSubscription
from meldingen.residents.models import Reporter
from tests.factories import make_report

pytestmark = pytest.mark.rolled_back  # one shared database, rolled back after each test

PASSWORD = "correct horse battery"
INTERNAL = "Sleutel van het hek ligt bij de buurman op nummer 12"
PUBLIC = "De stoeptegel is teruggelegd. Bedankt voor uw melding!"


def sign_in(client, user):
    assert client.post("/staff/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


@pytest.fixture
def followed(app):
    """A report followed by three residents (one English-speaking) on the website chat and Telegram."""
    residents = [Reporter(channel_kind="webchat", platform_id="web-1", display_name="A", language="nl"),
                 Reporter(channel_kind="webchat", platform_id="web-2", display_name="B", language="en"),
                 Reporter(channel_kind="webchat", platform_id="web-3", display_name="C", language="nl")]
    db.session.add_all(residents)
    db.session.commit()
    report = make_report("Losse stoeptegel bij de bushalte", reporter_id=residents[0].id)
    for resident in residents[1:]:
        db.session.add(ReportSubscription(report_id=report.id, reporter_id=resident.id))
    db.session.commit()
    return report, residents


@pytest.fixture
def crew_client(app, make_staff, followed):
    report, _ = followed
    user, _token = make_staff("crew", "GM0363", report.department.code)
    client = app.test_client()
    sign_in(client, user)
    return client


def messages_of(report) -> list[OutboundMessage]:
    db.session.expire_all()
    return db.session.scalars(select(OutboundMessage).where(OutboundMessage.report_id == report.id)
                              .order_by(OutboundMessage.id)).all()


def test_an_internal_note_reaches_no_resident(crew_client, followed):
    report, residents = followed
    before = len(messages_of(report))
    answer = crew_client.post(f"/staff/reports/{report.reference}/status",
                              data={"status": "in_progress", "note": INTERNAL})
    assert answer.status_code == 303 and db.session.get(Report, report.id).status == "in_progress"
    assert len(messages_of(report)) == before  # a quiet status with a note: not one message
    assert report.events[-1].note == INTERNAL and report.events[-1].resident_message is None
    # done is told to residents; the note written with it is not
    crew_client.post(f"/staff/reports/{report.reference}/status",
                     data={"status": "done", "note": INTERNAL, "confirmed": "1"})
    new = messages_of(report)[before:]
    assert sorted(m.reporter_id for m in new) == sorted(r.id for r in residents)
    assert not [m for m in new if INTERNAL in m.body or "buurman" in m.body]


def test_a_message_to_residents_is_shown_first_then_reaches_every_subscriber_with_exactly_that_text(
        crew_client, followed):
    report, residents = followed
    before = len(messages_of(report))
    page = crew_client.post(f"/staff/reports/{report.reference}/status",
                            data={"status": "done", "note": INTERNAL, "to_resident": "1", "resident_message": PUBLIC})
    assert page.status_code == 200  # the confirmation step: nothing changed, nothing sent
    text = page.get_data(as_text=True)
    assert "Dit bericht krijgen de melders" in text
    assert f"Nieuws over uw melding {report.reference}: Afgehandeld.\nToelichting: {PUBLIC}" in text
    assert f"News about your report {report.reference}: Done.\nNote: {PUBLIC}" in text
    assert db.session.get(Report, report.id).status == "new" and len(messages_of(report)) == before

    preview = crew_client.get(f"/staff/reports/{report.reference}/message-preview",
                              query_string={"status": "done", "message": PUBLIC}).json["previews"]
    assert {p["language"]: p["residents"] for p in preview} == {"nl": 2, "en": 1}
    crew_client.post(f"/staff/reports/{report.reference}/status",
                     data={"status": "done", "note": INTERNAL, "to_resident": "1", "resident_message": PUBLIC,
                           "confirmed": "1"})
    new = messages_of(report)[before:]
    assert sorted(m.reporter_id for m in new) == sorted(r.id for r in residents)
    language = {r.id: r.language for r in residents}
    texts = {p["language"]: p["text"] for p in preview}
    assert all(m.body == texts[language[m.reporter_id]] for m in new)
    assert all(INTERNAL not in m.body for m in new)
    event = db.session.get(Report, report.id).events[-1]
    assert event.note == INTERNAL and event.resident_message == PUBLIC


def test_an_empty_message_is_refused_and_one_on_a_quiet_status_is_sent_because_staff_chose_to(crew_client,
                                                                                              followed):
    report, residents = followed
    answer = crew_client.post(f"/staff/reports/{report.reference}/status",
                              data={"status": "done", "note": INTERNAL, "to_resident": "1", "resident_message": "  "},
                              follow_redirects=True)
    assert "Schrijf het bericht aan de melder" in answer.get_data(as_text=True)
    assert db.session.get(Report, report.id).status == "new"
    before = len(messages_of(report))
    crew_client.post(f"/staff/reports/{report.reference}/status",
                     data={"status": "in_progress", "to_resident": "1", "resident_message": "We komen morgen kijken.",
                           "confirmed": "1"})
    new = messages_of(report)[before:]
    assert len(new) == len(residents) and all("We komen morgen kijken." in m.body for m in new)


def test_api_note_is_internal_and_resident_message_reaches_every_subscriber_and_open311(client, make_staff,
                                                                                      followed):
    report, residents = followed
    _user, token = make_staff("head", "GM0363")
    headers = {"Authorization": f"Bearer {token}"}
    before = len(messages_of(report))
    answer = client.post(f"/api/v1/reports/{report.reference}/status", headers=headers,
                         json={"status": "in_progress", "note": INTERNAL})
    assert answer.status_code == 200 and len(messages_of(report)) == before
    answer = client.post(f"/api/v1/reports/{report.reference}/status", headers=headers,
                         json={"status": "done", "note": "intern: klus 77", "resident_message": PUBLIC})
    assert answer.status_code == 200
    assert answer.json["history"][-1]["note"] == "intern: klus 77"
    assert answer.json["history"][-1]["resident_message"] == PUBLIC
    new = messages_of(report)[before:]
    assert sorted(m.reporter_id for m in new) == sorted(r.id for r in residents)
    assert all(PUBLIC in m.body and "klus 77" not in m.body and "buurman" not in m.body for m in new)
    body = client.get(f"/open311/v2/requests/{report.reference}.json").get_data(as_text=True)
    assert PUBLIC in body and "buurman" not in body and "klus 77" not in body


def test_standard_texts_for_the_status_and_category_are_offered_on_the_report_page(app, crew_client, followed,
                                                                                  make_staff):
    from meldingen.notify.standard_texts import save_standard_text

    report, _ = followed
    main = report.category.parent
    save_standard_text({"title": "Tegel terug", "body": "De tegel ligt weer vast.", "status": "done",
                        "category_id": main.id, "organisation_id": None}, organisation_ids=[None])
    save_standard_text({"title": "Ander werk", "body": "Niet voor deze melding.", "status": "done",
                        "category_id": _other_main_category(main).id, "organisation_id": None},
                       organisation_ids=[None])
    db.session.commit()
    page = crew_client.get(f"/staff/reports/{report.reference}").get_data(as_text=True)
    assert "Tegel terug" in page and 'value="De tegel ligt weer vast."' in page
    assert "Ander werk" not in page


def _other_main_category(main):
    from meldingen.categories.models import Category

    return db.session.scalar(select(Category).where(Category.parent_id.is_(None), Category.id != main.id).limit(1))
