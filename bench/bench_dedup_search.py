"""Candidate search time with 1,000,000 reports in the database, on SpatiaLite and (when MELDINGEN_BENCH_PG_URL
is set, as `make bench` does when a local PostgreSQL answers) PostGIS.

Reports are bulk-inserted (executemany on SQLite, COPY on PostgreSQL; not the ORM pipeline): spread over the
Amsterdam sample area (about 6 × 4 km), 80 % closed, over two years, in four categories. Then
`find_duplicate_candidates` is timed for new reports at random points, and the bare SQL of the spatial
query alone as the floor it builds on. Appends its section to docs/perf/dedup.md.

    .venv/bin/python bench/bench_dedup_search.py [--reports 1000000] [--queries 2000]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import postgres_database  # noqa: E402

AREA = (52.345, 4.840, 52.395, 4.940)  # min lat, min lon, max lat, max lon
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
SLUGS = ["straatverlichting-openbare-klok", "onderhoud-stoep-straat-en-fietspad", "container-is-vol", "grofvuil"]


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def make_app(url: str, workdir: Path):
    from flask_migrate import upgrade

    from meldingen import create_app
    from meldingen.seed import load_sample_data

    app = create_app({"DATABASE_URL": url, "GEOCODER_URL": "off", "TESTING": True, "JOBS_BACKEND": "sync",
                      "MEDIA_DIR": str(workdir / "media")})
    from meldingen.extensions import db

    with app.app_context():
        upgrade()
        load_sample_data()
        db.session.commit()  # load_sample_data only flushes: without this the categories were rolled back
    return app


def rows(n: int, category_ids: dict, org_id: int, rng: random.Random):
    from meldingen.geo.crs import to_rd

    ids = [category_ids[s] for s in SLUGS]
    for i in range(n):
        lat = rng.uniform(AREA[0], AREA[2])
        lon = rng.uniform(AREA[1], AREA[3])
        x, y = to_rd(lon, lat)
        created = NOW - timedelta(days=rng.uniform(0, 730))
        status = "new" if rng.random() < 0.2 else "done"
        yield (f"B-{i:08d}", ids[i % 4], "Lantaarnpaal doet het niet" if i % 4 == 0 else "Losse stoeptegel",
               lat, lon, x, y, org_id, status, created.replace(tzinfo=None), "staff")


def bulk_insert(app, n: int, rng: random.Random) -> float:
    from sqlalchemy import select

    from meldingen.categories.models import Category
    from meldingen.db import RD_SRID, is_sqlite
    from meldingen.extensions import db
    from meldingen.organisations.models import Organisation

    started = time.perf_counter()
    with app.app_context():
        category_ids = {c.slug: c.id for c in db.session.scalars(select(Category).where(Category.slug.in_(SLUGS),
                                                                                       Category.parent_id.is_not(None)))}
        org_id = db.session.scalar(select(Organisation.id).where(Organisation.code == "GM0363"))
        columns = ("reference, category_id, category_confirmed, description, lat, lon, geom, address_unknown, "
                   "organisation_id, status, created_at, updated_at, channel, reporters_count")
        if is_sqlite(db.session):
            raw = db.engine.raw_connection()
            cursor = raw.cursor()
            sql = (f"INSERT INTO reports ({columns}) VALUES (?, ?, 1, ?, ?, ?, MakePoint(?, ?, {RD_SRID}), 0, ?, ?, ?, "
                   "?, ?, 1)")
            batch = []
            for r in rows(n, category_ids, org_id, rng):
                created = r[9].isoformat(sep=" ")
                batch.append((*r[:9], created, created, r[10]))
                if len(batch) == 50_000:
                    cursor.executemany(sql, batch)
                    batch.clear()
            if batch:
                cursor.executemany(sql, batch)
            raw.commit()
            cursor.execute("ANALYZE")
            raw.close()
        else:
            raw = db.engine.raw_connection()
            cursor = raw.cursor()
            with cursor.copy(f"COPY reports ({columns}) FROM STDIN") as copy:
                for r in rows(n, category_ids, org_id, rng):
                    created = r[9].replace(tzinfo=UTC)
                    copy.write_row((r[0], r[1], True, r[2], r[3], r[4], f"SRID={RD_SRID};POINT({r[5]} {r[6]})", False,
                                    r[7], r[8], created, created, r[10], 1))
            raw.commit()
            cursor.execute("ANALYZE reports")
            raw.commit()
            raw.close()
    return time.perf_counter() - started


def time_search(app, queries: int, rng: random.Random):
    from sqlalchemy import select

    from meldingen.categories.models import Category
    from meldingen.dedup import services
    from meldingen.dedup.services import _nearby_open_reports, find_duplicate_candidates, rules_for, search_radius
    from meldingen.extensions import db
    from meldingen.geo.crs import to_rd
    from meldingen.organisations.models import Organisation
    from meldingen.reports.models import Report

    full, bare, before, found = [], [], [], 0
    with app.app_context():
        categories = {c.slug: c for c in db.session.scalars(select(Category).where(Category.slug.in_(SLUGS),
                                                                                  Category.parent_id.is_not(None)))}
        org = db.session.scalar(select(Organisation).where(Organisation.code == "GM0363"))
        for i in range(queries):
            lat, lon = rng.uniform(AREA[0], AREA[2]), rng.uniform(AREA[1], AREA[3])
            category = categories[SLUGS[i % 4]]
            probe = Report(id=None, lat=lat, lon=lon, category=category, category_id=category.id,
                           organisation_id=org.id, description="Lantaarnpaal doet het niet", created_at=NOW)
            t0 = time.perf_counter()
            result = find_duplicate_candidates(probe)
            full.append((time.perf_counter() - t0) * 1000)
            found += len(result)
            rules = rules_for(category)
            x, y = to_rd(lon, lat)
            t0 = time.perf_counter()
            _nearby_open_reports(probe, x, y, search_radius(rules, services.WEIGHTS), rules, NOW)
            bare.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            _query_before_issue_24(probe, x, y, rules)
            before.append((time.perf_counter() - t0) * 1000)
            db.session.expunge_all()
    return full, bare, before, found


def _query_before_issue_24(report, x: float, y: float, rules):
    """The baseline measured in the same run: the spatial query as it was before issue 24 (twice the
    category's distance, open reports of the last `window_days` only)."""
    from datetime import timedelta

    from sqlalchemy import select, text

    from meldingen.db import RD_SRID, is_sqlite
    from meldingen.extensions import db
    from meldingen.reports.models import Report, Status

    radius = rules.distance_m * 2
    open_codes = select(Status.code).where(Status.is_open.is_(True))
    query = (select(Report.id, Report.category_id, Report.created_at, Report.lat, Report.lon, Report.asset_type,
                    Report.asset_external_id, Report.description)
             .where(Report.status.in_(open_codes), Report.closed_at.is_(None), Report.duplicate_of_id.is_(None),
                    Report.category_id.in_(sorted(rules.category_ids)),
                    Report.created_at >= NOW - timedelta(days=rules.window_days), Report.lat.is_not(None),
                    Report.organisation_id == report.organisation_id))
    box = {"minx": x - radius, "miny": y - radius, "maxx": x + radius, "maxy": y + radius}
    if is_sqlite(db.session):
        query = query.where(text(
            "reports.ROWID IN (SELECT ROWID FROM SpatialIndex WHERE f_table_name = 'reports' "
            f"AND f_geometry_column = 'geom' AND search_frame = BuildMbr(:minx, :miny, :maxx, :maxy, {RD_SRID}))"
        ).bindparams(**box))
    else:
        query = query.where(text(f"reports.geom && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, {RD_SRID})")
                            .bindparams(**box))
    return db.session.execute(query).all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--out", default=str(ROOT / "docs" / "perf" / "dedup.md"))
    args = parser.parse_args()

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("SpatiaLite", f"sqlite:///{Path(tmp) / 'search.sqlite'}", None)]
        pg = os.environ.get("MELDINGEN_BENCH_PG_URL")
        if pg:
            url, drop = postgres_database(pg)
            targets.append(("PostGIS", url, drop))
        for name, url, drop in targets:
            try:
                app = make_app(url, Path(tmp))
                load_s = bulk_insert(app, args.reports, random.Random(1))
                full, bare, before, found = time_search(app, args.queries, random.Random(2))
                results.append((name, load_s, full, bare, before, found))
                print(name, round(load_s, 1), percentile(full, 50), percentile(full, 99), file=sys.stderr, flush=True)
                from meldingen.extensions import db

                with app.app_context():
                    db.session.remove()
                    db.engine.dispose()
            finally:
                if drop:
                    drop()
    write_page(Path(args.out), args, results)


