"""Nothing lost, nothing doubled: failed background work is retried from durable state, parked when it keeps
failing, and a send whose outcome is unknown is settled per platform instead of being sent twice.

In-process, on both databases, with the platforms and PDOK faked on loopback; the subprocess faults (killed
worker, killed web process, stopped database) are in test_faults.py.
"""

from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from fake_chat_platform import (
    RESIDENTS,
    TG_TOKEN,
    TW_SID,
    WA_PHONE_ID,
    WA_SECRET,
    install_send_routes,
    platform_config,
    sent_messages,
)
from sqlalchemy import create_engine, func, or_, select, text, update
from werkzeug.wrappers import Response

from meldingen.channels import whatsapp
from meldingen.channels.models import InboundEvent
from meldingen.channels.tasks import process_due
from meldingen.extensions import db
from meldingen.notify.models import OutboundMessage
from meldingen.notify.receipts import READ_RECEIPT
from meldingen.notify.tasks import send_due_messages, settle_unknown
from meldingen.reports.models import Report
from meldingen.reports.references import find_reference
from meldingen.residents.models import Conversation
from meldingen.staff.stuck import stuck_items
from meldingen.timeutil import utcnow

AMSTERDAM = (52.3877221, 4.8925727)  # Westerdoksdijk 40A


@pytest.fixture
def fake(fake):
    install_send_routes(fake)
    return fake


@pytest.fixture
def app_config(fake):
    return {**platform_config(fake), "JOBS_RAISE": False, "RETRY_SECONDS": [0], "RETRY_MAX_ATTEMPTS": 3,
            "PLATFORM_TIMEOUT": 0.3, "UNCONFIRMED_WAIT_SECONDS": 0}


def report_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(Report.id)))


def outbox(state: str | None = None) -> list[OutboundMessage]:
    """The messages to residents (read receipts aside: they are no message and are never stuck work)."""
    db.session.rollback()
    query = select(OutboundMessage).where(or_(OutboundMessage.template_key.is_(None),
                                              OutboundMessage.template_key != READ_RECEIPT))
    query = query.order_by(OutboundMessage.id)
    if state:
        query = query.where(OutboundMessage.state == state)
    return db.session.scalars(query).all()


def make_reply(client, fake, kind="whatsapp", user=None):
    """A resident reports a problem in two messages within the quiet period; the answer (with the reference)
    is the one outbox row."""
    from meldingen.intake.tasks import act_on_due_conversations

    client.application.config["INTAKE_QUIET_SECONDS"] = 1
    resident = RESIDENTS[kind](client, fake, user or {"whatsapp": "31611111111", "telegram": "222333444",
                                                      "twilio": "+31622222222"}[kind])
    resident.send_location(*AMSTERDAM)
    resident.send_text("De lantaarnpaal voor de deur is kapot")
    act_on_due_conversations(now=utcnow() + timedelta(seconds=2))
    return resident


def hang_route(fake, path: str, seconds: float = 1.0):
    """The platform takes the message and answers too late: it landed, our call timed out."""
    original = fake.routes[("POST", path)]

    def slow(request):
        answer = original(request)
        time.sleep(seconds)
        return answer

    fake.routes[("POST", path)] = slow
    return original


WA_SEND = f"/v21.0/{WA_PHONE_ID}/messages"
TW_SEND = f"/2010-04-01/Accounts/{TW_SID}/Messages.json"
TG_SEND = f"/bot{TG_TOKEN}/sendMessage"


# --- inbound events ---------------------------------------------------------------------------------------


@contextmanager
def intake_failing_with(error: Exception):
    """The intake (the receiver of `message_received`) raises `error` until the block ends."""
    from meldingen.intake.services import receive_message
    from meldingen.signals import message_received

    def failing(message, **kwargs):
        raise error

    message_received.disconnect(receive_message)
    message_received.connect(failing)
    try:
        yield
    finally:
        message_received.disconnect(failing)
        message_received.connect(receive_message)


def test_event_whose_processing_failed_is_taken_up_by_the_sweep_and_becomes_a_report(client, fake):
    with intake_failing_with(RuntimeError("db gone")):
        resident = RESIDENTS["whatsapp"](client, fake, "31633333333")
        resident.send_location(*AMSTERDAM)
        resident.send_text("Er ligt glas op het fietspad")
        db.session.rollback()
        pending = db.session.scalars(select(InboundEvent).where(InboundEvent.state == "pending")).all()
        assert len(pending) == 2 and all(e.attempts == 1 and "db gone" in e.error for e in pending)
        assert report_count() == 0

    assert process_due() == 2
    db.session.rollback()
    assert db.session.scalar(select(func.count()).where(InboundEvent.state == "pending")) == 0
    assert report_count() == 1
    assert len([t for t in resident.replies() if find_reference(t)]) == 1


