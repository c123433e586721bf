"""What is not text. A reaction, a sticker and a Telegram live location's update are "quiet": acknowledged
(the platform's 200), logged for the inbox, answered with nothing and the start of nothing. A voice note, a poll
or a file that is no photo still gets "please type or send a photo". A video's or a document's caption is read
like a photo's: the file is refused, the words (and place) are kept.

Parsing is tested over the platforms' documented payloads (tests/payloads/*); the behaviour end to end through
each platform's webhook, the worker, the intake and the outbox to a fake platform.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from fake_chat_platform import RESIDENTS, TG_SECRET, USERS, install_send_routes, platform_config
from sqlalchemy import select

from meldingen.channels import messenger, signal_cli, telegram, whatsapp
from meldingen.extensions import db
from meldingen.reports.models import Report
from meldingen.residents.models import Conversation, ConversationMessage

PAYLOADS = Path(__file__).parent / "payloads"
AMSTERDAM = (52.3877221, 4.8925727)  # Westerdoksdijk 40A


def load(platform: str, name: str):
    return json.loads((PAYLOADS / platform / f"{name}.json").read_text(encoding="utf-8"))


def parse(platform: str, name: str):
    raw = load(platform, name)
    parsed = {"whatsapp": whatsapp.parse_webhook, "telegram": telegram.parse_webhook,
              "messenger": messenger.parse_webhook, "signal": signal_cli.parse_received}[platform](raw)
    (message,) = parsed.messages
    return message


QUIET = [
    ("whatsapp", "reaction", "reaction", "👍"),
    ("whatsapp", "sticker", "sticker", None),
    ("telegram", "sticker", "sticker", None),
    ("telegram", "message_reaction", "reaction", "👍"),
    ("telegram", "message_reaction_removed", "reaction", None),
    ("telegram", "edited_live_location", "live_location", None),
    ("messenger", "sticker", "sticker", None),
    ("signal", "reaction", "reaction", "👍"),
    ("signal", "sticker", "sticker", None),
]

PLEASE_TYPE = [
    ("whatsapp", "voice", "voice"), ("whatsapp", "unsupported_poll", "poll_creation"),
    ("whatsapp", "document_pdf", "document"), ("telegram", "voice", "voice"), ("telegram", "poll", "poll"),
    ("messenger", "audio", "voice"), ("signal", "voice", "voice"),
]

CAPTIONED = [
    ("whatsapp", "video_caption", "video", "Water spuit uit de stoep bij de bushalte"),
    ("whatsapp", "document_pdf_caption", "document", "Tekening van de losse tegels"),
    ("telegram", "video_caption", "video", "Water spuit uit de stoep bij de bushalte"),
    ("telegram", "document_pdf_caption", "document", "Tekening van de losse tegels"),
    ("signal", "video_caption", "video", "Water spuit uit de stoep bij de bushalte"),
]


@pytest.mark.parametrize(("platform", "name", "what", "emoji"), QUIET, ids=[f"{q[0]}-{q[1]}" for q in QUIET])
def test_reactions_stickers_and_live_location_updates_parse_quiet(platform, name, what, emoji):
    message = parse(platform, name)
    assert (message.kind, message.unsupported_type, message.text) == ("quiet", what, emoji)
    assert message.platform_user_id and message.sent_at


@pytest.mark.parametrize(("platform", "name", "what"), PLEASE_TYPE, ids=[f"{p[0]}-{p[1]}" for p in PLEASE_TYPE])
def test_voice_polls_and_files_stay_unsupported(platform, name, what):
    message = parse(platform, name)
    assert (message.kind, message.unsupported_type, message.text) == ("unsupported", what, None)


@pytest.mark.parametrize(("platform", "name", "what", "caption"), CAPTIONED, ids=[c[0] + "-" + c[1] for c in CAPTIONED])
def test_a_videos_or_documents_caption_is_kept(platform, name, what, caption):
    message = parse(platform, name)
    assert (message.kind, message.unsupported_type, message.text) == ("unsupported", what, caption)


def test_the_first_point_of_a_live_location_is_a_place():
    message = parse("telegram", "live_location")
    assert message.kind == "location" and not message.edited
    assert (message.location.lat, message.location.lon) == (52.3702, 4.8951)


# --- end to end ---


@pytest.fixture
def fake(fake):
    install_send_routes(fake)
    return fake


@pytest.fixture
def app_config(fake):
    return platform_config(fake)


def reports() -> list[Report]:
    return list(db.session.scalars(select(Report).order_by(Report.id)))


def react(resident, emoji="👍"):
    """The resident reacts to the service's last message, as their platform sends it."""
    if resident.kind == "whatsapp":
        return resident._deliver({"type": "reaction", "reaction": {"message_id": "wamid.OUT1", "emoji": emoji}})
    if resident.kind == "signal":
        return resident._deliver({"reaction": {"emoji": emoji, "targetAuthor": "+31970102512",
                                               "targetSentTimestamp": 1749416650000, "isRemove": False}})
    if resident.kind == "telegram":
        chat = {"id": int(resident.user), "type": "private", "first_name": "Bewoner"}
        body = {"update_id": int(time.time() * 1000) % 10**9, "message_reaction": {
            "chat": chat, "message_id": 5001, "user": {"id": int(resident.user), "is_bot": False,
                                                        "first_name": "Bewoner"},
            "date": int(time.time()), "old_reaction": [], "new_reaction": [{"type": "emoji", "emoji": emoji}]}}
        return resident._post("/webhooks/telegram", data=json.dumps(body), content_type="application/json",
                              headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET})
    raise AssertionError(resident.kind)


