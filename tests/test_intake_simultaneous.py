"""A resident's location and words that arrive at the same instant (about 30 ms apart, either order) make one
report and never "Wat is er aan de hand?": the quiet-period timer of the first may fire while the second is
stored but not yet taken in (queued behind other residents' work, or waiting for the resident's lock)."""

from __future__ import annotations

import copy
import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from meldingen.channels import whatsapp
from meldingen.channels.models import InboundEvent
from meldingen.channels.tasks import process_event
from meldingen.extensions import db
from meldingen.intake.tasks import act, act_on_due_conversations
from meldingen.jobs.backends import LocalSlots
from meldingen.notify.models import OutboundMessage
from meldingen.reports.models import Report
from meldingen.residents.models import Conversation, Reporter
from meldingen.timeutil import utcnow

PAYLOADS = Path(__file__).parent / "payloads"
LAT, LON = 52.370216, 4.895168  # the Dam, Amsterdam
WORDS = "De lantaarnpaal voor nummer 3 doet het niet meer"
WA_SECRET = "whatsapp-app-secret"


@pytest.fixture
def app_config(fake):
    return {"INTAKE_QUIET_SECONDS": 8,
            "TELEGRAM_BOT_TOKEN": "123456:ABC-def", "TELEGRAM_SECRET_TOKEN": "tg-secret",
            "TELEGRAM_API_URL": fake.url,
            "WHATSAPP_APP_SECRET": WA_SECRET, "WHATSAPP_VERIFY_TOKEN": "verify-me",
            "WHATSAPP_ACCESS_TOKEN": "wa-token", "WHATSAPP_GRAPH_URL": f"{fake.url}/v21.0"}


class Recorded:
    """A job backend that only remembers: the test decides when the stored events are processed and when the
    quiet-period timers fire (both at once, from threads)."""

    def __init__(self):
        self.slots = LocalSlots()
        self.jobs: list[tuple[str, dict]] = []

    def enqueue(self, name, kwargs):
        self.jobs.append((name, kwargs))

    def enqueue_in(self, seconds, name, kwargs):
        self.jobs.append((name, kwargs))


def telegram_pair(n: int) -> tuple[tuple[str, bytes, dict], tuple[str, bytes, dict]]:
    user = 700_000 + n
    base = json.loads((PAYLOADS / "telegram" / "text.json").read_text())
    location, words = copy.deepcopy(base), copy.deepcopy(base)
    del location["message"]["text"]
    location["message"]["location"] = {"latitude": LAT, "longitude": LON}
    words["message"]["text"] = WORDS
    for number, update in enumerate((location, words), start=1):
        update["update_id"] = 90_000_000 + n * 10 + number
        update["message"]["message_id"] = n * 10 + number
        update["message"]["from"]["id"] = update["message"]["chat"]["id"] = user
    headers = {"X-Telegram-Bot-Api-Secret-Token": "tg-secret", "Content-Type": "application/json"}
    return tuple(("/webhooks/telegram", json.dumps(u).encode(), headers) for u in (location, words))


def whatsapp_pair(n: int):
    wa_id = f"3161{n:07d}"
    base = json.loads((PAYLOADS / "whatsapp" / "text.json").read_text())
    pair = []
    for number, content in enumerate(({"type": "location", "location": {"latitude": LAT, "longitude": LON}},
                                      {"type": "text", "text": {"body": WORDS}}), start=1):
        body = copy.deepcopy(base)
        value = body["entry"][0]["changes"][0]["value"]
        value["contacts"][0]["wa_id"] = wa_id
        value["messages"] = [{"from": wa_id, "id": f"wamid.SIM{n}-{number}", "timestamp": "1749416383", **content}]
        raw = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", whatsapp.SIGNATURE_HEADER: whatsapp.sign(WA_SECRET, raw)}
        pair.append(("/webhooks/whatsapp", raw, headers))
    return tuple(pair)


def webchat_pair(client, n: int):
    token = client.post("/chat/api/sessions").json["session"]
    headers = {"X-Chat-Session": token, "Content-Type": "application/json"}
    return (("/chat/api/messages", json.dumps({"id": f"sim-{n:06d}-1", "location": {"lat": LAT, "lon": LON}})
             .encode(), headers),
            ("/chat/api/messages", json.dumps({"id": f"sim-{n:06d}-2", "text": WORDS}).encode(), headers))


def run_together(app, *work) -> list[BaseException]:
    barrier, errors = threading.Barrier(len(work)), []

    def run(step):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                step()
            except BaseException as exc:  # pragma: no cover - shown by the assertion
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(step,)) for step in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


ROUNDS = {"telegram": 200, "whatsapp": 60, "webchat": 60}


@pytest.mark.parametrize("platform", list(ROUNDS))
def test_location_and_words_at_the_same_instant_make_one_report_and_no_question(app, platform):
    backend = Recorded()
    app.extensions["meldingen_jobs"] = backend
    client = app.test_client()
    for n in range(ROUNDS[platform]):
        pair = {"telegram": telegram_pair, "whatsapp": whatsapp_pair}[platform](n) if platform != "webchat" \
            else webchat_pair(client, n)
        said, reports = one_round(app, client, backend, pair[::-1] if n % 2 else pair)  # either order
        assert reports == 1, (n, said)
        assert not [key for key in said if key.startswith("ask_")], (n, said)
        assert [key for key in said if key in ("report_made", "report_known")], (n, said)


def one_round(app, client, backend: Recorded, pair) -> tuple[list[str], int]:
    """Both messages arrive (stored and acknowledged) before either is taken in; then both are taken in at once
    while the first one's quiet-period timer fires as soon as that one is in. Returns what the resident was
    told (template keys) and how many reports they have."""
    later = utcnow().replace(year=utcnow().year + 1)
    backend.jobs.clear()
    for url, body, headers in pair:
        assert client.post(url, data=body, headers=headers).status_code == 200
    events = [kwargs["event_id"] for name, kwargs in backend.jobs if name == "channels.process_event"]
    assert len(events) == 2
    sender = db.session.get(InboundEvent, events[0]).payload["message"]["platform_user_id"]
    db.session.rollback()
    resident = select(Conversation.id).join(Reporter, Conversation.reporter_id == Reporter.id) \
        .where(Reporter.platform_id == sender)

    def timer_fires_as_soon_as_a_message_is_in():
        while True:
            conversation_id = db.session.scalar(resident)
            db.session.rollback()
            if conversation_id is not None:
                act(conversation_id, now=later)
                return

    errors = run_together(app, lambda: process_event(events[0]), lambda: process_event(events[1]),
                          timer_fires_as_soon_as_a_message_is_in)
    assert errors == []
    for _ in range(5):  # the timers that are left fire (a decision held back looks again)
        act_on_due_conversations(now=later)
        db.session.commit()
    reporter = db.session.scalar(select(Reporter).where(Reporter.platform_id == sender))
    reports = db.session.scalar(select(func.count()).select_from(Report).where(Report.reporter_id == reporter.id))
    said = db.session.scalars(select(OutboundMessage.template_key).where(
        OutboundMessage.reporter_id == reporter.id, OutboundMessage.template_key.is_not(None))).all()
    return list(said), reports
