"""Recovery bench: for each fault, the time from the moment it is cleared to the moment the last pending piece of
work is done (every acknowledged message a report, every answer sent). Writes docs/perf/recovery.md.

Real processes on loopback, as in tests/test_faults.py: a waitress web server (background work in-process, the
embedded default) on SpatiaLite and, with --pg, on PostGIS; a PostgreSQL of its own for the database fault.
A few residents per platform each report a problem in two messages; the quiet period is 1 s, the sweeps run
every 0.3 s, a claimed piece of work is taken over after a 2 s lease, retries wait 0.3-1 s: the settings of
the fault tests, so recovery is measured in seconds, not in the production defaults' minutes (see
docs/RECOVERY.md for those). Baseline, same run: the same conversations without a fault, from the last
message to the last answer.

    .venv/bin/python bench/bench_recovery.py [--residents 2] [--pg URL] [--out docs/perf/recovery.md]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import machine, postgres_database  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))

AMSTERDAM = (52.3877221, 4.8925727)


MODEL_DIR = Path(tempfile.mkdtemp(prefix="meldingen-bench-classifier-"))  # trained once for every scenario


def prepare(url: str, tmp: Path) -> None:
    from flask_migrate import upgrade

    from meldingen import create_app
    from meldingen.classify.services import get_classifier
    from meldingen.seed import load_sample_data

    app = create_app({"DATABASE_URL": url, "JOBS_BACKEND": "sync", "GEOCODER_URL": "off",
                      "CLASSIFIER_MODEL_PATH": str(MODEL_DIR / "model.joblib"), "SECRET_KEY": "x"})
    with app.app_context():
        upgrade()
        load_sample_data()
        get_classifier()
        from meldingen.extensions import db

        db.session.remove()
        db.engine.dispose()


def done(harness_db, people, fake, reports: int) -> bool:
    from fault_harness import reference_replies

    return (harness_db.reports() >= reports and harness_db.pending_work() == 0
            and all(reference_replies(fake, p) for p in people))


def wait_done(harness_db, people, fake, reports, timeout=120.0) -> float:
    from fault_harness import wait_until

    wait_until(lambda: done(harness_db, people, fake, reports), timeout, interval=0.05, what="recovery")
    return time.monotonic()


def scenario(name: str, url: str, tmp: Path, residents_per_kind: int, pg=None) -> dict:
    """Run one fault on a fresh copy of the prepared database; returns seconds from fault cleared to done."""
    from fake_chat_platform import TG_TOKEN, install_send_routes
    from fake_platforms import start_fake_platform
    from fault_harness import Database, HttpClient, PlatformConfirmations, WebServer, residents, service_env
    from werkzeug.wrappers import Response

    fake, stop_fake = start_fake_platform()
    install_send_routes(fake)
    env = service_env(url, fake, tmp, CLASSIFIER_MODEL_PATH=str(MODEL_DIR / "model.joblib"), JOBS_BACKEND="thread")
    holder = {}
    confirmations = PlatformConfirmations(fake, lambda: holder["web"].url)
    holder["web"] = WebServer(env, tmp, f"{name}-web")
    db = Database(url)
    try:
        holder["web"].wait_ready(120)
        client = HttpClient(holder["web"].url, patience=120)
        people = residents(client, fake, residents_per_kind)
        reports = len(people)
        tg_send = f"/bot{TG_TOKEN}/sendMessage"
        original_tg = fake.routes[("POST", tg_send)]
        if name == "baseline":
            for p in people:
                p.send_location(*AMSTERDAM)
                p.send_text("De lantaarnpaal is kapot")
            cleared = time.monotonic()
        elif name == "web process killed":
            for p in people:
                p.send_location(*AMSTERDAM)
                p.send_text("De lantaarnpaal is kapot")
            holder["web"].kill()
            holder["web"] = WebServer(env, tmp, f"{name}-web2")
            holder["web"].wait_ready(120)
            cleared = time.monotonic()  # a new process is up (and its first request started the sweeps)
        elif name == "platform answers 500":
            fake.routes[("POST", tg_send)] = lambda r: Response('{"ok":false,"error_code":500}', status=500)
            for p in people:
                p.send_location(*AMSTERDAM)
                p.send_text("De lantaarnpaal is kapot")
            time.sleep(3.0)
            fake.routes[("POST", tg_send)] = original_tg
            cleared = time.monotonic()
        elif name == "database stopped":
            for p in people:
                p.send_location(*AMSTERDAM)
            pg.stop()
            threading.Timer(3.0, lambda: (pg.start(), holder.setdefault("cleared", time.monotonic()))).start()
            for p in people:
                p.send_text("De lantaarnpaal is kapot")  # refused while down, delivered again
            while "cleared" not in holder:
                time.sleep(0.05)
            cleared = holder["cleared"]
        else:
            raise ValueError(name)
        finished = wait_done(db, people, fake, reports)
        return {"fault": name, "seconds": max(0.0, finished - cleared), "residents": len(people),
                "refused": client.refused}
    finally:
        confirmations.stop()
        holder["web"].stop()
        db.dispose()
        stop_fake()


def run_backend(label: str, make_url, residents_per_kind: int, faults) -> list[dict]:
    results = []
    for fault in faults:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            url, cleanup, pg = make_url(tmp, fault)
            try:
                prepare(url, tmp)
                result = scenario(fault, url, tmp, residents_per_kind, pg)
                result["database"] = label
                results.append(result)
                print(result, flush=True)
            finally:
                cleanup()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--residents", type=int, default=2, help="residents per platform (3 platforms)")
    parser.add_argument("--pg", default=os.environ.get("MELDINGEN_BENCH_PG_URL")
                        or os.environ.get("MELDINGEN_TEST_DATABASE_URL") or "")
    parser.add_argument("--out", default=str(ROOT / "docs" / "perf" / "recovery.md"))
    args = parser.parse_args()
    from fault_harness import OwnPostgres, postgres_bin

    faults = ["baseline", "web process killed", "platform answers 500"]

    def sqlite_url(tmp, fault):
        return f"sqlite:///{tmp}/bench.sqlite", lambda: None, None

    results = run_backend("SpatiaLite", sqlite_url, args.residents, faults)
    if args.pg:
        def pg_url(tmp, fault):
            url, drop = postgres_database(args.pg, prefix="meldingen_bench_recovery")
            return url, drop, None
        results += run_backend("PostGIS", pg_url, args.residents, faults)
    if postgres_bin() is not None:
        def own_pg(tmp, fault):
            pg = OwnPostgres(tmp)
            return pg.create_database("meldingen_bench"), pg.destroy, pg
        results += run_backend("PostGIS (own server)", own_pg, args.residents, ["baseline", "database stopped"])

    baselines = {r["database"]: r["seconds"] for r in results if r["fault"] == "baseline"}
    lines = [
        "# Recovery: from the fault cleared to the last pending work done",
        "",
        f"Measured {date.today().isoformat()} on {machine()}.",
        "",
        "Method: `bench/bench_recovery.py` starts a real web server (waitress, background work in the process: "
        "the embedded default) on loopback, with the chat platforms faked on loopback (the fake also plays "
        "WhatsApp's status webhooks and Twilio's message list). "
        f"{args.residents} residents per platform (WhatsApp, Telegram, Twilio) each report a problem in two "
        "messages. Then one fault: the web process killed (SIGKILL) right after the last acknowledgement and a new "
        "one started; Telegram's send API answering 500 for 3 s; the database (a PostgreSQL the bench starts "
        "itself) stopped for 3 s mid-load. The figure is the time from the fault cleared (new process ready, "
        "platform back, database started) until no inbound event, outbox message or intake timer is pending and "
        "every resident has their reference. Baseline, same run and database: no fault, from the last message to "
        "the last answer (the 1 s quiet period included). Settings as in the fault tests: sweeps every 0.3 s, "
        "lease 2 s, retries after 0.3/0.5/1 s; with the production defaults (sweeps every 15 s, retries after "
        "5 s, 30 s, …, lease 120 s) recovery takes correspondingly longer.",
        "",
        "| database | fault | residents | deliveries refused during the fault | recovery s | × baseline |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in results:
        base = baselines.get(r["database"])
        ratio = f"{r['seconds'] / base:.1f}" if base and r["fault"] != "baseline" else "1.0"
        lines.append(f"| {r['database']} | {r['fault']} | {r['residents']} | {r['refused']} | {r['seconds']:.1f} "
                     f"| {ratio} |")
    lines += ["", f"Command: `.venv/bin/python bench/bench_recovery.py --residents {args.residents}"
              + (" --pg $MELDINGEN_TEST_DATABASE_URL" if args.pg else "") + "`", ""]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))
    import shutil

    shutil.rmtree(MODEL_DIR, ignore_errors=True)


if __name__ == "__main__":
    main()
