"""The embedded default's inbox spool: a verified delivery is written to a file and acknowledged at once, never
waiting for SQLite's write lock; the background process stores it exactly as the webhook did before, once, and
takes up what a crash left."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest
from conftest import make_app
from sqlalchemy import func, select

from meldingen.channels import spool, whatsapp
from meldingen.channels.models import InboundEvent
from meldingen.extensions import db
from meldingen.staff.stuck import stuck_items

PAYLOADS = Path(__file__).parent / "payloads"
SECRET = "whatsapp-app-secret"


def whatsapp_post(client, name: str):
    body = (PAYLOADS / "whatsapp" / f"{name}.json").read_bytes()
    return client.post("/webhooks/whatsapp", data=body, headers={
        "Content-Type": "application/json", whatsapp.SIGNATURE_HEADER: whatsapp.sign(SECRET, body)})


def telegram_post(client, name: str):
    body = (PAYLOADS / "telegram" / f"{name}.json").read_bytes()
    return client.post("/webhooks/telegram", data=body, headers={
        "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": "tg-secret"})


def event_keys() -> list[tuple[str, str, str]]:
    db.session.expire_all()
    return sorted((e.channel_kind, e.external_key, e.state) for e in db.session.scalars(select(InboundEvent)))


@pytest.fixture
def app_config(fake, tmp_path):
    return {"WHATSAPP_APP_SECRET": SECRET, "WHATSAPP_ACCESS_TOKEN": "wa-token",
            "WHATSAPP_GRAPH_URL": f"{fake.url}/v21.0", "TELEGRAM_BOT_TOKEN": "123456:tg-token",
            "TELEGRAM_SECRET_TOKEN": "tg-secret", "TELEGRAM_API_URL": fake.url,
            "INBOX_SPOOL_DIR": str(tmp_path / "inbox")}


def test_spooled_deliveries_are_stored_as_the_webhook_stored_them(app, client):
    """The same deliveries, stored directly and then spooled, give the same events; no file is left."""
    def deliver_all():
        for name in ("batch", "statuses", "location_pin"):
            assert whatsapp_post(client, name).status_code == 200
        for name in ("text", "my_chat_member"):
            assert telegram_post(client, name).status_code == 200
        return [(kind, key) for kind, key, _state in event_keys()]

    direct = deliver_all()
    assert len(direct) >= 5
    db.session.execute(InboundEvent.__table__.delete())
    db.session.commit()
    app.config["INBOX_SPOOL"] = "on"
    assert deliver_all() == direct
    assert not list(spool.spool_dir().glob("*"))


@pytest.fixture
def spooling_app(tmp_path, database_url, fake):
    """Spooled, with the import in a background thread (as the embedded default's child process does it)."""
    app = make_app(tmp_path, database_url, JOBS_BACKEND="thread", JOBS_RAISE=False, INBOX_SPOOL="on",
                   INBOX_SPOOL_DIR=str(tmp_path / "inbox"), WHATSAPP_APP_SECRET=SECRET,
                   WHATSAPP_ACCESS_TOKEN="wa-token", WHATSAPP_GRAPH_URL=f"{fake.url}/v21.0", INTAKE_QUIET_SECONDS=60)
    yield app
    app.extensions["meldingen_jobs"].stop.set()


def count_events(app) -> int:
    with app.app_context():
        try:
            return db.session.scalar(select(func.count()).select_from(InboundEvent))
        finally:
            db.session.remove()


def test_a_delivery_is_acknowledged_while_another_writer_holds_sqlite(spooling_app, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("the write lock that webhooks must not wait for is SQLite's")
    with spooling_app.app_context():
        holder = db.engine.raw_connection()  # the same SQLite library as the app (two in one process clash)
    holder.driver_connection.execute("BEGIN IMMEDIATE")  # the background work holds the one write lock
    answered = threading.Event()

    def webhook():
        with spooling_app.test_client() as client:
            assert whatsapp_post(client, "batch").status_code == 200
        answered.set()

    thread = threading.Thread(target=webhook)
    thread.start()
    try:
        assert answered.wait(20), "the acknowledgement waited for the write lock"
        with spooling_app.app_context():
            assert spool.waiting_count() + len(list(spool.spool_dir().glob("*.claimed.*"))) == 1
        assert count_events(spooling_app) == 0  # not in the database yet: its writer waits for the lock
    finally:
        holder.driver_connection.rollback()
        holder.close()
        thread.join(20)
    deadline = time.monotonic() + 20
    while count_events(spooling_app) == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert count_events(spooling_app) > 0
    assert list(Path(spooling_app.config["INBOX_SPOOL_DIR"]).glob("*")) == []


def test_what_a_crash_left_in_the_spool_is_imported_once(app, tmp_path):
    """A file written and never imported, and one claimed by a process that died: both taken up; a file imported
    a second time (a crash between commit and delete) stores nothing more."""
    app.config.update(INBOX_SPOOL="on", WHATSAPP_APP_SECRET=SECRET)
    raw = json.loads((PAYLOADS / "whatsapp" / "batch.json").read_text())
    other = json.loads((PAYLOADS / "whatsapp" / "location_pin.json").read_text())
    spool.write({"kind": "whatsapp", "raw": raw, "verified": [None]})
    claimed = spool.write({"kind": "whatsapp", "raw": other, "verified": [None]})
    abandoned = claimed.with_name(claimed.name + ".claimed.999.dead")
    os.replace(claimed, abandoned)
    old = time.time() - spool.CLAIM_LEASE_SECONDS - 5
    os.utime(abandoned, (old, old))
    assert spool.import_waiting() == 2
    stored = event_keys()
    assert len(stored) >= 2 and not list(spool.spool_dir().glob("*"))
    again = spool.write({"kind": "whatsapp", "raw": raw, "verified": [None]})
    assert spool.import_waiting() == 1 and not again.exists()
    assert event_keys() == stored


def test_a_delivery_that_cannot_be_stored_is_parked_for_staff(app):
    app.config.update(INBOX_SPOOL="on", WHATSAPP_APP_SECRET=SECRET)
    raw = json.loads((PAYLOADS / "whatsapp" / "batch.json").read_text())
    spool.write({"kind": "whatsapp", "raw": raw, "verified": [987654]})  # a channel that no longer exists
    for _ in range(spool.MAX_ATTEMPTS):
        assert spool.import_waiting() == 0
    assert not list(spool.spool_dir().glob("*"))
    (item,) = [i for i in stuck_items(None) if i.kind == "inbound"]
    assert "gone" in item.reason and item.attempts == spool.MAX_ATTEMPTS


def test_auto_spools_only_on_sqlite_with_the_background_process(tmp_path, database_url):
    app = make_app(tmp_path, database_url, JOBS_BACKEND="process")
    with app.app_context():
        assert spool.enabled() is database_url.startswith("sqlite")
    app.extensions["meldingen_jobs"].close()
    for backend in ("sync", "thread"):
        with make_app(tmp_path, database_url, JOBS_BACKEND=backend).app_context():
            assert spool.enabled() is False
