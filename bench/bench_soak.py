"""Soak of the scaled layout (issue 16): `--minutes` of steady mixed load, sampling what must stay flat.

The scaled layout is started as an operator starts it (bench/layouts.py: gunicorn 2 processes × 4 threads on
PostGIS, worker pools intake ×2, replies ×2, inbound ×2, sweeps ×1 on Redis, one scheduler). Three open-loop
streams run side by side for the whole run, each sent on schedule whatever the service does:

- conversations (`--conversations` per second): residents on Telegram (Bot API faked on loopback) send a text and
  then their location through the webhook; measured: each webhook's acknowledgement, and the time from the
  resident's last message to the reply with the reference, beyond the quiet period;
- API creates (`--creates` per second): `POST /api/v1/reports` as in bench_creates.py, latency from the scheduled
  send;
- webhook acknowledgements (`--acks` per second): signed WhatsApp delivery receipts, most of a WhatsApp number's
  webhook traffic (stored and applied in the request; nothing queued), latency from the scheduled send.

Every `--sample-seconds`: the resident memory (RSS) of every process of the layout by role, the connections of the
bench database in pg_stat_activity, Redis memory (the instance's used_memory, and the bench database's own keys),
the queues, the CPU used. The report compares the first and the last `--window-minutes` (after `--warmup-minutes`)
and fits a slope, for memory, connections and latency, and lists throughput and latency over time.

    .venv/bin/python bench/bench_soak.py [--minutes 30] [--sample-seconds 30] [--conversations 2] [--creates 5]
        [--acks 20] [--out docs/perf/soak.md]

PostGIS: MELDINGEN_BENCH_PG_URL (admin URL; a database is made and dropped); Redis: MELDINGEN_BENCH_REDIS_URL
(default redis://127.0.0.1:6379/14, emptied before and after).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fake_chat_platform import TelegramResident  # noqa: E402

from bench.bench_creates import PROBLEMS, create_request  # noqa: E402
from bench.bench_webhooks import Clients, percentile, whatsapp_headers, whatsapp_status_body  # noqa: E402
from bench.common import page_head, postgres_database, write_page  # noqa: E402
from bench.layouts import (  # noqa: E402
    HttpClient,
    Layout,
    base_env,
    emptied_redis,
    issue_tokens,
    log_problems,
    pg_admin_url,
    prepare_database,
    problems_table,
    random_amsterdam_point,
    redis_url,
    start_fake,
    start_scaled,
    stop_cleanly_on_sigterm,
)

QUIET_SECONDS = 2
REFERENCE = re.compile(r"\bM-?[0-9A-Z-]{4,}")  # the report's reference in the reply, as tests/test_scaled_layout
FLAT_WITHIN = 0.10  # the last window's mean may exceed the first's by this much and still count as flat
STREAMS = ("conversation", "telegram ack", "create", "whatsapp ack")


class Recorder:
    """Outcomes of the load, each stamped with when it was due: (monotonic time, stream, latency ms, ok)."""

    def __init__(self):
        self.events: list[tuple[float, str, float, bool]] = []
        self.replies: list[tuple[float, float]] = []  # (last message at, ms beyond the quiet period)
        self.pending: dict[str, float] = {}  # Telegram chat → when the resident's last message was answered

    def add(self, at: float, stream: str, latency_ms: float, ok: bool) -> None:
        self.events.append((at, stream, latency_ms, ok))


class TelegramAcks:
    """Where HttpClient puts each webhook's acknowledgement time: into the recorder, stamped."""

    def __init__(self, recorder: Recorder):
        self.recorder = recorder

    def append(self, latency_ms: float) -> None:
        self.recorder.add(time.monotonic(), "telegram ack", latency_ms, True)


def stream(name: str, rate: float, send, pool: ThreadPoolExecutor, recorder: Recorder, start: float, end: float,
           stop: threading.Event) -> None:
    """Open loop: the i-th request is due at start + i / rate and is sent then, whether or not earlier ones have
    been answered; its latency counts from when it was due."""
    def one(due: float) -> None:
        try:
            ok = send()
        except Exception:
            ok = False
        recorder.add(due, name, (time.monotonic() - due) * 1000, ok)

    index = 0
    while not stop.is_set():
        due = start + index / rate
        if due >= end:
            return
        if stop.wait(max(0.0, due - time.monotonic())):
            return
        try:
            pool.submit(one, due)
        except RuntimeError:  # the pool was shut down: the run is over
            return
        index += 1