def test_event_that_keeps_failing_is_parked_on_the_stuck_list_and_not_retried_again(client, fake):
    with intake_failing_with(ValueError("bug")):
        RESIDENTS["telegram"](client, fake, "555666777").send_text("Afval naast de container")
        for _ in range(5):
            process_due()
    db.session.rollback()
    event = db.session.scalar(select(InboundEvent).where(InboundEvent.channel_kind == "telegram")
                              .order_by(InboundEvent.id.desc()))
    assert event.state == "parked" and event.attempts == 3 and "ValueError: bug" in event.error
    assert [(i.kind, i.id) for i in stuck_items(None)] == [("inbound", event.id)]


def test_event_claimed_by_a_worker_that_died_is_taken_up_after_its_lease(app, client, fake, monkeypatch):
    import meldingen.channels.tasks as tasks

    monkeypatch.setattr(tasks, "_process_claimed", lambda event_id: None)  # the worker "dies" after its claim
    resident = RESIDENTS["twilio"](client, fake, "+31644444444")
    resident.send_location(*AMSTERDAM)
    resident.send_text("Losliggende stoeptegel")
    monkeypatch.undo()
    assert process_due() == 0  # leased: not yet
    db.session.execute(update(InboundEvent).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert process_due() == 2
    assert report_count() == 1
    assert len([t for t in resident.replies() if find_reference(t)]) == 1


# --- outbox -----------------------------------------------------------------------------------------------


def test_platform_answering_500_is_retried_and_the_reply_goes_once_it_is_back(client, fake):
    original = fake.routes[("POST", TG_SEND)]
    fake.routes[("POST", TG_SEND)] = lambda r: Response(json.dumps({"ok": False, "error_code": 500,
                                                                    "description": "Internal"}), status=500)
    resident = make_reply(client, fake, "telegram")
    [row] = outbox()
    assert row.state == "queued" and row.attempts == 1 and "500" in row.last_error
    fake.seen.clear()  # what reached the platform while it answered 500 did not land
    fake.routes[("POST", TG_SEND)] = original
    send_due_messages()
    assert [r.state for r in outbox()] == ["sent"]
    assert len([t for t in resident.replies() if find_reference(t)]) == 1


def test_platform_that_stays_down_parks_the_reply_for_staff_and_flags_the_conversation(client, fake):
    fake.routes[("POST", TG_SEND)] = lambda r: Response("bad gateway", status=502)
    make_reply(client, fake, "telegram")
    for _ in range(4):
        send_due_messages()
    [row] = outbox()
    assert row.state == "parked" and row.attempts == 3
    conversation = db.session.get(Conversation, row.conversation_id)
    assert conversation.needs_person
    assert [(i.kind, i.id) for i in stuck_items(None)] == [("outbound", row.id)]


def test_whatsapp_send_that_timed_out_is_not_posted_again_when_the_receipt_says_it_landed(client, fake):
    hang_route(fake, WA_SEND)
    resident = make_reply(client, fake, "whatsapp")
    [row] = outbox()
    assert row.state == "unknown"
    posted = [m for m in sent_messages(fake) if m["kind"] == "whatsapp"]
    assert len(posted) == 1 and posted[0]["raw"]["biz_opaque_callback_data"] == f"outbox:{row.id}"
    # Meta's status webhook for that message: our reference echoed, its wamid new to us.
    status = {"id": "wamid.LATE1", "status": "sent", "timestamp": str(int(time.time())),
              "recipient_id": resident.user, "biz_opaque_callback_data": f"outbox:{row.id}"}
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp", "metadata": {
            "display_phone_number": "31970", "phone_number_id": WA_PHONE_ID}, "statuses": [status]}}]}]}).encode()
    assert client.post("/webhooks/whatsapp", data=body, content_type="application/json",
                       headers={whatsapp.SIGNATURE_HEADER: whatsapp.sign(WA_SECRET, body)}).status_code == 200
    send_due_messages()
    [row] = outbox()
    assert row.state == "sent" and row.platform_message_id == "wamid.LATE1"
    assert len([m for m in sent_messages(fake) if m["kind"] == "whatsapp"]) == 1


def test_whatsapp_send_that_timed_out_without_any_receipt_is_parked_for_a_person_not_resent(client, fake):
    hang_route(fake, WA_SEND)
    make_reply(client, fake, "whatsapp")
    send_due_messages()
    [row] = outbox()
    assert row.state == "parked" and row.payload["outcome_unknown"]
    assert len([m for m in sent_messages(fake) if m["kind"] == "whatsapp"]) == 1
    [item] = stuck_items(None)
    assert "Onbekend of dit bericht is aangekomen" in item.explanation


