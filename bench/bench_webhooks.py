"""Benchmark of webhook acknowledgement: signed WhatsApp text messages posted to /webhooks/whatsapp (verify,
parse, store the raw event under its unique key, commit, answer; the work runs after, in the background) next
to a bare Flask endpoint that only answers 200, both served by the same waitress process in the same run. The
load comes from this process over loopback; the server is a subprocess on the embedded SQLite/SpatiaLite
database (or MELDINGEN_BENCH_DATABASE_URL). Writes docs/perf/webhooks.md.

    .venv/bin/python bench/bench_webhooks.py [--rate 100] [--seconds 20] [--concurrency 16] [--out docs/perf/webhooks.md]

Two phases per endpoint: an open-loop phase at a fixed rate (requests are sent on schedule whether or not
earlier ones have answered; latency is measured from the scheduled send time, so queueing counts) and a
closed-loop throughput phase with `--concurrency` clients sending as fast as answers come back.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-app-secret"
PHONE_NUMBER_ID = "106540352242922"  # our WhatsApp number, as Meta names it in each notification

SERVER = textwrap.dedent("""
    import sys, logging
    from flask import Response
    from waitress import serve
    from meldingen import create_app
    from flask_migrate import upgrade

    app = create_app({"DATABASE_URL": sys.argv[2], "WHATSAPP_APP_SECRET": sys.argv[3],
                      "MEDIA_DIR": sys.argv[4], "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from meldingen.extensions import csrf

    def bench_bare():
        return Response("", status=200)

    csrf.exempt(bench_bare)
    app.add_url_rule("/bench/bare", "bench_bare", bench_bare, methods=["POST"])
    print("ready", flush=True)
    serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=int(sys.argv[5]), _quiet=True)
""")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def whatsapp_notification(**value) -> bytes:
    """A notification as Meta posts it, for our number, with `value`'s items (messages, contacts, statuses)."""
    return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID}, **value}}]}]}
    ).encode()


def whatsapp_body() -> bytes:
    """A text message as Meta sends it, with a fresh wamid so every request is a new event."""
    wamid = "wamid.BENCH" + uuid.uuid4().hex
    return whatsapp_notification(
        contacts=[{"profile": {"name": "Bench Bewoner"}, "wa_id": "31612345678"}],
        messages=[{"from": "31612345678", "id": wamid, "timestamp": str(int(time.time())), "type": "text",
                   "text": {"body": "Losse stoeptegel voor nummer 12, struikelgevaar"}}])


def whatsapp_status_body() -> bytes:
    """A delivery receipt as Meta sends it for a message we sent ("delivered" or "read"): most of a WhatsApp
    number's webhook traffic. It is applied to the outbox in the request itself; nothing is queued."""
    return whatsapp_notification(statuses=[{
        "id": "wamid.OUT" + uuid.uuid4().hex, "status": random.choice(("delivered", "read")),
        "timestamp": str(int(time.time())), "recipient_id": "31612345678"}])


def whatsapp_headers(body: bytes) -> dict:
    return {"Content-Type": "application/json",
            "X-Hub-Signature-256": "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()}


def request_for(base: str, target) -> tuple[str, bytes, dict]:
    """The next request, (url, body, headers), for `target`: "webhook" (a signed WhatsApp text), "bare" (the same
    to the bare endpoint), or a function of the base URL that makes one."""
    if callable(target):
        return target(base)
    body = whatsapp_body()
    return f"{base}/webhooks/whatsapp" if target == "webhook" else f"{base}/bench/bare", body, whatsapp_headers(body)


class Clients(threading.local):
    """One persistent HTTP/1.1 connection per load thread (stdlib: the load itself must cost little CPU)."""

    def post(self, url: str, body: bytes, headers: dict) -> int:
        parts = urlsplit(url)
        for attempt in (1, 2):
            if getattr(self, "conn", None) is None:
                self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            try:
                self.conn.request("POST", parts.path, body=body, headers=headers)
                response = self.conn.getresponse()
                response.read()
                return response.status
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    return 0
        return 0


def open_loop(base: str, target, rate: float, seconds: float, workers: int = 64, ok=(200,)) -> dict:
    clients = Clients()
    total = int(rate * seconds)
    latencies: list[float] = []
    errors = 0
    statuses: Counter = Counter()  # status code → requests (0: no answer)
    lock = threading.Lock()
    start = time.perf_counter() + 0.2

    def send(i: int) -> None:
        nonlocal errors
        scheduled = start + i / rate
        url, body, headers = request_for(base, target)
        delay = scheduled - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        status = clients.post(url, body, headers)
        elapsed = (time.perf_counter() - scheduled) * 1000
        with lock:
            latencies.append(elapsed)
            statuses[status] += 1
            if status not in ok:
                errors += 1

    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        list(pool.map(send, range(total)))
    finally:  # on Ctrl-C, the sends not yet begun are dropped
        pool.shutdown(wait=True, cancel_futures=True)
    elapsed = time.perf_counter() - start
    return {"n": total, "errors": errors, "rps": (total - errors) / elapsed, "p50": percentile(latencies, 50),
            "p90": percentile(latencies, 90), "p99": percentile(latencies, 99), "max": max(latencies),
            "statuses": dict(statuses)}


def closed_loop(base: str, target, concurrency: int, seconds: float, ok=(200,)) -> dict:
    """`concurrency` clients, each sending its next request when the answer to its last has come; req/s counts
    the requests answered with a status in `ok`."""
    clients = Clients()
    stop_at = time.perf_counter() + seconds
    counts, errors, latencies = [0], [0], []
    statuses: Counter = Counter()
    lock = threading.Lock()

    def worker() -> None:
        while time.perf_counter() < stop_at:
            url, body, headers = request_for(base, target)
            began = time.perf_counter()
            status = clients.post(url, body, headers)
            with lock:
                counts[0] += 1
                latencies.append((time.perf_counter() - began) * 1000)
                statuses[status] += 1
                errors[0] += 0 if status in ok else 1

    began = time.perf_counter()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    elapsed = time.perf_counter() - began
    return {"n": counts[0], "errors": errors[0], "rps": (counts[0] - errors[0]) / elapsed,
            "p50": percentile(latencies, 50), "p99": percentile(latencies, 99), "statuses": dict(statuses)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--threads", type=int, default=8, help="waitress threads")
    parser.add_argument("--out", default=str(ROOT / "docs" / "perf" / "webhooks.md"))
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="meldingen-bench-"))
    database_url = os.environ.get("MELDINGEN_BENCH_DATABASE_URL") or f"sqlite:///{work / 'bench.sqlite'}"
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port), database_url, SECRET, str(work / "media"), str(args.threads)],
        cwd=work, env=env, stdout=subprocess.PIPE, text=True,
    )
    try:
        if server.stdout.readline().strip() != "ready":
            raise SystemExit("server did not start")
        base = f"http://127.0.0.1:{port}"
        for target in ("bare", "webhook"):  # warm up connections, imports and the SQLite page cache
            open_loop(base, target, 50, 1)
        results = {}
        for target in ("bare", "webhook"):
            results[target] = open_loop(base, target, args.rate, args.seconds)
            print(target, "open loop", results[target], file=sys.stderr)
        for target in ("bare", "webhook"):
            results[target + "_tp"] = closed_loop(base, target, args.concurrency, min(args.seconds, 10))
            print(target, "throughput", results[target + "_tp"], file=sys.stderr)
        stored = count_events(database_url)
    finally:
        server.terminate()
        server.wait(10)
    write_report(Path(args.out), args, results, stored, database_url)