def send_sticker(resident):
    if resident.kind == "whatsapp":
        return resident._deliver({"type": "sticker", "sticker": {"mime_type": "image/webp", "id": "2002",
                                                                 "animated": False}})
    if resident.kind == "telegram":
        return resident._deliver({"sticker": {"file_id": "S1", "file_unique_id": "us1", "type": "regular",
                                              "width": 512, "height": 512, "is_animated": False,
                                              "is_video": False, "emoji": "😀"}})
    if resident.kind == "messenger":
        return resident._deliver({"sticker_id": 369239263222822, "attachments": [{"type": "image", "payload": {
            "url": "https://scontent.xx.fbcdn.net/v/t39.1997-6/39178562_n.png", "sticker_id": 369239263222822}}]})
    if resident.kind == "signal":
        return resident._deliver({"sticker": {"packId": "9acc9e8aba563d26a4994e69263e3b25", "stickerId": 3}})
    raise AssertionError(resident.kind)


def report_then(resident):
    resident.send_text("Losse stoeptegel, je struikelt erover")
    resident.send_location(*AMSTERDAM)
    (report,) = reports()
    assert report.reference in resident.replies()[-1]
    return report


def conversation_of(resident) -> Conversation:
    return db.session.scalars(select(Conversation).order_by(Conversation.id.desc())).first()


@pytest.mark.parametrize("kind", ["whatsapp", "telegram", "signal"])
def test_a_reaction_to_the_reference_is_logged_and_answered_with_nothing(client, fake, kind):
    resident = RESIDENTS[kind](client, fake, USERS[kind][0])
    report_then(resident)
    count = len(resident.replies())
    react(resident)
    assert len(resident.replies()) == count and len(reports()) == 1
    conversation = conversation_of(resident)
    assert conversation.state == "reported"
    logged = db.session.scalars(select(ConversationMessage).where(
        ConversationMessage.conversation_id == conversation.id, ConversationMessage.direction == "in")).all()
    assert logged[-1].kind == "quiet" and logged[-1].text == "👍"
    resident.send_location(*AMSTERDAM)  # the reaction started no draft: nothing to place
    assert len(reports()) == 1


@pytest.mark.parametrize("kind", ["whatsapp", "telegram", "messenger", "signal"])
def test_a_sticker_asks_nothing_before_or_after_a_report(client, fake, kind):
    resident = RESIDENTS[kind](client, fake, USERS[kind][0])
    send_sticker(resident)
    assert resident.replies() == []  # no "we cannot read this", no "what is wrong?"
    report_then(resident)
    count = len(resident.replies())
    send_sticker(resident)
    assert len(resident.replies()) == count and conversation_of(resident).state == "reported"


def test_a_live_location_places_the_report_once_and_its_updates_are_quiet(client, fake):
    resident = RESIDENTS["telegram"](client, fake, USERS["telegram"][0])
    resident.send_text("Losse stoeptegel, je struikelt erover")
    resident._deliver({"location": {"latitude": AMSTERDAM[0], "longitude": AMSTERDAM[1], "live_period": 900}})
    (report,) = reports()
    count = len(resident.replies())
    first = resident.message_ids[-1]
    for step in range(1, 4):
        now = int(time.time())
        resident._deliver({"message_id": first, "date": now - 60, "edit_date": now, "location": {
            "latitude": AMSTERDAM[0] + step * 0.0005, "longitude": AMSTERDAM[1], "live_period": 900}},
            field="edited_message")
    assert len(resident.replies()) == count and len(reports()) == 1
    assert conversation_of(resident).state == "reported"
    assert (report.lat, report.lon) == pytest.approx(AMSTERDAM, abs=1e-4)


@pytest.mark.parametrize("kind", ["whatsapp", "telegram", "signal"])
def test_a_videos_caption_is_read_like_a_photos(client, fake, kind):
    resident = RESIDENTS[kind](client, fake, USERS[kind][0])
    caption = "Water spuit uit de stoep bij de bushalte"
    if kind == "whatsapp":
        resident._deliver({"type": "video", "video": {"caption": caption, "mime_type": "video/mp4", "id": "2005"}})
    elif kind == "telegram":
        resident._deliver({"video": {"duration": 7, "width": 720, "height": 1280, "mime_type": "video/mp4",
                                     "file_id": "V7", "file_unique_id": "uv7"}, "caption": caption})
    else:
        resident._deliver({"message": caption, "attachments": [{"contentType": "video/mp4", "id": "V7.mp4",
                                                                "size": 1503421}]})
    told = resident.replies()[0]
    assert "geen foto" in told and "tekst hebben we wel ontvangen" in told and "typen" not in told
    resident.send_location(*AMSTERDAM)
    (report,) = reports()
    assert report.description == caption and report.reference in resident.replies()[-1]


@pytest.mark.parametrize("kind", ["whatsapp", "telegram", "messenger", "signal"])
def test_a_voice_note_still_gets_please_type(client, fake, kind):
    resident = RESIDENTS[kind](client, fake, USERS[kind][0])
    resident.send_voice()
    assert "typen" in resident.replies()[-1] and "foto" in resident.replies()[-1]
