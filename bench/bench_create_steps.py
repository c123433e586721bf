"""Where the time of one report goes: the create pipeline step by step, on SQLite/SpatiaLite and PostGIS.

Reports are made in-process through `create_report(NewReport(...))`, the path every surface takes (chat intake,
API, Open311), at points spread over Amsterdam with texts from the classifier's written set. Each step of
`meldingen/pipeline.py` is wrapped with a timer for the run (the code itself is not changed): place (areas, nearest
address), category (classifier), asset, insert (reference, row, history event), routing (rules and apply),
deadline, duplicates (search, score, merge), hooks (intake/outbox), commit. Baseline in the same run: inserting
the same number of bare report rows (reference, description, point) and committing each, the least a report can
cost on that database.

    .venv/bin/python bench/bench_create_steps.py [--reports 300] [--out docs/perf/create_steps.md]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_webhooks import percentile  # noqa: E402
from bench.common import machine, postgres_database  # noqa: E402

TEXTS = ["De lantaarnpaal is kapot", "Losse stoeptegel voor de deur", "Container zit vol", "Kuil in de weg",
         "Graffiti op de muur", "Boom hangt over het fietspad", "Prullenbak zit helemaal vol",
         "Fietswrak staat al weken tegen het hek", "Afval naast de container", "Verstopte put bij de stoep"]


def make_app(database_url: str, tmp: Path):
    from meldingen import create_app

    return create_app({"DATABASE_URL": database_url, "SECRET_KEY": "bench", "MEDIA_DIR": str(tmp / "media"),
                       "JOBS_BACKEND": "sync", "GEOCODER_URL": "off",
                       "CLASSIFIER_MODEL_PATH": str(tmp / "model.joblib")})


def prepare(app) -> None:
    from flask_migrate import upgrade

    from meldingen.classify.services import get_classifier
    from meldingen.seed import load_sample_data

    with app.app_context():
        upgrade()
        load_sample_data()
        get_classifier()


def instrument(timings: dict) -> list:
    """Wrap the pipeline's steps with timers; returns what to undo."""
    from meldingen import pipeline
    from meldingen.dedup import services as dedup_services
    from meldingen.extensions import db

    undo = []

    def wrap(owner, name: str, step: str):
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            began = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                timings[step].append((time.perf_counter() - began) * 1000)

        setattr(owner, name, timed)
        undo.append((owner, name, original))

    wrap(pipeline, "resolve_place", "place (areas, address)")
    wrap(pipeline, "choose_category", "category (classifier)")
    wrap(pipeline, "relevant_asset", "asset")
    wrap(pipeline, "insert_report", "insert (reference, row)")
    wrap(pipeline, "add_event", "history event")
    wrap(pipeline, "decide_route", "routing: decide")
    wrap(pipeline, "apply_route", "routing: apply")
    wrap(pipeline, "set_deadline", "deadline")
    wrap(dedup_services, "handle_new_report", "duplicates")
    session_class = type(db.session())
    wrap(session_class, "commit", "commit")
    return undo


def run_reports(app, count: int, seed: int = 0) -> tuple[dict, list]:
    from meldingen.extensions import db
    from meldingen.pipeline import create_report
    from meldingen.reports.services import NewReport

    rng = random.Random(seed)
    timings: dict = defaultdict(list)
    totals = []
    with app.app_context():
        undo = instrument(timings)
        try:
            for _ in range(count):
                new = NewReport(description=rng.choice(TEXTS), channel="api",
                                lat=52.34 + rng.random() * 0.06, lon=4.85 + rng.random() * 0.08)
                began = time.perf_counter()
                create_report(new)
                db.session.commit()
                totals.append((time.perf_counter() - began) * 1000)
                db.session.remove()
        finally:
            for owner, name, original in undo:
                setattr(owner, name, original)
    return timings, totals


