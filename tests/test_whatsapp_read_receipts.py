"""WhatsApp messages are marked read once processed: through the outbox, with a timeout, once, never fatal."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.wrappers import Response

from meldingen.channels import whatsapp
from meldingen.channels.models import InboundEvent
from meldingen.extensions import db
from meldingen.notify import receipts
from meldingen.notify.models import OutboundMessage
from meldingen.notify.tasks import deliver
from meldingen.residents.models import Conversation
from meldingen.timeutil import utcnow

SECRET = "whatsapp-app-secret"
PHONE_ID = "106540352242922"  # the number the message came in on (metadata.phone_number_id)


def text_sent_now() -> bytes:
    """The documented text notification, sent just now (inside the 24-hour window, so replies go out)."""
    body = json.loads((Path(__file__).parent / "payloads" / "whatsapp" / "text.json").read_text())
    body["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = str(int(time.time()))
    return json.dumps(body).encode()


TEXT_BODY = text_sent_now()
WAMID = json.loads(TEXT_BODY)["entry"][0]["changes"][0]["value"]["messages"][0]["id"]


@pytest.fixture
def app_config(fake):
    return {"WHATSAPP_APP_SECRET": SECRET, "WHATSAPP_ACCESS_TOKEN": "wa-token",
            "WHATSAPP_GRAPH_URL": f"{fake.url}/v21.0", "WHATSAPP_PHONE_NUMBER_ID": PHONE_ID}


def graph_answers(fake, handler=None):
    def default(request):
        body = json.loads(request.get_data())
        if body.get("status") == "read":
            return Response('{"success": true}', mimetype="application/json")
        return Response(json.dumps({"messages": [{"id": "wamid.OUT"}]}), mimetype="application/json")

    fake.route("POST", f"/v21.0/{PHONE_ID}/messages")(handler or default)


def post(client, body: bytes = TEXT_BODY):
    response = client.post("/webhooks/whatsapp", data=body, content_type="application/json",
                           headers={whatsapp.SIGNATURE_HEADER: whatsapp.sign(SECRET, body)})
    assert response.status_code == 200


def read_calls(fake) -> list[dict]:
    bodies = [json.loads(s.body) for s in fake.requests_to(f"/v21.0/{PHONE_ID}/messages")]
    return [b for b in bodies if b.get("status") == "read"]


def receipt_rows() -> list[OutboundMessage]:
    return db.session.scalars(select(OutboundMessage).where(OutboundMessage.template_key == receipts.READ_RECEIPT)
                              ).all()


def test_processed_message_is_marked_read_with_the_documented_call(client, fake):
    graph_answers(fake)
    post(client)
    assert read_calls(fake) == [{"messaging_product": "whatsapp", "status": "read", "message_id": WAMID}]
    (seen,) = [s for s in fake.requests_to(f"/v21.0/{PHONE_ID}/messages") if b'"read"' in s.body]
    assert seen.headers["Authorization"] == "Bearer wa-token"
    (row,) = receipt_rows()
    assert row.state == "sent" and row.sent_at is None  # not a message: it does not count for pacing


def test_a_redelivered_or_reprocessed_message_is_marked_read_once(client, fake):
    graph_answers(fake)
    post(client)
    post(client)  # Meta re-sends the body
    event = db.session.scalar(select(InboundEvent))
    event.state = "pending"  # and the worker runs the event once more (a job delivered twice)
    db.session.commit()
    from meldingen.channels.tasks import process_event

    process_event(event.id)
    assert len(read_calls(fake)) == 1 and len(receipt_rows()) == 1


def test_a_receipt_that_fails_does_not_fail_processing_nor_call_in_a_person(client, fake):
    def refuse_receipts(request):
        if b'"read"' in request.get_data():
            return Response(json.dumps({"error": {"message": "Invalid parameter", "code": 100}}), status=400,
                            mimetype="application/json")
        return Response(json.dumps({"messages": [{"id": "wamid.OUT"}]}), mimetype="application/json")

    graph_answers(fake, refuse_receipts)
    post(client)
    assert db.session.scalar(select(InboundEvent)).state == "done"
    (row,) = receipt_rows()
    assert row.state == "failed" and "Invalid parameter" in row.last_error
    conversation = db.session.scalar(select(Conversation))
    assert not conversation.needs_person


def test_a_hanging_graph_is_given_up_after_the_short_timeout_and_one_retry(app, client, fake, monkeypatch):
    monkeypatch.setattr(receipts, "RECEIPT_TIMEOUT_SECONDS", 0.2)

    def hang(request):
        if b'"read"' in request.get_data():
            time.sleep(1.0)
            return Response('{"success": true}', mimetype="application/json")
        return Response(json.dumps({"messages": [{"id": "wamid.OUT"}]}), mimetype="application/json")

    graph_answers(fake, hang)
    post(client)
    assert db.session.scalar(select(InboundEvent)).state == "done"
    (row,) = receipt_rows()
    assert row.state == "queued" and "timeout" in row.last_error and row.attempts == 1
    assert deliver(row.id, now=utcnow() + timedelta(seconds=30)) == "failed"
    db.session.refresh(row)
    assert row.attempts == 2 and not db.session.scalar(select(Conversation)).needs_person


def test_a_reply_right_after_the_receipt_is_not_delayed_by_pacing(client, fake):
    graph_answers(fake)
    post(client)
    replies = db.session.scalars(select(OutboundMessage).where(OutboundMessage.body != "")).all()
    assert replies and all(r.state == "sent" for r in replies)  # WhatsApp pacing (6 s) ignored the receipt
