"""The service as an operator runs it, for the benches that load it from outside (scale, creates, soak).

- `start_scaled`: gunicorn with deploy/gunicorn.conf.py on PostGIS, `meldingen worker` pools on Redis, the scheduler.
- `start_embedded`: what `make run` serves: waitress with 8 threads on SQLite/SpatiaLite, background work in threads.

Each started command is a process group and session of its own, so `Layout.stop` ends it with all it started
(gunicorn workers, worker pools), and `Layout.processes_now` reads what every process of the layout costs from /proc
(CPU seconds, resident memory). Around them: a fresh database with the sample data (`prepare_database`), API
tokens (`issue_tokens`), and the Telegram and WhatsApp APIs faked on loopback (`start_fake`): nothing leaves the
machine.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
for _path in (str(ROOT), str(ROOT / "tests")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from fake_chat_platform import TG_SECRET, TG_TOKEN, install_send_routes  # noqa: E402
from fake_platforms import start_fake_platform  # noqa: E402
from werkzeug.wrappers import Response  # noqa: E402

from bench.bench_webhooks import PHONE_NUMBER_ID, SECRET, free_port  # noqa: E402

MELDINGEN = [sys.executable, "-c", "from meldingen.console import main; main()"]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
BENCH_STAFF = "bench@gm0363.test"


def pg_admin_url() -> str:
    return os.environ.get("MELDINGEN_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def redis_url() -> str:
    """The Redis database the scaled layout uses; it is emptied before and after each run (`emptied_redis`)."""
    return os.environ.get("MELDINGEN_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


@contextmanager
def emptied_redis(url: str):
    """The Redis database at `url`, empty, and emptied again when the run ends, however it ends."""
    from redis import Redis

    connection = Redis.from_url(url)
    connection.flushdb()
    try:
        yield url
    finally:
        connection.flushdb()
        connection.close()


def stop_cleanly_on_sigterm() -> None:
    """SIGTERM (a supervisor, `kill`) unwinds like Ctrl-C, so every `finally` stops its processes and drops its
    database; a second SIGTERM does not interrupt that cleaning up."""
    def interrupt(*_args):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


class HttpClient:
    """The Flask test client's `post`, over real HTTP, recording each acknowledgement's latency."""

    def __init__(self, base_url: str, acks: list):
        self.http = httpx.Client(base_url=base_url, timeout=30)
        self.acks = acks

    def post(self, path, data=None, content_type=None, headers=None, json=None):
        headers = {**(headers or {}), **({"Content-Type": content_type} if content_type else {})}
        began = time.perf_counter()
        response = self.http.post(path, content=data, headers=headers)
        self.acks.append((time.perf_counter() - began) * 1000)
        response.data = response.content
        return response


@dataclass
class ProcessSample:
    pid: int
    label: str  # the started command it belongs to: "web", "intake", …, "scheduler"
    role: str
    cpu_seconds: float  # user + system, its own and that of its children it has waited for
    rss_bytes: int


class Layout:
    def __init__(self, name: str, env: dict, base_url: str, log_dir: Path):
        self.name, self.env, self.base_url, self.log_dir = name, env, base_url, log_dir
        self.processes: list[subprocess.Popen] = []
        self.labels: dict[int, str] = {}  # session (= the started process's pid) → label

    def start(self, args: list[str], label: str) -> None:
        with (self.log_dir / f"{self.name}-{label}.log").open("wb") as log:
            process = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        self.processes.append(process)
        self.labels[process.pid] = label

    def wait_ready(self, path: str = "/readyz", timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base_url + path, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if any(p.poll() is not None for p in self.processes):
                raise SystemExit(f"{self.name}: a process ended early; see {self.log_dir}")
            time.sleep(0.3)
        raise SystemExit(f"{self.name}: not ready within {timeout} s; see {self.log_dir}")

    def stop(self) -> None:
        """SIGTERM to every group (each finishes what it is doing), SIGKILL after 30 s; then nothing the layout
        started is left, not even a process whose parent ended first."""
        for process in self.processes:
            _signal_group(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, signal.SIGKILL)
                process.wait(10)
        deadline = time.monotonic() + 5
        while any(_signal_group(p.pid, 0) for p in self.processes) and time.monotonic() < deadline:
            time.sleep(0.1)
        for process in self.processes:
            _signal_group(process.pid, signal.SIGKILL)

    def processes_now(self) -> list[ProcessSample]:
        """Every process of the layout (each started command and all it started: gunicorn workers, worker pool
        processes, their resource trackers), named by role: "web", "web worker", "intake", "intake worker", …

        CPU includes the children a process has waited for, so a sum over the layout taken before and after a run
        also counts processes that ended in between (a gunicorn worker replaced after max_requests)."""
        samples = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:  # ended meanwhile
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            label = self.labels.get(int(fields[3]))  # fields[3]: the session id
            if label is None:
                continue
            pid = int(entry)
            role = (label if pid == int(fields[3]) else f"{label} resource tracker"
                    if b"resource_tracker" in cmdline else f"{label} worker")
            cpu = sum(int(value) for value in fields[11:15]) / CLOCK_TICKS  # utime stime cutime cstime
            samples.append(ProcessSample(pid, label, role, cpu, int(fields[21]) * PAGE_SIZE))
        return samples

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds used so far, per started command ("web", "intake", …)."""
        used = dict.fromkeys(self.labels.values(), 0.0)
        for sample in self.processes_now():
            used[sample.label] += sample.cpu_seconds
        return used