def match_replies(fake, recorder: Recorder, stop: threading.Event) -> None:
    """Find the reply with the reference for each resident whose last message went in."""
    seen = 0
    while not stop.wait(0.1):
        sends = fake.sends
        while seen < len(sends):
            chat, at, text = sends[seen]
            seen += 1
            last = recorder.pending.get(chat)
            if last is not None and at >= last and REFERENCE.search(text):
                del recorder.pending[chat]
                recorder.replies.append((last, (at - last - QUIET_SECONDS) * 1000))


def sample(layout: Layout, admin_engine, database: str, redis) -> dict:
    """What must stay flat, now."""
    from sqlalchemy import text

    from meldingen.jobs.backends import queue_stats

    rss: dict[str, int] = defaultdict(int)
    pids: dict[str, set] = defaultdict(set)
    cpu = 0.0
    for process in layout.processes_now():
        rss[process.role] += process.rss_bytes
        pids[process.role].add(process.pid)
        cpu += process.cpu_seconds
    with admin_engine.connect() as conn:
        connections = dict(conn.execute(text(
            "SELECT coalesce(state, 'none'), count(*) FROM pg_stat_activity WHERE datname = :name GROUP BY 1"),
            {"name": database}).all())
    keys, key_bytes = 0, 0
    for batch in _batches(redis.scan_iter(count=1000), 1000):
        pipe = redis.pipeline(transaction=False)
        for key in batch:
            pipe.memory_usage(key)
        key_bytes += sum(size or 0 for size in pipe.execute())
        keys += len(batch)
    queues = queue_stats(redis)
    return {"at": time.monotonic(), "rss": dict(rss), "pids": dict(pids), "cpu": cpu, "pg": connections,
            "redis_used": redis.info("memory")["used_memory"], "redis_keys": keys, "redis_key_bytes": key_bytes,
            "queued": sum(q["queued"] for q in queues.values()), "delayed": sum(q["delayed"] for q in queues.values()),
            "failed": sum(q["failed"] for q in queues.values())}


