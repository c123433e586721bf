"""Conversations on every platform, through its webhook, with the platform faked on loopback.

A resident sends photo, location and description in any order and gets the reference; the service asks only
for what is missing; places outside the service area or the country are refused with where to go instead.
"""

from __future__ import annotations

import pytest
from fake_chat_platform import KINDS, RESIDENTS, USERS, install_send_routes, platform_config
from sqlalchemy import func, select

from meldingen.extensions import db
from meldingen.media.models import Photo
from meldingen.notify.models import OutboundMessage
from meldingen.reports.models import Report
from meldingen.reports.references import find_reference
from meldingen.residents.models import Conversation, ConversationMessage

AMSTERDAM = (52.3877221, 4.8925727)  # Westerdoksdijk 40A
EMMEN = (52.7850, 6.8970)
ROTTERDAM = (51.9225, 4.47917)
BRUSSELS = (50.8467, 4.3525)


@pytest.fixture
def fake(fake):
    """The loopback platform of conftest, answering the platforms' send APIs too."""
    install_send_routes(fake)
    return fake


@pytest.fixture
def app_config(fake):
    return platform_config(fake)


@pytest.fixture(params=KINDS)
def kind(request):
    return request.param


@pytest.fixture
def resident(kind, client, fake):
    return RESIDENTS[kind](client, fake, USERS[kind][0])


def reports():
    return db.session.scalars(select(Report).order_by(Report.id)).all()


def reference_in(texts) -> str | None:
    for text in reversed(texts):
        found = find_reference(text)
        if found:
            return found
    return None


def test_photo_then_location_then_text_makes_one_report_and_tells_the_reference(resident):
    resident.send_photo()
    assert "Waar is het probleem" in resident.replies()[-1]  # one message asks for both missing things
    resident.send_location(*AMSTERDAM)
    assert "Wat is er aan de hand" in resident.replies()[-1]
    resident.send_text("Losse stoeptegel, je struikelt erover")
    (report,) = reports()
    assert resident.replies()[-1].startswith("Bedankt voor uw melding") and report.reference in resident.replies()[-1]
    assert report.municipality_code == "GM0363" and report.description == "Losse stoeptegel, je struikelt erover"
    assert len(report.photos) == 1 and report.channel == resident.kind
    if report.category is not None and report.category.resident_text:
        assert report.category.resident_text.split("\n")[0] in resident.replies()[-1]


def test_text_then_photo_then_location_makes_the_report(resident):
    resident.send_text("De lantaarnpaal is kapot, het is hier 's avonds helemaal donker")
    assert "Waar is het probleem" in resident.replies()[-1]
    resident.send_photo()
    resident.send_location(*AMSTERDAM)
    (report,) = reports()
    assert len(report.photos) == 1
    assert reference_in(resident.replies()) == report.reference


def test_caption_and_location_are_enough(resident):
    resident.send_photo(caption="Vuilniszakken naast de container")
    assert "Waar is het probleem" in resident.replies()[-1] and "Wat is er" not in resident.replies()[-1]
    resident.send_location(*EMMEN, name="Markt", address="Markt 1, Emmen")
    (report,) = reports()
    assert report.description == "Vuilniszakken naast de container" and report.municipality_code == "GM0114"
    assert reference_in(resident.replies()) == report.reference


def test_typed_address_instead_of_a_shared_location(resident):
    resident.send_text("Er ligt een losse stoeptegel op de stoep")
    resident.send_text("Westerdoksdijk 40A")
    (report,) = reports()
    assert report.description == "Er ligt een losse stoeptegel op de stoep"
    assert abs(report.lat - AMSTERDAM[0]) < 1e-4 and report.address_street == "Westerdoksdijk"
    assert reference_in(resident.replies()) == report.reference


def test_location_in_a_municipality_not_served_is_refused_with_where_to_go(resident):
    resident.send_text("Boom omgevallen over het fietspad")
    resident.send_location(*ROTTERDAM)
    assert reports() == []
    assert "Rotterdam" in resident.replies()[-1] and "gemeente" in resident.replies()[-1]
    resident.send_location(*AMSTERDAM)  # the right place after all: the description was kept
    (report,) = reports()
    assert report.description == "Boom omgevallen over het fietspad"


