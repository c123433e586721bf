"""A resident's words are kept whole up to what their platform allows, on every platform (issue 21, part 0).

A WhatsApp text of more than 200 characters went through the check meant for platform ids and was stored as
"unreadable": the resident who wrote a careful paragraph was asked what the matter was. Words are bounded only by
the platform's own maximum; beyond it (a platform that sends more than it documents) the text is cut where it is
stored, never refused.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from meldingen.channels import whatsapp
from meldingen.channels.adapters import adapter_for
from meldingen.channels.inbound import normalised_message
from meldingen.channels.models import InboundEvent
from meldingen.extensions import db
from meldingen.inputs.text import LIMITS
from meldingen.residents.models import ConversationMessage

PAYLOADS = Path(__file__).parent / "payloads"

# The longest text each platform lets a resident send (the platforms' documentation; Signal splits a longer one
# into an attachment; the website chat is our own page).
MAXIMUM = {"whatsapp": 4096, "telegram": 4096, "twilio": 1600, "messenger": 2000, "signal": 2000, "webchat": 4000}


def words(length: int) -> str:
    sentence = "De stoeptegel voor nummer 12 ligt los en steekt uit, er is al iemand over gevallen. "
    return (sentence * (length // len(sentence) + 1))[:length - 1] + "."


def payload_with_text(kind: str, text: str):
    """The platform's documented text delivery, with `text` as the resident's words."""
    if kind == "webchat":
        return {"session": "sessie-0001", "message": {"id": "client-msg-0001", "text": text}}
    raw = json.loads((PAYLOADS / kind / ("sms_text.json" if kind == "twilio" else "text.json")).read_text())
    raw = copy.deepcopy(raw)
    if kind == "whatsapp":
        raw["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = text
    elif kind == "telegram":
        raw["message"]["text"] = text
    elif kind == "twilio":
        raw["Body"] = text
    elif kind == "messenger":
        raw["entry"][0]["messaging"][0]["message"]["text"] = text
    elif kind == "signal":  # the bridge answers a list; each received item is one delivery
        raw = raw[0]
        raw["envelope"]["dataMessage"]["message"] = text
    return raw


def parsed_text(kind: str, text: str) -> str:
    parsed = adapter_for(kind).parse(payload_with_text(kind, text))
    assert not parsed.unreadable, parsed.unreadable
    (message,) = parsed.messages
    normalised = normalised_message(message)
    assert normalised is not None
    return normalised.text


@pytest.mark.parametrize("kind", sorted(MAXIMUM))
def test_a_text_at_the_platforms_maximum_is_kept_whole(kind):
    text = words(MAXIMUM[kind])
    assert parsed_text(kind, text) == text


@pytest.mark.parametrize("kind", sorted(MAXIMUM))
@pytest.mark.parametrize("length", [199, 200, 201, 1000])
def test_texts_around_the_old_id_limit_are_read(kind, length):
    text = words(length)
    assert parsed_text(kind, text) == text


@pytest.mark.parametrize("kind", sorted(set(MAXIMUM) - {"webchat"}))
def test_more_than_a_platform_documents_is_cut_where_it_is_stored_never_refused(kind):
    kept = parsed_text(kind, words(70_000))
    assert len(kept) == LIMITS["description"] and kept.startswith("De stoeptegel voor nummer 12")


def test_a_messenger_photo_url_longer_than_an_id_is_read():
    raw = json.loads((PAYLOADS / "messenger" / "image.json").read_text())
    attachment = raw["entry"][0]["messaging"][0]["message"]["attachments"][0]
    attachment["payload"]["url"] = "https://scontent.xx.fbcdn.net/v/t1.15752-9/" + "a" * 400 + ".jpg?_nc_cat=1"
    parsed = adapter_for("messenger").parse(raw)
    assert not parsed.unreadable
    assert parsed.messages[0].media[0].ref == attachment["payload"]["url"]


# --- through the webhook, as a resident's careful paragraph arrives ---

SECRET = "whatsapp-app-secret"


@pytest.fixture
def app_config(fake):
    return {"WHATSAPP_APP_SECRET": SECRET, "WHATSAPP_VERIFY_TOKEN": "verify-me", "WHATSAPP_ACCESS_TOKEN": "wa-token",
            "WHATSAPP_GRAPH_URL": f"{fake.url}/v21.0"}


@pytest.mark.parametrize("length", [201, 4096])
def test_a_long_whatsapp_text_reaches_the_intake_whole(client, length):
    text = words(length)
    body = json.dumps(payload_with_text("whatsapp", text)).encode()
    response = client.post("/webhooks/whatsapp", data=body, headers={
        "Content-Type": "application/json", whatsapp.SIGNATURE_HEADER: whatsapp.sign(SECRET, body)})
    assert response.status_code == 200
    (event,) = db.session.scalars(select(InboundEvent)).all()
    assert event.state == "done" and event.payload["message"]["text"] == text
    logged = db.session.scalars(select(ConversationMessage).where(ConversationMessage.direction == "in")).all()
    assert [m.text for m in logged] == [text]
