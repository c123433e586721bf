"""The scaled layout, run as an operator runs it: two gunicorn web processes, a pool of workers and the scheduler
on PostGIS and Redis, each a real process started by its documented command, driven by residents on Telegram
whose platform is faked on loopback.

Times are asserted with generous bounds (the quiet period plus two seconds); the figures belong in
bench/bench_scale.py.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from fake_chat_platform import TG_SECRET, TG_TOKEN, TelegramResident, install_send_routes
from werkzeug.wrappers import Response

from tests.conftest import CLASSIFIER_MODEL_DIR, IN_CI, PG_URL

ROOT = Path(__file__).resolve().parent.parent
QUIET_SECONDS = 1
AMSTERDAM = (52.3731, 4.8926)

pytestmark = [
    pytest.mark.postgis,
    pytest.mark.parametrize("backend", ["postgis"]),
    # The scaled layout is PostGIS and Redis; CI always has both (conftest refuses CI without the database URL).
    pytest.mark.skipif(not PG_URL and not IN_CI, reason="needs MELDINGEN_TEST_DATABASE_URL (PostGIS)"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class HttpClient:
    """The Flask test client's `post` over real HTTP, so the conversation helpers drive a real server."""

    def __init__(self, base_url: str):
        self.http = httpx.Client(base_url=base_url, timeout=10)

    def post(self, path, data=None, content_type=None, headers=None, json=None):
        headers = dict(headers or {})
        if content_type:
            headers["Content-Type"] = content_type
        response = self.http.post(path, content=data, headers=headers)
        response.data = response.content
        return response


class Processes:
    def __init__(self):
        self.running: list[subprocess.Popen] = []

    def start(self, args: list[str], env: dict, log: Path) -> subprocess.Popen:
        with log.open("wb") as handle:  # the child keeps its own copy of the descriptor
            process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        self.running.append(process)
        return process

    def stop_all(self):
        for process in self.running:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.running:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)


@pytest.fixture
def broker_url(real_redis_url):
    return real_redis_url


@pytest.fixture
def telegram(fake):
    """Telegram's Bot API on loopback; sends to a chat in `hanging` wait until the test ends."""
    install_send_routes(fake)
    fake.hanging = set()
    fake.sends = []  # (chat id, monotonic time of arrival, text)
    release = fake.release = threading.Event()

    def send_message(request):
        body = json.loads(request.get_data())
        fake.sends.append((str(body["chat_id"]), time.monotonic(), body["text"]))
        if str(body["chat_id"]) in fake.hanging:
            release.wait(60)
        return Response(json.dumps({"ok": True, "result": {"message_id": 9000 + len(fake.sends)}}),
                        content_type="application/json")

    fake.routes[("POST", f"/bot{TG_TOKEN}/sendMessage")] = send_message
    yield fake
    release.set()