LOG_LEVEL = re.compile(r"\b(WARNING|ERROR|CRITICAL)\b")


def log_problems(layout: Layout) -> Counter:
    """What the layout's processes logged at WARNING and above, and the exceptions of their tracebacks: (process,
    level, message with its numbers as #) → how often. Read before the log directory is removed."""
    found: Counter = Counter()
    for path in sorted(layout.log_dir.glob(f"{layout.name}-*.log")):
        process, in_traceback = path.stem.removeprefix(f"{layout.name}-"), False
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("Traceback"):
                in_traceback = True
            elif in_traceback:
                if line.strip() and not line[0].isspace() and not line.startswith(("During handling", "The above")):
                    found[(process, "exception", re.sub(r"\d+", "#", line)[:300])] += 1
                    in_traceback = False
            elif match := LOG_LEVEL.search(line):
                message = re.sub(r"\d+", "#", line[match.end():].strip(" :]"))[:300]
                found[(process, match.group(1), message)] += 1
    return found


def problems_table(problems: Counter, most: int = 15) -> list[str]:
    """`log_problems` as the lines of a Markdown table, the most frequent first."""
    if not problems:
        return ["Nothing."]
    lines = ["| process | level | message (numbers as #) | times |", "|---|---|---|---:|"]
    shown = problems.most_common(most)
    for (process, level, message), count in shown:
        lines.append(f"| {process} | {level} | {message.replace('|', '/')} | {count} |")
    if len(problems) > most:
        rest = sum(problems.values()) - sum(count for _, count in shown)
        lines.append(f"| … | | {len(problems) - most} other messages | {rest} |")
    return lines


def _signal_group(group: int, signum: int) -> bool:
    """Signal a process group; False when no process is left in it."""
    try:
        os.killpg(group, signum)
        return True
    except ProcessLookupError:
        return False


