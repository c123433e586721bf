"""Report events to a subscriber that is killed mid-run: how many events were made, attempts sent, retried and
received, and whether every event arrived at least once when the subscriber came back.

In-process, with the background work in threads (`JOBS_BACKEND=thread`: after-commit jobs, retry timers and the
sweeps as a web process runs them) on SpatiaLite, or PostGIS with --pg. The subscriber is a real HTTP server on
loopback. Reports are made and their status changed through the services, one transaction each; halfway the
subscriber is stopped for --away seconds and started again on the same port. Retries wait 0.3, 0.6, 1.2 s (the
last repeats), at most 30 attempts: the production waits (10 s … 6 h) would make the run hours long.

    .venv/bin/python bench/bench_subscriptions.py [--reports 60] [--away 3] [--pg URL]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

AMSTERDAM = (52.3877221, 4.8925727)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=60)
    parser.add_argument("--away", type=float, default=3.0, help="seconds the subscriber is down")
    parser.add_argument("--pg", default="", help="PostgreSQL admin URL: run on a fresh PostGIS database")
    args = parser.parse_args()
    if args.pg:
        from bench.common import postgres_database

        url, drop = postgres_database(args.pg, "meldingen_bench_subs")
        try:
            print(run(url, args), flush=True)
        finally:
            drop()
    else:
        tmp = Path(tempfile.mkdtemp(prefix="meldingen-bench-subs-"))
        print(run(f"sqlite:///{tmp / 'bench.sqlite'}", args), flush=True)
    os._exit(0)  # the background threads' timers (sweeps, retries) end with the run, not after the interpreter


def run(url: str, args) -> str:
    from fake_platforms import FakePlatform
    from flask_migrate import upgrade
    from sqlalchemy import func, select
    from werkzeug.serving import make_server
    from werkzeug.wrappers import Response

    from meldingen import create_app
    from meldingen.extensions import db
    from meldingen.pipeline import create_report
    from meldingen.reports.services import NewReport, change_status
    from meldingen.seed import load_sample_data
    from meldingen.subscriptions.models import WebhookDelivery
    from meldingen.subscriptions.services import subscribe

    tmp = Path(tempfile.mkdtemp(prefix="meldingen-bench-subs-media-"))
    app = create_app({"DATABASE_URL": url, "JOBS_BACKEND": "thread", "GEOCODER_URL": "off", "SECRET_KEY": "x",
                      "MEDIA_DIR": str(tmp), "CLASSIFIER_MODEL_PATH": str(tmp / "model.joblib"),
                      "WEBHOOK_ALLOW_PRIVATE": True, "WEBHOOK_RETRY_SECONDS": [0.3, 0.6, 1.2],
                      "WEBHOOK_MAX_ATTEMPTS": 30, "WEBHOOK_TIMEOUT": 2.0, "SWEEP_SECONDS": 1.0})
    receiver = FakePlatform()
    receiver.route("POST", "/hook")(lambda request: Response("ok"))
    server = {}

    def start() -> None:
        server["s"] = make_server("127.0.0.1", receiver.port, receiver, threaded=True)
        receiver.port = server["s"].server_port
        server["t"] = threading.Thread(target=server["s"].serve_forever, daemon=True)
        server["t"].start()

    def stop() -> None:
        server["s"].shutdown()
        server["s"].server_close()
        server["t"].join(5)

    with app.app_context():
        upgrade()
        load_sample_data()
        db.session.commit()
        start()
        subscribe("GM0363", f"{receiver.url}/hook")
        db.session.commit()
        app.extensions["meldingen_jobs"].start_sweeps()
        started = time.monotonic()
        for i in range(args.reports):
            if i == args.reports // 2:
                stop()
                threading.Timer(args.away, start).start()  # back while the run goes on
            lat, lon = AMSTERDAM[0] + (i // 20) * 0.0015, AMSTERDAM[1] + (i % 20) * 0.0015
            report = create_report(NewReport(description=f"Losse stoeptegel {i}", channel="staff", lat=lat, lon=lon,
                                             category_slug="onderhoud-stoep-straat-en-fietspad"))
            db.session.commit()
            change_status(report, "in_progress", actor="bench")
            db.session.commit()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            db.session.rollback()
            if not db.session.scalar(select(func.count()).select_from(WebhookDelivery)
                                     .where(WebhookDelivery.state != "delivered")):
                break
            time.sleep(0.2)
        elapsed = time.monotonic() - started
        db.session.rollback()
        events = db.session.scalar(select(func.count()).select_from(WebhookDelivery))
        delivered = db.session.scalar(select(func.count()).select_from(WebhookDelivery)
                                      .where(WebhookDelivery.state == "delivered"))
        parked = db.session.scalar(select(func.count()).select_from(WebhookDelivery)
                                   .where(WebhookDelivery.state == "parked"))
        attempts = db.session.scalar(select(func.sum(WebhookDelivery.attempts)))
        ids = set(db.session.scalars(select(WebhookDelivery.message_id)))
    received = [s.headers.get("Webhook-Id") for s in receiver.requests_to("/hook") if s.status == 200]
    stop()
    app.extensions["meldingen_jobs"].stop.set()
    missing = ids - set(received)
    return (f"database={url.split(':', 1)[0]} reports={args.reports} away={args.away}s events={events} "
            f"attempts={attempts} retried={attempts - events} received={len(received)} "
            f"unique_received={len(set(received))} duplicates={len(received) - len(set(received))} "
            f"delivered={delivered} parked={parked} missing={len(missing)} seconds={elapsed:.1f}")


if __name__ == "__main__":
    main()
