"""The outbox: retried with backoff and sent once, WhatsApp's 24-hour window, pacing, templates rendered safely."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fake_chat_platform import RESIDENTS, USERS, WA_PHONE_ID, install_send_routes, platform_config, sent_messages
from sqlalchemy import select
from werkzeug.wrappers import Response

from meldingen.extensions import db
from meldingen.notify.models import OutboundMessage
from meldingen.notify.tasks import send_due_messages
from meldingen.notify.templates import fill, render
from meldingen.reports.models import Report
from meldingen.reports.services import change_status
from meldingen.residents.models import Conversation, Reporter
from meldingen.timeutil import utcnow

AMSTERDAM = (52.3877221, 4.8925727)


@pytest.fixture
def fake(fake):
    """The loopback platform of conftest, answering the platforms' send APIs too."""
    install_send_routes(fake)
    return fake


@pytest.fixture
def app_config(fake):
    return {**platform_config(fake), "WHATSAPP_TEMPLATES": {"status_changed": {
        "name": "melding_status", "language": "nl", "parameters": ["reference", "status"]}}}


def make_report(resident):
    resident.send_text("Losse stoeptegel")
    resident.send_location(*AMSTERDAM)
    return db.session.scalar(select(Report))


@pytest.mark.parametrize("kind", ["whatsapp", "telegram", "twilio"])
def test_a_send_that_fails_twice_is_retried_with_backoff_and_sent_once(kind, app, client, fake):
    resident = RESIDENTS[kind](client, fake, USERS[kind][0])
    from fake_chat_platform import TG_TOKEN, TW_SID

    send_route = {"whatsapp": ("POST", f"/v21.0/{WA_PHONE_ID}/messages"),
                  "telegram": ("POST", f"/bot{TG_TOKEN}/sendMessage"),
                  "twilio": ("POST", f"/2010-04-01/Accounts/{TW_SID}/Messages.json")}[kind]
    good = fake.routes[send_route]
    calls = []

    def flaky(request):
        if kind == "whatsapp" and json.loads(request.get_data()).get("status") == "read":
            return good(request)  # the read receipt of the resident's message is not what this test is about
        calls.append(request)
        if len(calls) <= 2:
            return Response(json.dumps({"error": {"message": "busy", "code": 2}, "description": "busy",
                                        "message": "busy"}), status=503, content_type="application/json")
        return good(request)

    fake.routes[send_route] = flaky
    resident.send_text("hallo")
    message = db.session.scalar(select(OutboundMessage))
    assert message.state == "queued" and message.attempts == 1 and "busy" in message.last_error
    delays = [d for d, name, _ in app.extensions["meldingen_jobs_delayed"] if name == "notify.send"]
    assert delays == [5]
    assert send_due_messages(now=utcnow()) == 0  # not due yet
    send_due_messages(now=utcnow() + timedelta(seconds=10))
    db.session.refresh(message)
    assert message.state == "queued" and message.attempts == 2
    assert send_due_messages(now=utcnow() + timedelta(minutes=5)) == 1
    assert send_due_messages(now=utcnow() + timedelta(hours=1)) == 0
    db.session.refresh(message)
    assert message.state == "sent" and message.attempts == 3 and message.platform_message_id
    # three calls, of which the platform accepted only the last: the resident got the greeting once
    texts = db.session.scalars(select(OutboundMessage).where(OutboundMessage.template_key != "read_receipt")).all()
    assert len(calls) == 3 and len(texts) == 1


def test_whatsapp_outside_the_24_hour_window_sends_the_approved_template(client, fake):
    resident = RESIDENTS["whatsapp"](client, fake, USERS["whatsapp"][0])
    report = make_report(resident)
    reporter = db.session.scalar(select(Reporter))
    reporter.last_inbound_at = utcnow() - timedelta(hours=30)
    db.session.commit()
    change_status(report, "done", "Gerepareerd", actor="crew")
    db.session.commit()
    last = resident.sent()[-1]["raw"]
    assert last["type"] == "template" and last["template"]["name"] == "melding_status"
    params = [p["text"] for p in last["template"]["components"][0]["parameters"]]
    assert params == [report.reference, "Afgehandeld"]


def test_whatsapp_outside_the_window_without_a_template_is_held_for_staff(app, client, fake):
    app.config["WHATSAPP_TEMPLATES"] = {}
    resident = RESIDENTS["whatsapp"](client, fake, USERS["whatsapp"][0])
    report = make_report(resident)
    db.session.scalar(select(Reporter)).last_inbound_at = utcnow() - timedelta(days=2)
    db.session.commit()
    sent_before = len(resident.sent())
    change_status(report, "cancelled", "Niet gevonden", actor="crew")
    db.session.commit()
    assert len(resident.sent()) == sent_before
    held = db.session.scalars(select(OutboundMessage).where(OutboundMessage.state == "held")).all()
    assert len(held) == 1 and held[0].template_key == "status_changed"
    assert db.session.scalar(select(Conversation)).needs_person


def test_whatsapp_messages_to_one_person_are_paced_and_combined(app, client, fake):
    app.config["NOTIFY_PACING_SECONDS"] = {"whatsapp": 6}
    resident = RESIDENTS["whatsapp"](client, fake, USERS["whatsapp"][0])
    resident.send_text("hallo")
    resident.send_text("status")
    resident.send_text("stop")
    assert len(resident.sent()) == 1  # the greeting; the other two wait for their turn, as one message
    waiting = db.session.scalars(select(OutboundMessage).where(OutboundMessage.state == "queued")).all()
    assert len(waiting) == 1 and "\n\n" in waiting[0].body
    assert send_due_messages(now=utcnow() + timedelta(seconds=7)) == 1
    assert len(resident.sent()) == 2


def test_templates_are_data_and_render_only_plain_placeholders(app):
    from meldingen.notify.models import ReplyTemplate

    row = db.session.scalar(select(ReplyTemplate).where(ReplyTemplate.key == "photo_added",
                                                        ReplyTemplate.language == "nl",
                                                        ReplyTemplate.organisation_id.is_(None)))
    row.body = "Foto bij {reference} {reference.__class__} {0} {{letterlijk}}"
    db.session.commit()
    assert render("photo_added", "nl", reference="M-ABC234") == "Foto bij M-ABC234 {reference.__class__} {0} {letterlijk}"
    assert render("photo_added", "en", reference="M-ABC234").startswith("Thank you, the photo")
    assert fill("{a}{b}", {"a": "x"}) == "x{b}"


def test_outbox_messages_are_not_sent_when_the_transaction_rolls_back(app, client, fake):
    from meldingen.notify.outbox import queue_message

    reporter = Reporter(channel_kind="telegram", platform_id="999", language="nl", last_inbound_at=utcnow())
    db.session.add(reporter)
    db.session.commit()
    queue_message(reporter, "niet versturen", key="rollback-test")
    db.session.rollback()
    db.session.commit()
    assert sent_messages(fake) == [] and db.session.scalar(select(OutboundMessage)) is None
