"""Real processes to break: the web server, the RQ worker and a PostgreSQL of our own, driven over loopback.

Used by tests/test_faults.py and bench/bench_recovery.py. Residents are the webhook residents of
fake_chat_platform, posting to a real server subprocess (waitress, as `make run` serves) instead of Flask's
test client; the platforms are one FakePlatform on loopback; every process is started and stopped by id.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import httpx
from fake_chat_platform import RESIDENTS, platform_config, sent_messages
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children_of(pid: int) -> list[int]:
    """The ids of the processes whose parent is `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_until(condition, timeout: float, interval: float = 0.2, what: str = "condition"):
    """Poll `condition` until it returns something truthy; AssertionError naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = condition()
        except Exception as exc:
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def service_env(database_url: str, fake, tmp: Path, broker_url: str = "", **extra) -> dict:
    """The environment of a server or worker: MELDINGEN_* for the platforms on `fake`, short retry times."""
    config = {
        **platform_config(fake),
        "DATABASE_URL": database_url,
        "SECRET_KEY": "fault-test-secret",
        "MEDIA_DIR": str(tmp / "media"),
        "GEOCODER_URL": "off",
        "RATELIMIT_ENABLED": "false",
        "INTAKE_QUIET_SECONDS": 1,
        "SWEEP_SECONDS": 0.3,
        "WORK_LEASE_SECONDS": 2,
        "RETRY_SECONDS": [0.3, 0.5, 1],
        "RETRY_MAX_ATTEMPTS": 30,
        "PLATFORM_TIMEOUT": 1.0,
        "UNCONFIRMED_WAIT_SECONDS": 1,
        "CLASSIFIER_MODEL_PATH": str(tmp / "classifier" / "model.joblib"),
        **extra,
    }
    if broker_url:
        config["BROKER_URL"] = broker_url
    env = {k: v for k, v in os.environ.items() if not k.startswith("MELDINGEN_")}
    for key, value in config.items():
        env[f"MELDINGEN_{key}"] = json.dumps(value) if isinstance(value, (dict, list)) else str(value)
    env["PYTHONPATH"] = str(ROOT)
    return env


class Process:
    """One subprocess, stopped (or killed) by its own id only."""

    def __init__(self, args: list[str], env: dict, log_path: Path):
        self.log_path = log_path
        self.log = open(log_path, "ab")  # noqa: SIM115  (open for the process's whole life, closed in stop())
        self.proc = subprocess.Popen(args, env=env, cwd=str(ROOT), stdout=self.log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        """SIGKILL: no clean-up, no goodbye, as a crash or an OOM kill."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self.log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class WebServer(Process):
    def __init__(self, env: dict, tmp: Path, name: str = "web"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # As `make run` serves: waitress set from the app's configuration (body size, trusted proxies).
        super().__init__([sys.executable, "-m", "meldingen.serve", "--host", "127.0.0.1", "--port", str(self.port),
                          "--threads", "6"], env, tmp / f"{name}.log")

    def wait_ready(self, timeout: float = 150.0) -> None:
        """Up when /healthz answers 200; that first request also starts its background sweeps."""
        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.tail()}")
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
        try:
            wait_until(ready, timeout, what="the web server")
        except (AssertionError, RuntimeError) as exc:
            raise AssertionError(f"{exc}\n{self.tail()}") from None


class Worker(Process):
    def __init__(self, env: dict, tmp: Path, name: str = "worker"):
        super().__init__([str(BIN / "meldingen"), "worker"], env, tmp / f"{name}.log")


class HttpResponse:
    def __init__(self, response: httpx.Response):
        self.status_code = response.status_code
        self.data = response.content

    def get_json(self):
        return json.loads(self.data)


class HttpClient:
    """What the webhook residents need of Flask's test client, over real HTTP; a refused or failed delivery
    is delivered again (as the platforms do) until the server acknowledges it or `patience` runs out."""

    def __init__(self, base_url: str, patience: float = 30.0):
        self.base_url = base_url
        self.patience = patience
        self.acknowledged = 0
        self.refused = 0

    def post(self, path, data=None, json=None, content_type=None, headers=None):
        headers = dict(headers or {})
        if content_type and content_type != "multipart/form-data":
            headers["Content-Type"] = content_type
        deadline = time.monotonic() + self.patience
        while True:
            try:
                if isinstance(data, (bytes, str)):
                    response = httpx.post(self.base_url + path, content=data, headers=headers, timeout=10)
                elif data is not None:
                    response = httpx.post(self.base_url + path, data=data, headers=headers, timeout=10)
                else:
                    response = httpx.post(self.base_url + path, json=json, headers=headers, timeout=10)
            except httpx.TransportError:
                response = None
            if response is not None and response.status_code < 500:
                if response.status_code < 300:
                    self.acknowledged += 1
                return HttpResponse(response)
            self.refused += 1
            if time.monotonic() > deadline:
                raise AssertionError(f"{path} never acknowledged")
            time.sleep(0.2)


def residents(client: HttpClient, fake, count_per_kind: int = 1, kinds=("whatsapp", "telegram", "twilio")):
    users = {"whatsapp": lambda i: f"3161000{i:04d}", "telegram": lambda i: str(700000 + i),
             "twilio": lambda i: f"+3162000{i:04d}"}
    return [RESIDENTS[kind](client, fake, users[kind](i)) for kind in kinds for i in range(count_per_kind)]


def landed(fake, resident) -> list[dict]:
    """The messages to this resident that the platform accepted (answered 2xx, even if our call had given up
    waiting): what the resident sees on their phone."""
    accepted = SimpleNamespace(seen=[s for s in fake.seen if 200 <= s.status < 300])
    return [m for m in sent_messages(accepted) if m["kind"] == resident.kind and m["to"] == resident.address]


def reference_replies(fake, resident) -> list[str]:
    from meldingen.reports.references import find_reference

    return [find_reference(m["text"]) for m in landed(fake, resident) if find_reference(m["text"])]


def duplicates(fake, resident) -> list[str]:
    texts = Counter(m["text"] for m in landed(fake, resident))
    return [t for t, n in texts.items() if n > 1]


class Database:
    """Counts straight from the database the services use (no app: it is the thing being broken)."""

    def __init__(self, url: str):
        self.engine = create_engine(url, pool_pre_ping=True)

    def scalar(self, statement):
        with Session(self.engine) as session:
            return session.scalar(statement)

    def pending_work(self) -> int:
        from meldingen.channels.models import InboundEvent
        from meldingen.notify.models import OutboundMessage
        from meldingen.residents.models import Conversation

        events = self.scalar(select(func.count()).select_from(InboundEvent).where(InboundEvent.state == "pending"))
        outbox = self.scalar(select(func.count()).select_from(OutboundMessage).where(
            OutboundMessage.state.in_(("queued", "sending", "unknown"))))
        timers = self.scalar(select(func.count()).select_from(Conversation).where(Conversation.act_after.is_not(None)))
        return events + outbox + timers

    def reports(self) -> int:
        from meldingen.reports.models import Report

        return self.scalar(select(func.count()).select_from(Report))

    def stuck(self) -> int:
        """Work waiting for a person, as on the staff stuck list (read receipts are never that)."""
        from meldingen.channels.models import InboundEvent
        from meldingen.notify.models import OutboundMessage
        from meldingen.notify.receipts import not_a_read_receipt
        from meldingen.residents.models import Conversation

        return (self.scalar(select(func.count()).select_from(InboundEvent).where(InboundEvent.state == "parked"))
                + self.scalar(select(func.count()).select_from(OutboundMessage).where(
                    OutboundMessage.state.in_(("parked", "failed")), not_a_read_receipt()))
                + self.scalar(select(func.count()).select_from(Conversation).where(Conversation.parked_at.is_not(None))))

    def stuck_details(self) -> list[tuple]:
        from meldingen.channels.models import InboundEvent
        from meldingen.notify.models import OutboundMessage
        from meldingen.notify.receipts import not_a_read_receipt
        from meldingen.residents.models import Conversation

        with Session(self.engine) as session:
            return ([("inbound", e.id, e.error) for e in session.scalars(
                        select(InboundEvent).where(InboundEvent.state == "parked"))]
                    + [("outbound", m.id, m.channel_kind, m.state, m.last_error) for m in session.scalars(
                        select(OutboundMessage).where(OutboundMessage.state.in_(("parked", "failed")),
                                                      not_a_read_receipt()))]
                    + [("conversation", c.id, c.act_error) for c in session.scalars(
                        select(Conversation).where(Conversation.parked_at.is_not(None)))])

    def dispose(self) -> None:
        self.engine.dispose()


# --- a PostgreSQL of our own, to stop and start ---------------------------------------------------------


def postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return found[-1].parent if found else None


class OwnPostgres:
    """initdb + pg_ctl on a free port and a data directory under tmp, run as the `postgres` OS user when we
    are root. `stop()` and `start()` are the fault; `destroy()` removes it all."""

    def __init__(self, tmp: Path):
        self.bin = postgres_bin()
        if self.bin is None:
            raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
        # Its own directory straight under the system tmp: the postgres user must reach it (pytest's are 0700).
        self.root = Path(tempfile.mkdtemp(prefix="meldingen-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_postgres:
            shutil.chown(self.root, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = "
                       f"'{self.root}'\nfsync = off\nshared_buffers = 32MB\nmax_connections = 60\n")
        self.start()

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, name: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run([*self.as_postgres, str(self.bin / tool), *args], capture_output=True,
                              cwd=str(self.root))
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed: {done.stderr.decode(errors='replace')[-2000:]}")

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w", "-t", "30", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", "30", "stop")

    def create_database(self, name: str) -> str:
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        engine.dispose()
        engine = create_engine(self.url(name))
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
        engine.dispose()
        return self.url(name)

    def destroy(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", "30", "stop")
        except RuntimeError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)


# --- the platforms' own confirmations -------------------------------------------------------------------


class PlatformConfirmations:
    """What the real platforms tell about messages they accepted: WhatsApp's status webhooks (echoing our
    biz_opaque_callback_data) posted to the service, and Twilio's Messages list. Wraps the send routes of
    `fake` (after install_send_routes) to remember what landed; `server_url()` names the current web server."""

    def __init__(self, fake, server_url):
        import json as _json

        from fake_chat_platform import TW_SID, WA_PHONE_ID

        self.fake = fake
        self.server_url = server_url
        self.landed: list[tuple[str, dict, str]] = []
        self.wa_send = f"/v21.0/{WA_PHONE_ID}/messages"
        self.tw_send = f"/2010-04-01/Accounts/{TW_SID}/Messages.json"
        self.stop_event = threading.Event()
        self.receipted: set[str] = set()
        for path in (self.wa_send, self.tw_send):
            fake.routes[("POST", path)] = self._remembering(path, fake.routes[("POST", path)])
        fake.routes[("GET", self.tw_send)] = lambda r: Response(_json.dumps({"messages": [
            {"sid": _json.loads(body)["sid"], "to": f["To"], "from": f["From"], "body": f.get("Body"),
             "status": "sent", "date_created": time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())}
            for p, f, body in list(self.landed) if p == self.tw_send and f["To"] == r.args.get("To")]}),
            content_type="application/json")
        self.thread = threading.Thread(target=self._receipts, daemon=True)
        self.thread.start()

    def _remembering(self, path, handler):
        def handle(request):
            answer = handler(request)
            if 200 <= answer.status_code < 300:
                fields = json.loads(request.get_data()) if path == self.wa_send else dict(request.form)
                self.landed.append((path, fields, answer.get_data(as_text=True)))
            return answer
        return handle

    def _receipts(self):
        from fake_chat_platform import WA_PHONE_ID, WA_SECRET

        from meldingen.channels import whatsapp

        while not self.stop_event.wait(0.2):
            for path, fields, body in list(self.landed):
                reference = fields.get("biz_opaque_callback_data")
                if path != self.wa_send or not reference or reference in self.receipted or "messages" not in body:
                    continue
                wamid = json.loads(body)["messages"][0]["id"]
                raw = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "W", "changes": [{
                    "field": "messages", "value": {"messaging_product": "whatsapp", "metadata": {
                        "display_phone_number": "31970", "phone_number_id": WA_PHONE_ID}, "statuses": [{
                            "id": wamid, "status": "sent", "timestamp": str(int(time.time())),
                            "recipient_id": fields["to"], "biz_opaque_callback_data": reference}]}}]}]}).encode()
                try:
                    response = httpx.post(f"{self.server_url()}/webhooks/whatsapp", content=raw, timeout=5, headers={
                        "Content-Type": "application/json", whatsapp.SIGNATURE_HEADER: whatsapp.sign(WA_SECRET, raw)})
                except httpx.TransportError:
                    continue  # the server is away: Meta delivers again later
                if response.status_code == 200:
                    self.receipted.add(reference)

    def stop(self):
        self.stop_event.set()
        self.thread.join(5)
