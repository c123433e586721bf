"""A platform whose host cannot be reached (it accepts the connection and never answers) holds only its own
sends: the website chat's first reply does not wait for it (embedded default: background work in threads)."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from sqlalchemy import func, select

from meldingen.extensions import db
from meldingen.notify.models import OutboundMessage
from meldingen.notify.outbox import queue_message
from meldingen.residents.models import Reporter
from meldingen.timeutil import utcnow


class BlackHole:
    """A loopback port that accepts every connection and never answers."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.held: list[socket.socket] = []
        self.closed = False
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            with self.lock:
                if self.closed:
                    connection.close()
                    return
                self.held.append(connection)

    def close(self):
        with self.lock:
            self.closed = True
            self.server.close()
            for connection in self.held:
                connection.close()
        self.thread.join(5)


@pytest.fixture
def black_hole():
    hole = BlackHole()
    yield hole
    hole.close()


@pytest.fixture
def app_config(black_hole):
    return {"JOBS_BACKEND": "thread", "INTAKE_QUIET_SECONDS": 0, "PLATFORM_TIMEOUT": 600,
            "TELEGRAM_BOT_TOKEN": "123456:ABC-def", "TELEGRAM_SECRET_TOKEN": "tg-secret",
            "TELEGRAM_API_URL": black_hole.url,
            "WHATSAPP_APP_SECRET": "wa-secret", "WHATSAPP_VERIFY_TOKEN": "verify-me",
            "WHATSAPP_ACCESS_TOKEN": "wa-token", "WHATSAPP_GRAPH_URL": f"{black_hole.url}/v21.0"}


def wait_for(condition, what: str, seconds: float = 90.0):
    """Polls until `condition()` is true; fails (it did not happen) after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    pytest.fail(f"{what} did not happen")


def test_unreachable_platform_hosts_do_not_delay_the_website_chats_first_reply(app, client, black_hole):
    try:
        # Replies to residents of two platforms whose hosts hang: more sends than the background has threads.
        for kind in ("telegram", "whatsapp"):
            for n in range(4):
                reporter = Reporter(channel_kind=kind, platform_id=f"31600000{n}", language="nl",
                                    last_inbound_at=utcnow(), created_at=utcnow())
                db.session.add(reporter)
                db.session.flush()
                queue_message(reporter, "Bedankt voor uw bericht.", key=f"hang:{kind}:{n}")
        db.session.commit()
        wait_for(lambda: len(black_hole.held) >= 4, "sends hanging at the unreachable hosts")

        token = client.post("/chat/api/sessions").json["session"]
        headers = {"X-Chat-Session": token}
        for body in ({"id": "first-0001", "text": "De lantaarnpaal voor mijn deur doet het niet meer"},
                     {"id": "first-0002", "location": {"lat": 52.3877221, "lon": 4.8925727}}):
            assert client.post("/chat/api/messages", json=body, headers=headers).status_code == 200

        def reference_shown():
            messages = client.get("/chat/api/messages", headers=headers).json["messages"]
            return [m for m in messages if "M-" in m["text"]]

        assert wait_for(reference_shown, "the website chat's reply with the reference")
        # ... while every send to the unreachable hosts still hangs: the reply did not wait for them.
        db.session.rollback()
        hanging = db.session.scalar(select(func.count()).select_from(OutboundMessage).where(
            OutboundMessage.channel_kind.in_(("telegram", "whatsapp")),
            OutboundMessage.state.in_(("sent", "failed", "unknown"))))
        assert hanging == 0 and not black_hole.closed
    finally:
        black_hole.close()  # the hanging sends end now, not at their 600 s timeout
        backend = app.extensions["meldingen_jobs"]
        backend.stop.set()
        backend.shutdown()  # and their threads with them, before the test's database goes