@pytest.fixture
def layout(tmp_path, database_url, broker_url, telegram):
    """2 web processes, 4 worker processes (no forking per job) on their queues, 1 scheduler; as the README says."""
    from tests.conftest import make_app

    # The classifier model the workers load: trained once here, not by each worker at its first report.
    with make_app(tmp_path, database_url).app_context():
        from meldingen.classify.services import get_classifier

        get_classifier()
    port = _free_port()
    env = {
        **os.environ,
        "MELDINGEN_DATABASE_URL": database_url,
        "MELDINGEN_BROKER_URL": broker_url,
        "MELDINGEN_SECRET_KEY": "scaled-layout-secret",
        "MELDINGEN_MEDIA_DIR": str(tmp_path / "media"),
        "MELDINGEN_CLASSIFIER_MODEL_PATH": str(CLASSIFIER_MODEL_DIR / "model.joblib"),
        "MELDINGEN_GEOCODER_URL": "off",
        "MELDINGEN_INTAKE_QUIET_SECONDS": str(QUIET_SECONDS),
        "MELDINGEN_TELEGRAM_BOT_TOKEN": TG_TOKEN,
        "MELDINGEN_TELEGRAM_SECRET_TOKEN": TG_SECRET,
        "MELDINGEN_TELEGRAM_API_URL": telegram.url,
        "MELDINGEN_NOTIFY_PACING_SECONDS": json.dumps({"telegram": 0}),
        "MELDINGEN_BIND": f"127.0.0.1:{port}",
        "MELDINGEN_WEB_WORKERS": "2",
        "MELDINGEN_WEB_GRACEFUL_TIMEOUT": "5",
    }
    meldingen = [sys.executable, "-c", "from meldingen.console import main; main()"]
    processes = Processes()
    try:
        processes.start([sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "wsgi:app"], env,
                        tmp_path / "web.log")
        # As the README's recipe: each kind of work on workers of its own; a sweep that does what it finds (a
        # send to a hanging platform included) never holds up the intake or the replies of other residents.
        processes.start([*meldingen, "worker", "--queues", "intake,inbound", "--no-scheduler"], env,
                        tmp_path / "worker-intake.log")
        processes.start([*meldingen, "worker", "--queues", "replies", "--processes", "2", "--no-scheduler"], env,
                        tmp_path / "worker-replies.log")
        processes.start([*meldingen, "worker", "--queues", "sweeps", "--no-scheduler"], env,
                        tmp_path / "worker-sweeps.log")
        processes.start([*meldingen, "scheduler"], env, tmp_path / "scheduler.log")
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            exited = [p.args for p in processes.running if p.poll() is not None]
            if exited or time.monotonic() > deadline:
                logs = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in tmp_path.glob("*.log"))
                pytest.fail(f"the layout did not become ready (exited: {exited})\n{logs}")
            time.sleep(0.3)
        _wait_for_workers(broker_url, 4)
        client = HttpClient(base_url)
        yield client
        client.http.close()
    finally:
        telegram.release.set()  # a worker stopping finishes its job first
        processes.stop_all()


def _wait_for_workers(broker_url: str, count: int) -> None:
    from redis import Redis
    from rq import Worker

    connection = Redis.from_url(broker_url)
    deadline = time.monotonic() + 60
    while len(Worker.all(connection=connection)) < count:
        assert time.monotonic() < deadline, "the worker processes did not register"
        time.sleep(0.2)


def _report(resident: TelegramResident, lat: float, lon: float) -> float:
    """A broken street light, as words and then a shared location; the time of the last message."""
    resident.send_text("De lantaarnpaal is kapot, hij brandt niet meer")
    resident.send_location(lat, lon)
    return time.monotonic()


def _wait_for_reply(fake, chat_id: str, after: float, timeout: float) -> tuple[float, str] | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for chat, at, text in list(fake.sends):
            if chat == chat_id and at >= after:
                return at, text
        time.sleep(0.05)
    return None


def test_a_resident_gets_the_reference_within_the_quiet_period_and_two_seconds(layout, telegram):
    resident = TelegramResident(layout, telegram, "555000111")
    last = _report(resident, *AMSTERDAM)
    reply = _wait_for_reply(telegram, "555000111", last, QUIET_SECONDS + 10)
    assert reply is not None, "no reply at all"
    arrived, text = reply
    assert re.search(r"\bM-?[0-9A-Z-]{4,}", text), text
    assert arrived - last <= QUIET_SECONDS + 2, f"reply {arrived - last:.2f} s after the last message"


def test_a_platform_hanging_for_one_resident_does_not_delay_another(layout, telegram):
    telegram.hanging.add("555000222")
    stuck = TelegramResident(layout, telegram, "555000222")
    other = TelegramResident(layout, telegram, "555000333")
    stuck_last = _report(stuck, *AMSTERDAM)
    assert _wait_for_reply(telegram, "555000222", stuck_last, QUIET_SECONDS + 10) is not None  # now hanging
    other_last = _report(other, 52.3700, 4.9000)
    reply = _wait_for_reply(telegram, "555000333", other_last, QUIET_SECONDS + 10)
    assert reply is not None, "the other resident got no reply while one send hung"
    assert reply[0] - other_last <= QUIET_SECONDS + 2, f"reply {reply[0] - other_last:.2f} s after the last message"