def bare_inserts(app, count: int, seed: int = 1) -> list:
    """The least a report costs: one row with a reference and a point, committed."""
    from meldingen.extensions import db
    from meldingen.geo.crs import rd_point_ewkt
    from meldingen.reports.models import Report
    from meldingen.reports.references import new_reference
    from meldingen.timeutil import utcnow

    rng = random.Random(seed)
    times = []
    with app.app_context():
        for _ in range(count):
            lat, lon = 52.34 + rng.random() * 0.06, 4.85 + rng.random() * 0.08
            began = time.perf_counter()
            now = utcnow()
            db.session.add(Report(reference=new_reference(), description=rng.choice(TEXTS), channel="api",
                                  status="new", created_at=now, updated_at=now, lat=lat, lon=lon,
                                  geom=rd_point_ewkt(lon, lat)))
            db.session.commit()
            times.append((time.perf_counter() - began) * 1000)
            db.session.remove()
    return times


def measure(database_url: str, tmp: Path, count: int) -> dict:
    app = make_app(database_url, tmp)
    prepare(app)
    run_reports(app, 20, seed=99)  # warm: model loaded, caches filled
    timings, totals = run_reports(app, count)
    bare = bare_inserts(app, count)
    with app.app_context():
        from meldingen.extensions import db

        db.engine.dispose()
    return {"steps": {step: (percentile(v, 50), percentile(v, 99), sum(v) / count) for step, v in timings.items()},
            "total": (percentile(totals, 50), percentile(totals, 99)), "bare": (percentile(bare, 50), percentile(bare, 99))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=300)
    parser.add_argument("--out", default=str(ROOT / "docs" / "perf" / "create_steps.md"))
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="meldingen-bench-steps-") as tmp_name:
        tmp = Path(tmp_name)
        results["SQLite/SpatiaLite"] = measure(f"sqlite:///{tmp / 'steps.sqlite'}", tmp, args.reports)
        print("sqlite", results["SQLite/SpatiaLite"]["total"], flush=True)
        pg_admin = os.environ.get("MELDINGEN_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
        try:
            url, drop = postgres_database(pg_admin, prefix="meldingen_bench_steps")
        except Exception as exc:  # no PostgreSQL here: say so in the page
            print(f"PostGIS skipped: {exc}")
        else:
            try:
                results["PostGIS"] = measure(url, tmp, args.reports)
                print("postgis", results["PostGIS"]["total"], flush=True)
            finally:
                drop()
    write_report(Path(args.out), args, results)


def write_report(path: Path, args, results: dict) -> None:
    lines = [
        "## Create path, step by step",
        "",
        f"Machine: {machine()}. Measured {date.today().isoformat()} with `.venv/bin/python bench/bench_create_steps.py "
        f"--reports {args.reports}`.",
        "",
        "Method: reports made in-process through `create_report` (the path of chat, API and Open311) at random points "
        f"over Amsterdam, {args.reports} per database after 20 to warm up, each step of `meldingen/pipeline.py` timed "
        "by a wrapper. Baseline (same run): bare report rows (reference, description, point) inserted and committed "
        "one by one.",
        "",
    ]
    for name, r in results.items():
        total50, total99 = r["total"]
        bare50, bare99 = r["bare"]
        lines += [f"### {name}", "",
                  f"Whole report p50 {total50:.1f} ms, p99 {total99:.1f} ms; bare row p50 {bare50:.1f} ms, "
                  f"p99 {bare99:.1f} ms (ratio p50 {total50 / bare50:.1f}×).", "",
                  "| step | p50 ms | p99 ms | mean ms | share of the timed steps |", "|---|---|---|---|---|"]
        mean_total = sum(mean for _, _, mean in r["steps"].values()) or 1
        for step, (p50, p99, mean) in sorted(r["steps"].items(), key=lambda item: -item[1][2]):
            lines.append(f"| {step} | {p50:.2f} | {p99:.2f} | {mean:.2f} | {mean / mean_total:.0%} |")
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