def test_twilio_send_that_timed_out_is_settled_by_the_message_list_without_a_second_post(client, fake):
    hang_route(fake, TW_SEND)
    accepted = []
    original = fake.routes[("POST", TW_SEND)]

    def remember(request):
        accepted.append(dict(request.form))
        return original(request)

    fake.routes[("POST", TW_SEND)] = remember
    fake.route("GET", TW_SEND)(lambda r: Response(json.dumps({"messages": [
        {"sid": "SM" + "7" * 32, "to": m["To"], "from": m["From"], "body": m["Body"], "status": "sent",
         "date_created": time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())} for m in accepted
        if m["To"] == r.args.get("To")]}), content_type="application/json"))
    make_reply(client, fake, "twilio")
    [row] = outbox()
    assert row.state == "unknown"
    assert f"outbox={row.id}" in accepted[0]["StatusCallback"]
    send_due_messages()
    [row] = outbox()
    assert row.state == "sent" and row.platform_message_id == "SM" + "7" * 32
    assert len([m for m in sent_messages(fake) if m["kind"] == "twilio"]) == 1


def test_twilio_send_that_never_reached_twilio_is_sent_again_once(client, fake):
    original = hang_route(fake, TW_SEND)
    fake.routes[("POST", TW_SEND)] = lambda r: (time.sleep(1.0), Response("", status=504))[1]  # lost on the way
    fake.route("GET", TW_SEND)(lambda r: Response(json.dumps({"messages": []}), content_type="application/json"))
    resident = make_reply(client, fake, "twilio")
    assert [r.state for r in outbox()] == ["unknown"]
    fake.seen.clear()  # that POST was lost on the way: it never became a message
    fake.routes[("POST", TW_SEND)] = original
    send_due_messages()
    send_due_messages()
    assert [r.state for r in outbox()] == ["sent"]
    assert len([t for t in resident.replies() if find_reference(t)]) == 1


def test_telegram_send_that_timed_out_is_parked_at_once_and_a_retry_by_staff_sends_it_once(app, client, fake,
                                                                                            make_staff):
    original = hang_route(fake, TG_SEND)
    resident = make_reply(client, fake, "telegram")
    send_due_messages()
    [row] = outbox()
    assert row.state == "parked" and row.payload["outcome_unknown"]
    fake.routes[("POST", TG_SEND)] = original
    user, _ = make_staff("admin", organisation="DSP")
    client.post("/staff/login", data={"email": user.email, "password": "correct horse battery"})
    page = client.get("/staff/admin/stuck")
    assert page.status_code == 200 and "Onbekend of dit bericht is aangekomen" in page.get_data(as_text=True)
    assert client.post(f"/staff/admin/stuck/outbound/{row.id}/retry").status_code == 303
    assert [r.state for r in outbox()] == ["sent"]
    assert len(resident.replies()) == 2  # the one that hung (it did land) and the one staff chose to send
    assert stuck_items(None) == []