def _batches(items, size: int):
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def run_soak(layout: Layout, fake, tokens: list[str], database: str, broker: str, args) -> dict:
    from redis import Redis
    from sqlalchemy import create_engine

    recorder, stop = Recorder(), threading.Event()
    admin_engine = create_engine(pg_admin_url(), pool_size=1)
    redis = Redis.from_url(broker)
    http = HttpClient(layout.base_url, TelegramAcks(recorder))
    clients = Clients()
    create = create_request(tokens)

    def converse() -> bool:
        user = str(random.randint(10**8, 10**9))
        resident = TelegramResident(http, fake, user)
        resident.send_text(random.choice(PROBLEMS))
        resident.send_location(*random_amsterdam_point())
        recorder.pending[user] = time.monotonic()
        return True

    def post_create() -> bool:
        return clients.post(*create(layout.base_url)) == 201

    def post_receipt() -> bool:
        body = whatsapp_status_body()
        return clients.post(f"{layout.base_url}/webhooks/whatsapp", body, whatsapp_headers(body)) == 200

    samples: list[dict] = []
    start = time.monotonic() + 1
    end = start + args.minutes * 60
    pool = ThreadPoolExecutor(max_workers=64)
    threads = [threading.Thread(target=stream, daemon=True, args=(name, rate, send, pool, recorder, start, end, stop))
               for name, rate, send in (("conversation", args.conversations, converse),
                                        ("create", args.creates, post_create),
                                        ("whatsapp ack", args.acks, post_receipt)) if rate > 0]
    threads.append(threading.Thread(target=match_replies, args=(fake, recorder, stop), daemon=True))
    try:
        samples.append(sample(layout, admin_engine, database, redis))
        [t.start() for t in threads]
        next_sample = start + args.sample_seconds
        while next_sample <= end + 0.01:
            time.sleep(max(0.0, next_sample - time.monotonic()))
            samples.append(sample(layout, admin_engine, database, redis))
            fake.seen.clear()  # the fake keeps every request; this bench needs only the Telegram sends
            last = samples[-1]
            print(f"{(last['at'] - start) / 60:5.1f} min: RSS {sum(last['rss'].values()) / 2**20:.0f} MB, "
                  f"PG {sum(last['pg'].values())} connections, Redis {last['redis_used'] / 2**20:.1f} MB "
                  f"({last['redis_keys']} keys), queued {last['queued']}, failed {last['failed']}", flush=True)
            next_sample += args.sample_seconds
        pool.shutdown(wait=True)  # the requests due before the end, answered
        deadline = time.monotonic() + QUIET_SECONDS + 30  # the last residents' replies
        while recorder.pending and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)  # on Ctrl-C: what was not sent yet is dropped
        http.http.close()
        admin_engine.dispose()
        redis.close()
    return {"start": start, "samples": samples, "events": recorder.events, "replies": recorder.replies,
            "unanswered": len(recorder.pending)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--sample-seconds", type=float, default=30.0)
    parser.add_argument("--conversations", type=float, default=2.0, help="Telegram conversations started per second")
    parser.add_argument("--creates", type=float, default=5.0, help="API creates per second")
    parser.add_argument("--acks", type=float, default=20.0, help="WhatsApp delivery receipts per second")
    parser.add_argument("--window-minutes", type=float, default=5.0, help="first and last windows compared")
    parser.add_argument("--warmup-minutes", type=float, default=1.0, help="left out of the first window")
    parser.add_argument("--out", default=str(ROOT / "docs" / "perf" / "soak.md"))
    args = parser.parse_args()
    stop_cleanly_on_sigterm()
    load_before = os.getloadavg()
    # Whatever happens (Ctrl-C, SIGTERM, a failure), the exit stack undoes what was made, last first.
    with tempfile.TemporaryDirectory(prefix="meldingen-bench-soak-") as tmp_name, ExitStack() as cleanup:
        tmp = Path(tmp_name)
        fake, _release, stop_fake = start_fake()
        cleanup.callback(stop_fake)
        pg_url, drop = postgres_database(pg_admin_url(), prefix="meldingen_bench_soak")
        cleanup.callback(drop)
        broker = cleanup.enter_context(emptied_redis(redis_url()))
        env = {**base_env(tmp, fake.url, QUIET_SECONDS), "MELDINGEN_DATABASE_URL": pg_url,
               "MELDINGEN_BROKER_URL": broker}
        print("scaled: preparing the database and the classifier", flush=True)
        prepare_database(env)
        tokens = issue_tokens(env, 4)
        layout = start_scaled(tmp, env)
        try:
            print(f"soak: {args.minutes:g} min", flush=True)
            result = run_soak(layout, fake, tokens, make_url(pg_url).database, broker, args)
        finally:
            layout.stop()
        result["log"] = log_problems(layout)
    write_report(Path(args.out), args, result, (load_before, os.getloadavg()))


# --- the report ------------------------------------------------------------------------------------------------

def slope_per_hour(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) points, per hour."""
    if len(points) < 2:
        return float("nan")
    mean_t = sum(t for t, _ in points) / len(points)
    mean_v = sum(v for _, v in points) / len(points)
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    return float("nan") if spread == 0 else sum((t - mean_t) * (v - mean_v) for t, v in points) / spread * 3600


def flatness(points: list[tuple[float, float]], first: tuple[float, float], last: tuple[float, float]) -> dict:
    """The means of the first and the last window and the change between them; the slope after the warm-up and
    over the second half; and the verdict: flat, levelled off (it rose early, but not in the second half), or grows.
    A window is (after, up to and including) seconds into the run."""
    def mean(window):
        values = [v for t, v in points if window[0] < t <= window[1]]
        return sum(values) / len(values) if values else float("nan")

    a, b = mean(first), mean(last)
    change = (b - a) / a if a else (0.0 if b == a else float("inf"))
    half = last[1] / 2
    late_slope = slope_per_hour([p for p in points if p[0] >= half])
    late_growth = late_slope * half / 3600 / b if b else 0.0
    if a != a or b != b:
        verdict = "too few samples"
    elif change <= FLAT_WITHIN:
        verdict = "flat"
    elif late_growth <= FLAT_WITHIN:
        verdict = f"levelled off (rose {change:+.0%} early)"
    else:
        verdict = f"**grows {change:+.0%}**"
    return {"first": a, "last": b, "change": change, "verdict": verdict, "late_slope": late_slope,
            "slope": slope_per_hour([p for p in points if p[0] > first[0]])}


def latency_series(events, stream_name: str, buckets: list[tuple[float, float]], start: float) -> list:
    """Per bucket: (its middle, in seconds into the run; count; errors; p50; p99)."""
    out = []
    for lo, hi in buckets:
        chosen = [(ms, ok) for at, name, ms, ok in events if name == stream_name and lo <= at < hi]
        values = [ms for ms, ok in chosen if ok]
        out.append(((lo + hi) / 2 - start, len(chosen), sum(1 for _, ok in chosen if not ok),
                    percentile(values, 50) if values else float("nan"),
                    percentile(values, 99) if values else float("nan")))
    return out


def write_report(path: Path, args, result: dict, load_average: tuple) -> None:
    start, samples = result["start"], result["samples"]
    duration = args.minutes * 60
    window = min(args.window_minutes * 60, duration / 3)
    warmup = min(args.warmup_minutes * 60, duration / 6)
    first, last = (warmup, warmup + window), (duration - window, duration + 1)
    buckets = [(samples[i - 1]["at"], samples[i]["at"]) for i in range(1, len(samples))]
    command = (f".venv/bin/python bench/bench_soak.py --minutes {args.minutes:g} --sample-seconds "
               f"{args.sample_seconds:g} --conversations {args.conversations:g} --creates {args.creates:g} "
               f"--acks {args.acks:g}")
    lines = page_head("Soak: steady mixed load on the scaled layout", command, load_average,
                      f"{args.minutes:g} min" if args.minutes < 10 else None)
    lines += [
        "Method: the scaled layout as an operator runs it (gunicorn with deploy/gunicorn.conf.py, 2 processes × 4 "
        "threads, on PostGIS; worker pools intake ×2, replies ×2, inbound ×2, sweeps ×1 on Redis; one scheduler), "
        f"for {args.minutes:g} min under three open-loop streams at once: {args.conversations:g} Telegram "
        "conversations/s (a text, then a location, through the webhook; Bot API faked on loopback), "
        f"{args.creates:g} API creates/s (`POST /api/v1/reports`, random points over Amsterdam, 4 tokens), "
        f"{args.acks:g} WhatsApp delivery receipts/s (signed webhooks, applied in the request). Sampled every "
        f"{args.sample_seconds:g} s: RSS of every process of the layout by role, the bench database's connections "
        "in pg_stat_activity, Redis used_memory (the whole instance: other databases on it count too) and the "
        "memory of the bench database's own keys (MEMORY USAGE, summed), the queues. *Flat*: the mean of the last "
        f"{window / 60:.3g} min at most {FLAT_WITHIN:.0%} above that of the first {window / 60:.3g} min after "
        f"{warmup / 60:.3g} min of warm-up; *levelled off*: more than that, but the second half's slope adds at "
        f"most {FLAT_WITHIN:.0%} over the second half (RQ keeps a finished job for 500 s, so Redis rises for the "
        "first minutes by design); slopes are least-squares fits over the samples after the warm-up, and over the "
        "second half. "
        "Gunicorn replaces a web process after about 10 000 requests (max_requests in deploy/gunicorn.conf.py), "
        "which resets its memory: the web workers' pids are counted below.",
        "",
        "### Does it stay flat?",
        "",
        "| measure | first window | last window | change | slope per hour | second half: slope per hour | verdict |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]

    def row(label: str, points: list[tuple[float, float]], unit: str, scale: float = 1.0, digits: int = 1) -> None:
        f = flatness([(t, v / scale) for t, v in points], first, last)
        lines.append(f"| {label} | {f['first']:.{digits}f} {unit} | {f['last']:.{digits}f} {unit} | "
                     f"{f['change']:+.1%} | {f['slope']:+.{digits}f} {unit} | {f['late_slope']:+.{digits}f} {unit} | "
                     f"{f['verdict']} |".replace("  |", " |"))

    def series(value) -> list[tuple[float, float]]:
        return [(s["at"] - start, value(s)) for s in samples]

    roles = sorted({role for s in samples for role in s["rss"]})
    for role in roles:
        row(f"RSS {role}", series(lambda s, r=role: s["rss"].get(r, 0)), "MB", 2**20)
    row("RSS all processes of the layout", series(lambda s: sum(s["rss"].values())), "MB", 2**20)
    row("PostgreSQL connections of the bench database", series(lambda s: sum(s["pg"].values())), "", digits=1)
    row("Redis used_memory (instance)", series(lambda s: s["redis_used"]), "MB", 2**20, 2)
    row("Redis: memory of the bench database's keys", series(lambda s: s["redis_key_bytes"]), "MB", 2**20, 2)
    row("Redis: keys in the bench database", series(lambda s: s["redis_keys"]), "", digits=0)
    row("jobs waiting on the queues", series(lambda s: s["queued"]), "", digits=1)
    for stream_name in STREAMS:
        p99 = [(middle, p) for middle, n, _, _, p in latency_series(result["events"], stream_name, buckets, start) if n]
        if p99:
            row(f"{stream_name} p99 latency", p99, "ms", digits=0)
    reply_points = [((lo + hi) / 2 - start, percentile(v, 99)) for lo, hi in buckets
                    if (v := [ms for at, ms in result["replies"] if lo <= at < hi])]
    if reply_points:
        row("reply with the reference, beyond the quiet period, p99", reply_points, "ms", digits=0)

    web_pids = set().union(*(s["pids"].get("web worker", set()) for s in samples))
    failed = samples[-1]["failed"] if samples else 0
    lines += ["", f"Web worker processes seen: {len(web_pids)} (2 at a time). Jobs failed by the end: {failed}. "
              f"Conversations whose reply with the reference never came: {result['unanswered']}.", ""]

    lines += ["### Over time", "",
              "Per sample interval: requests done per second (errors), latency p50 / p99 in ms (acknowledgements "
              "of the Telegram webhooks; API creates and WhatsApp receipts from their scheduled send), the reply with "
              "the reference beyond the quiet period, the layout's CPU (cores busy), its RSS, PostgreSQL connections "
              "and Redis used_memory at the end of the interval.", "",
              "| min | conversations/s | Telegram ack p50 / p99 | creates/s | create p50 / p99 | receipts/s | "
              "receipt p50 / p99 | reply p50 / p99 | CPU (cores) | RSS MB | PG conns | Redis MB |",
              "|---:|---:|---|---:|---|---:|---|---|---:|---:|---:|---:|"]
    per_stream = {name: latency_series(result["events"], name, buckets, start) for name in STREAMS}
    for index, (lo, hi) in enumerate(buckets):
        span, now, before = hi - lo, samples[index + 1], samples[index]

        def done(name: str) -> str:
            _, count, errors, _, _ = per_stream[name][index]  # noqa: B023  (called within this iteration)
            return f"{count / span:.1f}" + (f" ({errors})" if errors else "")  # noqa: B023

        def latency(name: str) -> str:
            _, count, _, p50, p99 = per_stream[name][index]  # noqa: B023
            return f"{p50:.0f} / {p99:.0f}" if count else "–"

        replies = [ms for at, ms in result["replies"] if lo <= at < hi]
        reply = f"{percentile(replies, 50):.0f} / {percentile(replies, 99):.0f}" if replies else "–"
        lines.append(f"| {(hi - start) / 60:.1f} | {done('conversation')} | {latency('telegram ack')} | "
                     f"{done('create')} | {latency('create')} | {done('whatsapp ack')} | {latency('whatsapp ack')} | "
                     f"{reply} | {(now['cpu'] - before['cpu']) / span:.2f} | {sum(now['rss'].values()) / 2**20:.0f} | "
                     f"{sum(now['pg'].values())} | {now['redis_used'] / 2**20:.1f} |")

    lines += ["", "### What the layout logged (WARNING and above, exceptions)", "", *problems_table(result["log"])]
    write_page(path, lines, command)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM, after every process was stopped and the database dropped
        sys.exit("interrupted")
