"""The inbox an agent can work: the resident named by channel with a masked number or short name, the resident's
own last message as the preview, photos and shared places shown in the conversation, and new messages fetched
without a reload."""

from __future__ import annotations

import io
from datetime import timedelta
from types import SimpleNamespace

import pytest
from PIL import Image

from meldingen.extensions import db
from meldingen.organisations.models import Organisation
from meldingen.residents.models import Conversation, ConversationMessage, Reporter
from meldingen.staff.residents import resident_label
from meldingen.timeutil import utcnow

pytestmark = pytest.mark.rolled_back  # one shared database, rolled back after each test

PASSWORD = "correct horse battery"


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), (30, 120, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.mark.parametrize("kind, platform_id, name, expected", [
    ("whatsapp", "31612345678", "Jan de Vries", "Jan V. · WhatsApp · +31 6 •••• 5678"),
    ("twilio", "whatsapp:+31687654321", None, "Melder · WhatsApp (Twilio) · +31 6 •••• 4321"),
    ("twilio", "+4915112345678", "Anna", "Anna · sms · +49 •••• 5678"),
    ("telegram", "123456789", "Piet", "Piet · Telegram · …789"),
    ("webchat", "3f9a0c1e-aaaa", None, "Melder · website-chat"),
])
def test_a_resident_is_named_by_channel_short_name_and_masked_number(kind, platform_id, name, expected):
    reporter = SimpleNamespace(channel_kind=kind, platform_id=platform_id, display_name=name)
    assert resident_label(reporter) == expected
    assert platform_id.removeprefix("whatsapp:").lstrip("+") not in resident_label(reporter)


@pytest.fixture
def photo_conversation(app):
    from meldingen.media.services import store_photo

    org = db.session.query(Organisation).filter_by(code="GM0363").one()
    reporter = Reporter(channel_kind="whatsapp", platform_id="31612345678", display_name="Jan de Vries")
    db.session.add(reporter)
    db.session.flush()
    since = utcnow() - timedelta(minutes=3)
    conversation = Conversation(reporter_id=reporter.id, channel_kind="whatsapp", needs_person=True,
                                needs_person_reason="De melder vraagt om een medewerker", needs_person_since=since,
                                organisation_id=org.id, draft={})
    db.session.add(conversation)
    db.session.flush()
    photo = store_photo(jpeg_bytes(), source="whatsapp", conversation_id=conversation.id)
    db.session.flush()
    db.session.add_all([
        ConversationMessage(conversation_id=conversation.id, direction="in", at=since, kind="photo",
                            text="Kijk, de paal ligt om", data={"photo_ids": [photo.id]}),
        ConversationMessage(conversation_id=conversation.id, direction="in", at=since, kind="location",
                            data={"location": {"lat": 52.3877, "lon": 4.8926, "name": None, "address": None}}),
        ConversationMessage(conversation_id=conversation.id, direction="out", at=since, kind="text",
                            text="Dank u! Wat is er precies aan de hand?"),
    ])
    db.session.commit()
    return conversation, photo


@pytest.fixture
def agent_client(app, make_staff):
    user, _ = make_staff("agent", "DSP")
    client = app.test_client()
    assert client.post("/staff/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return client


def test_the_inbox_previews_the_residents_last_message_not_the_bots_and_masks_the_number(
        photo_conversation, agent_client):
    html = agent_client.get("/staff/inbox").get_data(as_text=True)
    assert "Jan V. · WhatsApp · +31 6 •••• 5678" in html
    assert "Locatie gedeeld" in html and "Wat is er precies" not in html
    assert "612345678" not in html and "Melder<" not in html
    # The list alone, as the page fetches it to refresh itself.
    fragment = agent_client.get("/staff/inbox?fragment=1").get_data(as_text=True)
    assert fragment.lstrip().startswith("<li") and "Jan V." in fragment


def test_a_conversation_shows_the_residents_photo_and_shared_place(photo_conversation, agent_client):
    conversation, photo = photo_conversation
    html = agent_client.get(f"/staff/inbox/{conversation.id}").get_data(as_text=True)
    assert f'src="/media/photos/{photo.token}?thumbnail=1"' in html
    assert "[photo]" not in html and "52.38770, 4.89260" in html
    image = agent_client.get(f"/media/photos/{photo.token}?thumbnail=1")
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    image.close()


def test_new_messages_arrive_without_a_reload_as_the_html_the_page_shows(photo_conversation, agent_client):
    conversation, _photo = photo_conversation
    url = f"/staff/inbox/{conversation.id}/messages"
    first = agent_client.get(f"{url}?after=0").get_json()
    assert [m["direction"] for m in first["messages"]] == ["in", "in", "out"]
    last = first["last_id"]
    assert agent_client.get(f"{url}?after={last}").get_json() == {"messages": [], "last_id": last}
    db.session.add(ConversationMessage(conversation_id=conversation.id, direction="in", at=utcnow(), kind="text",
                                       text="Hij ligt nu op de stoep"))
    db.session.commit()
    news = agent_client.get(f"{url}?after={last}").get_json()
    assert len(news["messages"]) == 1 and "Hij ligt nu op de stoep" in news["messages"][0]["html"]
    assert news["last_id"] > last
    assert agent_client.get(f"{url}?after=-1").get_json()["last_id"] >= 0
    inbox = agent_client.get("/staff/inbox").get_data(as_text=True)
    assert "Hij ligt nu op de stoep" in inbox