def prepare_database(env: dict) -> None:
    for args in (["db", "upgrade"], ["load-sample-data"]):
        subprocess.run([*MELDINGEN, *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    # The classifier model every process loads, trained once here.
    subprocess.run([sys.executable, "-c", "from meldingen import create_app\n"
                    "from meldingen.classify.services import get_classifier\n"
                    "app = create_app()\nwith app.app_context(): get_classifier()"],
                   cwd=ROOT, env=env, check=True)


ISSUE_TOKENS = """
import sys
from meldingen import create_app
from meldingen.staff.services import create_staff, issue_token
with create_app().app_context():
    create_staff(sys.argv[1], "agent", "GM0363", None, "bench-password", name="bench")
    for index in range(int(sys.argv[2])):
        print("TOKEN", issue_token(sys.argv[1], name=f"bench client {index}"), flush=True)
"""


def issue_tokens(env: dict, count: int) -> list[str]:
    """`count` API tokens of one new agent of Amsterdam (GM0363): the system that creates reports."""
    done = subprocess.run([sys.executable, "-c", ISSUE_TOKENS, BENCH_STAFF, str(count)], cwd=ROOT, env=env,
                          check=True, capture_output=True, text=True)
    tokens = [line.split(" ", 1)[1] for line in done.stdout.splitlines() if line.startswith("TOKEN ")]
    if len(tokens) != count:
        raise SystemExit(f"could not issue {count} API tokens: {done.stderr[-2000:]}")
    return tokens


def base_env(tmp: Path, fake_url: str, quiet: float) -> dict:
    return {**os.environ, "MELDINGEN_SECRET_KEY": "bench", "MELDINGEN_MEDIA_DIR": str(tmp / "media"),
            "MELDINGEN_CLASSIFIER_MODEL_PATH": str(tmp / "model.joblib"), "MELDINGEN_GEOCODER_URL": "off",
            "MELDINGEN_INTAKE_QUIET_SECONDS": str(int(quiet)), "MELDINGEN_TELEGRAM_BOT_TOKEN": TG_TOKEN,
            "MELDINGEN_TELEGRAM_SECRET_TOKEN": TG_SECRET, "MELDINGEN_TELEGRAM_API_URL": fake_url,
            "MELDINGEN_NOTIFY_PACING_SECONDS": json.dumps({"telegram": 0, "whatsapp": 0}),
            # WhatsApp's Graph API is the fake too: replies and read receipts never leave loopback.
            "MELDINGEN_WHATSAPP_APP_SECRET": SECRET, "MELDINGEN_WHATSAPP_ACCESS_TOKEN": "bench",
            "MELDINGEN_WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID, "MELDINGEN_WHATSAPP_GRAPH_URL": f"{fake_url}/v21.0",
            # A few API tokens carry the whole load of the benches: the per-token abuse limit (600 a minute by
            # default) would measure itself, not the pipeline.
            "MELDINGEN_LIMIT_API": "1000000 per minute"}


def start_scaled(tmp: Path, env: dict) -> Layout:
    port = free_port()
    layout = Layout("scaled", {**env, "MELDINGEN_BIND": f"127.0.0.1:{port}", "MELDINGEN_WEB_WORKERS": "2",
                               "MELDINGEN_ACCESS_LOG": "/dev/null"}, f"http://127.0.0.1:{port}", tmp)
    try:
        layout.start([sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "bench.bare_wsgi:app"],
                     "web")
        layout.start([*MELDINGEN, "worker", "--queues", "intake", "--processes", "2", "--no-scheduler"], "intake")
        layout.start([*MELDINGEN, "worker", "--queues", "replies", "--processes", "2", "--no-scheduler"], "replies")
        layout.start([*MELDINGEN, "worker", "--queues", "inbound", "--processes", "2", "--no-scheduler"], "inbound")
        layout.start([*MELDINGEN, "worker", "--queues", "sweeps", "--no-scheduler"], "sweeps")
        layout.start([*MELDINGEN, "scheduler"], "scheduler")
        layout.wait_ready()
        from redis import Redis
        from rq import Worker

        deadline = time.monotonic() + 120
        while len(Worker.all(connection=Redis.from_url(env["MELDINGEN_BROKER_URL"]))) < 7:
            if time.monotonic() > deadline:
                raise SystemExit("scaled: worker processes did not register")
            time.sleep(0.3)
    except BaseException:  # half a layout is stopped here: the caller only stops what it was given
        layout.stop()
        raise
    return layout


def start_embedded(tmp: Path, env: dict) -> Layout:
    port = free_port()
    layout = Layout("embedded", env, f"http://127.0.0.1:{port}", tmp)
    try:
        layout.start([sys.executable, "-m", "waitress", "--host", "127.0.0.1", "--port", str(port), "--threads", "8",
                      "bench.bare_wsgi:app"], "web")
        layout.wait_ready("/healthz")
    except BaseException:
        layout.stop()
        raise
    return layout


def random_amsterdam_point() -> tuple[float, float]:
    """(lat, lon) somewhere in Amsterdam, which the sample data covers with areas, addresses and routing rules."""
    return round(52.34 + random.random() * 0.06, 6), round(4.85 + random.random() * 0.08, 6)


def wait_for_queues(broker: str, timeout: float = 30) -> bool:
    """Until no job waits or runs on any queue (delayed jobs aside); False when that did not happen in time."""
    from redis import Redis

    from meldingen.jobs.backends import queue_stats

    connection = Redis.from_url(broker)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if all(q["queued"] == 0 and q["running"] == 0 for q in queue_stats(connection).values()):
                return True
            time.sleep(0.2)
        return False
    finally:
        connection.close()


def start_fake():
    """Telegram's and WhatsApp's send APIs on loopback. Telegram sends are kept in `fake.sends` as (chat, monotonic
    time, text); a chat in `fake.hanging` never gets an answer until `release` is set."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request the service makes
    fake, stop = start_fake_platform()
    install_send_routes(fake)
    fake.hanging, fake.sends = set(), []
    release = threading.Event()

    def send_message(request):
        body = json.loads(request.get_data())
        fake.sends.append((str(body["chat_id"]), time.monotonic(), body["text"]))
        if str(body["chat_id"]) in fake.hanging:
            release.wait(60)
        return Response(json.dumps({"ok": True, "result": {"message_id": len(fake.sends)}}),
                        content_type="application/json")

    def whatsapp_send(_request):
        return Response(json.dumps({"messaging_product": "whatsapp",
                                    "messages": [{"id": f"wamid.OUT{time.monotonic_ns()}"}]}),
                        content_type="application/json")

    fake.routes[("POST", f"/bot{TG_TOKEN}/sendMessage")] = send_message
    fake.routes[("POST", f"/v21.0/{PHONE_NUMBER_ID}/messages")] = whatsapp_send
    return fake, release, stop