def test_location_outside_the_netherlands_is_refused(resident):
    resident.send_text("Gat in de weg")
    resident.send_location(*BRUSSELS)
    assert reports() == []
    assert "niet in Nederland" in resident.replies()[-1]


def test_redelivered_messages_change_nothing_and_send_nothing_twice(resident, kind):
    if kind == "webchat":
        resident.send_text("Losse stoeptegel bij de ingang")
        resident.redeliver_last()
        resident.send_location(*AMSTERDAM)
        resident.redeliver_last()
    else:
        resident.send_photo(caption="Losse stoeptegel bij de ingang")
        resident.redeliver_last()
        resident.send_location(*AMSTERDAM)
        resident.redeliver_last()
    assert len(reports()) == 1
    replies = resident.replies()
    assert len(replies) == len(set(replies)) == 2  # the question, then the reference; each once
    assert db.session.scalar(select(func.count()).select_from(Photo)) <= 1


def test_two_residents_at_once_keep_their_own_drafts(kind, client, fake):
    first = RESIDENTS[kind](client, fake, USERS[kind][0])
    second = RESIDENTS[kind](client, fake, USERS[kind][1])
    first.send_text("Kapotte lantaarnpaal")
    second.send_text("Container zit vol")
    second.send_location(*EMMEN)
    first.send_location(*AMSTERDAM)
    by_description = {r.description: r for r in reports()}
    assert by_description["Kapotte lantaarnpaal"].municipality_code == "GM0363"
    assert by_description["Container zit vol"].municipality_code == "GM0114"
    assert reference_in(first.replies()) == by_description["Kapotte lantaarnpaal"].reference
    assert reference_in(second.replies()) == by_description["Container zit vol"].reference


def test_status_query_answers_only_for_the_residents_own_reports(kind, client, fake):
    resident = RESIDENTS[kind](client, fake, USERS[kind][0])
    other = RESIDENTS[kind](client, fake, USERS[kind][1])
    resident.send_text("Losse stoeptegel")
    resident.send_location(*AMSTERDAM)
    (report,) = reports()
    resident.send_text(f"status {report.reference.lower()}")
    assert report.reference in resident.replies()[-1] and "Gemeld" in resident.replies()[-1]
    resident.send_text(report.reference)  # a bare reference is a status question too
    assert "Gemeld" in resident.replies()[-1]
    other.send_text(f"status {report.reference}")
    assert "geen melding" in other.replies()[-1]


def test_a_status_change_reaches_the_resident_with_the_note(kind, client, fake):
    from meldingen.reports.services import change_status

    resident = RESIDENTS[kind](client, fake, USERS[kind][0])
    resident.send_text("Losse stoeptegel")
    resident.send_location(*AMSTERDAM)
    (report,) = reports()
    change_status(report, "in_progress", actor="crew")  # residents are not told of this one
    db.session.commit()
    count = len(resident.replies())
    change_status(report, "done", "intern: klus 4411", actor="crew", resident_message="Tegel is teruggelegd.")
    db.session.commit()
    assert len(resident.replies()) == count + 1
    assert report.reference in resident.replies()[-1] and "Afgehandeld" in resident.replies()[-1]
    assert "Tegel is teruggelegd." in resident.replies()[-1] and "klus 4411" not in resident.replies()[-1]


def test_voice_and_stickers_get_a_request_to_type_or_send_a_photo(kind, client, fake):
    if kind == "webchat":
        pytest.skip("the website chat has no voice messages")
    resident = RESIDENTS[kind](client, fake, USERS[kind][0])
    resident.send_voice()
    assert "typen" in resident.replies()[-1] and "foto" in resident.replies()[-1]


