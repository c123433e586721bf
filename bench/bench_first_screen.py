"""Time to a usable first screen for a field crew on a phone at volume: 1,000 reports (597 open in the crew's
department, tests/volume.py), the app in a thread on loopback, headless Chromium (Debian's /usr/bin/chromium)
at 390×844. Each run is a phone that has not been here before (a new browser context), measured in the page
(performance.now(), from the start of the navigation):
- the map: from pressing "Aanmelden" (the sign-in's POST and its redirect) to the map with its GeoJSON fetched
  and every report drawn as a pin or counted in a cluster (`#map.loaded`);
- "mijn werk" opened next: to the page's load event (the first 60, with the counts).
Median and slowest of --runs runs after one warm-up; SQLite by default, PostGIS with --pg URL (an admin URL:
a scratch database is made and dropped).

    PYTHONPATH=. .venv/bin/python bench/bench_first_screen.py [--runs 7] [--pg postgresql+psycopg://…/postgres]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import postgres_database  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "bench-password"


def measure(database_url: str, runs: int, tmp: str) -> dict[str, list[float]]:
    from flask_migrate import upgrade
    from playwright.sync_api import sync_playwright
    from sqlalchemy import select
    from werkzeug.serving import make_server

    from meldingen import create_app
    from meldingen.extensions import db
    from meldingen.organisations.models import Department, Organisation
    from meldingen.seed import load_sample_data
    from meldingen.staff.services import create_staff
    from tests.volume import fill_reports

    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "bench", "MEDIA_DIR": tmp, "JOBS_BACKEND": "sync",
                      "GEOCODER_URL": "off", "TILE_URL": "", "RATELIMIT_ENABLED": False,
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        upgrade()
        load_sample_data()
        org = db.session.scalar(select(Organisation).where(Organisation.code == "GM0363"))
        departments = list(db.session.scalars(select(Department).where(Department.organisation_id == org.id)
                                              .order_by(Department.code).limit(2)))
        crew = create_staff("crew@bench.test", "crew", "GM0363", departments[0].code, PASSWORD)
        db.session.commit()
        fill_reports(departments[0], total=1000, open_in_department=597, assigned=23, assignee=crew,
                     other_department=departments[1])
        db.session.remove()

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    times: dict[str, list[float]] = {"map": [], "mijn werk": []}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            for run in range(runs + 1):
                # A phone that has not been here before (no kept pages, no worker fetching in the background):
                # from pressing "Aanmelden" to the map with every report on it, then "mijn werk".
                context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                              is_mobile=True, has_touch=True)
                page = context.new_page()
                page.goto(f"{base}/staff/login")
                page.fill("input[name=email]", "crew@bench.test")
                page.fill("input[name=password]", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url("**/staff/map")
                page.wait_for_selector("#map.loaded", timeout=60_000)
                assert page.get_attribute("#map", "data-markers") == "597"
                map_ms = page.evaluate("performance.now()")
                page.goto(f"{base}/staff/werk", wait_until="load")
                work_ms = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
                context.close()
                if run:  # the first is the warm-up
                    times["map"].append(map_ms)
                    times["mijn werk"].append(work_ms)
            browser.close()
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
        with app.app_context():
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--pg", default="", help="PostgreSQL admin URL (a scratch database is made)")
    args = parser.parse_args(argv)
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        if args.pg:
            url, drop = postgres_database(args.pg, "meldingen_bench_first_screen")
            try:
                times = measure(url, args.runs, tmp)
            finally:
                drop()
            label = "PostGIS"
        else:
            times = measure(f"sqlite:///{tmp}/bench.sqlite", args.runs, tmp)
            label = "SQLite"
    print(f"load average before: {load[0]:.2f}")
    for name, values in times.items():
        print(f"{label} crew {name}: median {statistics.median(values):.0f} ms, slowest {max(values):.0f} ms "
              f"({len(values)} runs, 1,000 reports, 597 open in the department)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