def write_page(out: Path, args, results) -> None:
    from bench.bench_dedup import replace_section
    from bench.common import machine

    lines = [
        "## Duplicates: candidate search time\n",
        f"Written by `bench/bench_dedup_search.py --reports {args.reports} --queries {args.queries}` on {machine()}.\n",
        f"**Method.** {args.reports:,} reports bulk-inserted (executemany on SpatiaLite, COPY on PostGIS) at random "
        "points over a 6 × 4 km part of Amsterdam (about 40,000 per km²), four categories, created over two "
        "years, 20 % open. Then `find_duplicate_candidates` — the whole call: category rules, open statuses, the "
        "spatial query through the index (SpatialIndex on SpatiaLite, GiST `&&` on PostGIS), scoring, loading "
        f"the candidate rows, the reports merged into them — for {args.queries:,} new reports at random points; "
        "\"bare query\" is the spatial SQL alone, the floor the call stands on; \"baseline\" is the spatial "
        "query as it was before issue 24 (twice the category's distance, open reports of the category's window "
        "only), measured in the same run on the same data, so a loaded machine shows in both. Times in ms.\n",
        "| database | bulk load (s) | search p50 | search p99 | mean | bare query p50 | bare query p99 | "
        "baseline p50 | baseline p99 | search p99 / baseline p99 | candidates found |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, load_s, full, bare, before, found in results:
        lines.append(f"| {name} | {load_s:.0f} | {percentile(full, 50):.2f} | {percentile(full, 99):.2f} | "
                     f"{statistics.fmean(full):.2f} | {percentile(bare, 50):.2f} | {percentile(bare, 99):.2f} | "
                     f"{percentile(before, 50):.2f} | {percentile(before, 99):.2f} | "
                     f"{percentile(full, 99) / percentile(before, 99):.2f} | {found:,} |")
    lines.append("")
    lines.append("Aim: p99 under 5 ms (issue 24; 10 ms before). The search runs once per new report inside its transaction, under the "
                 "per-organisation duplicate lock, so its time is also the time two reports of one organisation "
                 "wait for each other.\n")
    replace_section(out, "## Duplicates: candidate search time", "\n".join(lines) + "\n")
    print(out)


if __name__ == "__main__":
    main()