def count_events(database_url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM inbound_events")).scalar()


def write_report(path: Path, args, results: dict, stored: int, database_url: str) -> None:
    bare, hook = results["bare"], results["webhook"]
    bare_tp, hook_tp = results["bare_tp"], results["webhook_tp"]
    backend = "PostgreSQL/PostGIS" if database_url.startswith("postgres") else "SQLite/SpatiaLite (embedded)"
    target_met = "met" if hook["p99"] < 50 and hook["errors"] == 0 else "NOT met"
    lines = [
        "# Webhook acknowledgement latency and throughput",
        "",
        f"Measured {date.today().isoformat()} on {platform.machine()} / {platform.system()} "
        f"({os.cpu_count()} CPUs), Python {platform.python_version()}, waitress with {args.threads} threads, "
        f"database {backend}. Load from a separate process over loopback.",
        "",
        "Each webhook request is a WhatsApp text message with a fresh wamid, signed with X-Hub-Signature-256: the "
        "endpoint verifies the signature and parses; on SQLite (the embedded default) it writes the delivery to the "
        "inbox spool and answers 200, and the background process stores it as a raw event (unique key, ON "
        "CONFLICT DO NOTHING) and processes it; on PostgreSQL it inserts and commits the event itself. The bare "
        "endpoint is a Flask view on the same server that answers 200 and does nothing.",
        "",
        f"## Open loop at {args.rate:.0f} req/s for {args.seconds:.0f} s (latency from the scheduled send time)",
        "",
        "| endpoint | requests | errors | p50 ms | p90 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| bare Flask | {bare['n']} | {bare['errors']} | {bare['p50']:.1f} | {bare['p90']:.1f} | {bare['p99']:.1f} "
        f"| {bare['max']:.1f} |",
        f"| /webhooks/whatsapp | {hook['n']} | {hook['errors']} | {hook['p50']:.1f} | {hook['p90']:.1f} "
        f"| {hook['p99']:.1f} | {hook['max']:.1f} |",
        "",
        f"Ratio webhook / bare: p50 {hook['p50'] / bare['p50']:.1f}×, p99 {hook['p99'] / bare['p99']:.1f}×. "
        f"Target p99 < 50 ms at 100 req/s: **{target_met}** (at {args.rate:.0f} req/s).",
        "",
        f"## Closed loop, {args.concurrency} concurrent clients",
        "",
        "| endpoint | requests | errors | req/s | p50 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|",
        f"| bare Flask | {bare_tp['n']} | {bare_tp['errors']} | {bare_tp['rps']:.0f} | {bare_tp['p50']:.1f} "
        f"| {bare_tp['p99']:.1f} |",
        f"| /webhooks/whatsapp | {hook_tp['n']} | {hook_tp['errors']} | {hook_tp['rps']:.0f} | {hook_tp['p50']:.1f} "
        f"| {hook_tp['p99']:.1f} |",
        "",
        f"Events stored: {stored} (every webhook request of the run, warm-up included, is one event).",
        "",
        "Reproduce: `make bench`, or `.venv/bin/python bench/bench_webhooks.py --rate 100 --seconds 20`.",
        "",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