def test_reply_left_sending_by_a_worker_that_died_is_not_resent_blindly(client, fake):
    make_reply(client, fake, "telegram")
    [row] = outbox()
    db.session.execute(update(OutboundMessage).values(state="sending", state_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    send_due_messages()
    [row] = outbox()
    assert row.state == "parked" and "lease expired" in row.last_error
    assert len([m for m in sent_messages(fake) if m["kind"] == "telegram"]) == 1


def test_webchat_reply_left_sending_by_a_worker_that_died_is_queued_again(client, fake):
    make_reply(client, fake, "webchat", user="x")
    db.session.execute(update(OutboundMessage).values(state="sending", state_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    send_due_messages()
    send_due_messages()
    assert {r.state for r in outbox()} == {"sent"}


def test_stuck_list_is_for_administrators_only_and_dismiss_takes_an_item_off_it(app, client, fake, make_staff):
    fake.routes[("POST", TG_SEND)] = lambda r: Response("down", status=503)
    make_reply(client, fake, "telegram")
    for _ in range(4):
        send_due_messages()
    [row] = outbox("parked")
    agent, _ = make_staff("agent", organisation="DSP")
    client.post("/staff/login", data={"email": agent.email, "password": "correct horse battery"})
    assert client.get("/staff/admin/stuck").status_code == 403
    assert client.post(f"/staff/admin/stuck/outbound/{row.id}/dismiss").status_code == 403
    client.post("/staff/logout")
    admin, _ = make_staff("admin", organisation="DSP")
    client.post("/staff/login", data={"email": admin.email, "password": "correct horse battery"})
    assert client.post(f"/staff/admin/stuck/outbound/{row.id}/dismiss").status_code == 303
    assert [r.state for r in outbox()] == ["dismissed"]
    assert "Niets vastgelopen" in client.get("/staff/admin/stuck").get_data(as_text=True)
    assert client.post(f"/staff/admin/stuck/outbound/{row.id}/retry").status_code == 404


# --- intake timers ----------------------------------------------------------------------------------------


def test_draft_whose_report_cannot_be_made_is_retried_then_parked_for_a_person(app, client, fake, monkeypatch):
    import meldingen.intake.reporting as intake  # make_report is looked up there since the intake's split
    from meldingen.intake.tasks import act_on_due_conversations

    app.config["INTAKE_QUIET_SECONDS"] = 1
    resident = RESIDENTS["telegram"](client, fake, "888999000")
    resident.send_location(*AMSTERDAM)
    resident.send_text("Boom omgevallen over de weg")
    monkeypatch.setattr(intake, "make_report", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("routing down")))
    later = utcnow() + timedelta(seconds=5)
    for _ in range(3):
        act_on_due_conversations(now=later)
        later += timedelta(seconds=1)
    db.session.rollback()
    conversation = db.session.scalar(select(Conversation))
    assert conversation.parked_at is not None and conversation.act_attempts == 3 and conversation.needs_person
    assert "routing down" in conversation.act_error and conversation.act_after is None
    monkeypatch.undo()
    from meldingen.staff.stuck import retry

    restarted = retry("conversation", conversation.id, "admin@test")
    assert restarted is not None
    db.session.commit()  # as the stuck page does: commit the retry, then hand the work to the workers
    restarted.enqueue()
    act_on_due_conversations(now=utcnow() + timedelta(seconds=1))
    assert report_count() == 1
    assert len([t for t in resident.replies() if find_reference(t)]) == 1


# --- degrade, don't refuse: the geocoder down -------------------------------------------------------------


@pytest.fixture
def pdok_down(app):
    """PDOK's address on a loopback port nobody listens on."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    app.config["GEOCODER_URL"] = f"http://127.0.0.1:{port}/bzk/locatieserver/search/v3_1"
    return app


@pytest.mark.parametrize("kind", ["whatsapp", "telegram", "twilio", "webchat"])
def test_with_the_geocoder_down_a_typed_address_still_makes_a_report_for_a_person_to_place(pdok_down, client, fake,
                                                                                             kind):
    resident = RESIDENTS[kind](client, fake, {"whatsapp": "31655555555", "telegram": "333444555",
                                              "twilio": "+31655555555", "webchat": "w"}[kind])
    resident.send_text("Nergensweg 12")
    resident.send_text("Het verkeerslicht doet het niet")
    db.session.rollback()
    [report] = db.session.scalars(select(Report)).all()
    assert report.address_unknown and report.lat is None and report.address_text == "Nergensweg 12"
    assert report.organisation is not None  # routed to the service point, for a person to place it
    replies = resident.replies()
    assert [find_reference(t) for t in replies if find_reference(t)] == [report.reference]
    assert not any("niet vinden" in t.lower() or "niet gevonden" in t.lower() for t in replies)


def test_typed_address_is_looked_up_before_the_resident_is_locked(app, client, fake, backend, database_url):
    """While PDOK is being asked, another writer can still lock the resident's row (no network under a lock)."""
    outcomes = []
    engine = create_engine(database_url, connect_args={"timeout": 0.2} if backend == "sqlite" else {})

    def pdok_answer(request):
        with engine.connect() as conn:
            try:
                if backend == "sqlite":
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                else:
                    conn.execute(text("SET lock_timeout = '200ms'"))
                    conn.execute(text("SELECT id FROM reporters FOR UPDATE"))
                outcomes.append("free")
            except Exception as exc:
                outcomes.append(f"locked: {type(exc).__name__}")
            finally:
                conn.rollback()
        return Response(json.dumps({"response": {"numFound": 0, "start": 0, "docs": []}}),
                        content_type="application/json")

    fake.route("GET", "/pdok/free")(pdok_answer)
    app.config["GEOCODER_URL"] = f"{fake.url}/pdok"
    resident = RESIDENTS["telegram"](client, fake, "123123123")
    resident.send_text("hallo")  # the resident exists (a row another writer could find locked)
    resident.send_text("Nergensweg 14")
    engine.dispose()
    assert outcomes and set(outcomes) == {"free"}
