"""The outbox and the conversation: a question the conversation has answered before it left is never sent
(WhatsApp's pacing glued "Wat is er aan de hand?" onto the confirmation), and messages held for WhatsApp's
24-hour window leave as soon as the resident writes again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fake_chat_platform import RESIDENTS, USERS, install_send_routes, platform_config
from sqlalchemy import select

from meldingen.extensions import db
from meldingen.notify.models import OutboundMessage
from meldingen.notify.receipts import READ_RECEIPT
from meldingen.notify.tasks import send_due_messages
from meldingen.reports.models import Report
from meldingen.reports.services import change_status
from meldingen.residents.models import Conversation, Reporter
from meldingen.timeutil import utcnow

AMSTERDAM = (52.3877221, 4.8925727)  # Westerdoksdijk 40A


@pytest.fixture
def fake(fake):
    install_send_routes(fake)
    return fake


@pytest.fixture
def app_config(fake):
    return platform_config(fake)


def test_a_paced_question_answered_before_it_leaves_is_dropped_not_glued_to_the_confirmation(app, client, fake):
    app.config["NOTIFY_PACING_SECONDS"] = {"whatsapp": 6}
    resident = RESIDENTS["whatsapp"](client, fake, USERS["whatsapp"][0])
    resident.send_text("hallo")  # sent at once; what follows waits for its turn
    resident.send_text("Losse stoeptegel")  # "Waar is het probleem?" waits
    question = db.session.scalar(select(OutboundMessage).where(OutboundMessage.state == "queued"))
    assert question is not None and question.template_key == "ask_location"
    resident.send_location(*AMSTERDAM)  # answers it before it left
    db.session.expire_all()
    assert db.session.get(OutboundMessage, question.id).state == "superseded"
    send_due_messages(now=utcnow() + timedelta(seconds=7))
    replies = resident.replies()
    (report,) = db.session.scalars(select(Report)).all()
    assert len(replies) == 2 and replies[0].startswith("Hallo!")
    assert replies[1].startswith("Bedankt voor uw melding") and report.reference in replies[1]
    assert not any("Waar is het probleem" in reply for reply in replies)


def test_an_unsent_question_is_dropped_when_the_resident_cancels(app, client, fake):
    app.config["NOTIFY_PACING_SECONDS"] = {"whatsapp": 6}
    resident = RESIDENTS["whatsapp"](client, fake, USERS["whatsapp"][0])
    resident.send_text("hallo")
    resident.send_text("Gat in de weg")
    resident.send_text("laat maar")
    send_due_messages(now=utcnow() + timedelta(seconds=7))
    replies = resident.replies()
    assert not any("Waar is het probleem" in reply for reply in replies)
    assert "stoppen met deze melding" in replies[-1]


def test_a_question_already_sent_is_not_marked_superseded(app, client, fake):
    resident = RESIDENTS["whatsapp"](client, fake, USERS["whatsapp"][0])
    resident.send_text("Losse stoeptegel")
    resident.send_location(*AMSTERDAM)
    states = [m.state for m in db.session.scalars(select(OutboundMessage).order_by(OutboundMessage.id))
              if m.template_key != READ_RECEIPT]  # the read receipts are no message to the resident
    assert states == ["sent", "sent"]


def held_status_message(app, resident):
    app.config["WHATSAPP_TEMPLATES"] = {}
    resident.send_text("Losse stoeptegel")
    resident.send_location(*AMSTERDAM)
    report = db.session.scalar(select(Report))
    db.session.scalar(select(Reporter)).last_inbound_at = utcnow() - timedelta(days=2)
    db.session.commit()
    # The note is internal; what the resident reads is the resident message.
    change_status(report, "done", "Tegel ligt weer vast.", actor="crew", resident_message="Tegel ligt weer vast.")
    db.session.commit()
    held = db.session.scalar(select(OutboundMessage).where(OutboundMessage.state == "held"))
    assert held is not None and held.template_key == "status_changed"
    assert db.session.scalar(select(Conversation)).needs_person
    return report, held


def test_a_message_held_for_the_24_hour_window_is_sent_when_the_resident_writes_again(app, client, fake):
    resident = RESIDENTS["whatsapp"](client, fake, USERS["whatsapp"][0])
    report, held = held_status_message(app, resident)
    sent_before = len(resident.replies())
    resident.send_text("Hoe staat het met mijn melding?")
    db.session.expire_all()
    assert db.session.get(OutboundMessage, held.id).state == "sent"
    news = resident.replies()[sent_before:]
    assert any(report.reference in text and "Afgehandeld" in text and "Tegel ligt weer vast." in text
               for text in news)
    assert not db.session.scalar(select(Conversation)).needs_person  # nothing waits for staff any more


def test_a_held_question_is_dropped_when_the_resident_writes_again(app, client, fake):
    app.config["WHATSAPP_TEMPLATES"] = {}
    resident = RESIDENTS["whatsapp"](client, fake, USERS["whatsapp"][0])
    resident.send_text("Losse stoeptegel")
    question = db.session.scalar(select(OutboundMessage))
    question.state, question.last_error = "held", "outside the 24-hour window"
    db.session.commit()
    resident.send_location(*AMSTERDAM)
    db.session.expire_all()
    assert db.session.get(OutboundMessage, question.id).state == "superseded"
    assert resident.replies()[-1].startswith("Bedankt voor uw melding")


def test_a_second_photo_while_the_question_waits_still_gets_the_question_once(app, client, fake):
    app.config["NOTIFY_PACING_SECONDS"] = {"whatsapp": 6}
    resident = RESIDENTS["whatsapp"](client, fake, USERS["whatsapp"][0])
    resident.send_text("hallo")
    resident.send_photo()  # "Waar is het probleem, en wat is er aan de hand?" waits for its turn
    resident.send_photo()  # changes the draft: the waiting question is dropped and asked afresh
    send_due_messages(now=utcnow() + timedelta(seconds=7))
    replies = resident.replies()
    assert len(replies) == 2 and sum("Waar is het probleem" in reply for reply in replies) == 1