def test_greeting_english_and_stop(resident):
    resident.send_text("/start" if resident.kind == "telegram" else "hallo")
    assert resident.replies()[-1].startswith("Hallo!")
    resident.send_text("There is a broken street light in front of my house")
    assert "Where is the problem" in resident.replies()[-1]
    resident.send_text("stop")
    assert "stopped" in resident.replies()[-1]
    resident.send_location(*AMSTERDAM)
    assert reports() == []  # the cancelled description is gone: the service asks again
    assert "What is wrong" in resident.replies()[-1]


def test_photo_gps_is_confirmed_before_it_is_used(kind, client, fake):
    from fake_platforms import jpeg_bytes
    from PIL import Image

    exif = Image.Exif()
    gps = {1: "N", 2: (52.0, 23.0, 15.8), 3: "E", 4: (4.0, 53.0, 33.26)}
    exif[0x8825] = gps
    resident = RESIDENTS[kind](client, fake, USERS[kind][0])
    resident.send_photo(caption="Graffiti op de muur", data=jpeg_bytes(exif=exif))
    photo = db.session.scalar(select(Photo))
    if photo.gps_lat is None:
        pytest.skip("this platform's photo lost its GPS")
    assert "Is het probleem daar" in resident.replies()[-1]
    assert reports() == []
    resident.press("gps:yes", "Ja")
    (report,) = reports()
    assert abs(report.lat - photo.gps_lat) < 1e-6


def test_a_later_photo_is_added_to_the_report_and_a_second_problem_starts_a_new_draft(resident):
    resident.send_text("Losse stoeptegel")
    resident.send_location(*AMSTERDAM)
    (report,) = reports()
    resident.send_photo()
    assert report.reference in resident.replies()[-1] and len(report.photos) == 1
    resident.send_text("En verderop is een lantaarnpaal kapot")
    assert "Waar is het probleem" in resident.replies()[-1]
    resident.send_location(*AMSTERDAM)
    assert len(reports()) == 2


def test_every_message_in_and_out_is_logged_for_the_inbox(resident):
    resident.send_text("Losse stoeptegel")
    resident.send_location(*AMSTERDAM)
    conversation = db.session.scalar(select(Conversation))
    directions = [m.direction for m in db.session.scalars(
        select(ConversationMessage).where(ConversationMessage.conversation_id == conversation.id)
        .order_by(ConversationMessage.id))]
    assert directions == ["in", "out", "in", "out"]
    assert all(o.state == "sent" for o in db.session.scalars(select(OutboundMessage)))


def test_asking_for_a_person_flags_the_conversation(resident):
    resident.send_text("Ik wil graag een medewerker spreken")
    conversation = db.session.scalar(select(Conversation))
    assert conversation.needs_person and conversation.needs_person_since is not None
    assert "medewerker" in resident.replies()[-1]


def test_after_the_quiet_period_the_service_acts_once_on_everything_that_arrived(app, client, fake):
    from datetime import timedelta

    from meldingen.intake.tasks import act_on_due_conversations
    from meldingen.timeutil import utcnow

    app.config["INTAKE_QUIET_SECONDS"] = 8
    resident = RESIDENTS["telegram"](client, fake, USERS["telegram"][0])
    resident.send_photo()
    resident.send_text("Fietswrak staat al weken tegen het hek")
    assert resident.replies() == []  # still quiet: nothing asked yet
    timers = [(d, kw) for d, name, kw in app.extensions["meldingen_jobs_delayed"] if name == "intake.act"]
    assert timers and all(d == 8 for d, _ in timers)
    assert act_on_due_conversations(now=utcnow()) == 0  # not due yet
    act_on_due_conversations(now=utcnow() + timedelta(seconds=9))
    (question,) = resident.replies()
    assert "Waar is het probleem" in question and "Wat is er" not in question  # only what is missing
    assert resident.sent()[-1]["raw"]["reply_markup"]["keyboard"][0][0]["request_location"] is True
    resident.send_location(*AMSTERDAM)
    act_on_due_conversations(now=utcnow() + timedelta(seconds=9))
    (report,) = reports()
    assert report.reference in resident.replies()[-1] and len(report.photos) == 1
