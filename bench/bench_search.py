"""Benchmark of the staff search over many reports, on SpatiaLite and (when MELDINGEN_BENCH_PG_URL is set) PostGIS:
p50/p99 of `search_reports` (the capped count and the first page, through scope_reports) for references, street +
number, postcodes, rare and common words, against an unindexed LIKE over the same text in the same run; and the
server time of the staff pages of issue 15b (search, mijn werk, work order) with 10,000 open reports.
Writes docs/perf/search.md.

    .venv/bin/python bench/bench_search.py [--reports 1000000] [--runs 30] [--baseline-runs 5]
    MELDINGEN_BENCH_PG_URL=postgresql+psycopg://postgres@127.0.0.1/postgres .venv/bin/python bench/bench_search.py
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
from bench.common import machine, postgres_database  # noqa: E402

NOW = datetime(2026, 11, 1, 12, 0, 0)
OPEN_REPORTS = 10_000
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
LETTERS = "ABCDEFGHJKLMNPRTVWXZ"
STREETS = ["Westerdoksdijk", "Barentszplein", "Bickersgracht", "Prinseneiland", "Realengracht", "Houtmankade",
           "Zoutkeetsgracht", "Van Diemenstraat", "Planciusstraat", "Haarlemmerdijk", "Spaarndammerstraat",
           "Zaandammerplein", "Nassaukade", "Frederik Hendrikstraat", "Marnixstraat", "Rozengracht", "Elandsgracht",
           "Overtoom", "Kinkerstraat", "Bilderdijkstraat", "Jan Pieter Heijestraat", "Hoofdweg", "Postjesweg",
           "Admiraal de Ruijterweg", "Bos en Lommerweg", "Jan van Galenstraat", "Erasmusgracht", "Mercatorplein",
           "Hoofddorpplein", "Stadionweg", "Beethovenstraat", "Ferdinand Bolstraat", "Ceintuurbaan", "Sarphatipark",
           "Wibautstraat", "Linnaeusstraat", "Javastraat", "Molukkenstraat", "Kramatweg", "Zeeburgerdijk"]
# What residents write, in their words: a few common problems, many rarer ones.
PHRASES = ["losse stoeptegel", "lantaarnpaal brandt niet", "container zit vol", "zwerfafval langs de weg",
           "grofvuil naast de container", "gat in het fietspad", "boom hangt over het fietspad",
           "verkeersbord omgereden", "put is verstopt", "bankje kapot", "fietswrak aan het hek",
           "glasbak vol", "graffiti op de muur", "speeltoestel kapot", "stoep verzakt", "wortels drukken tegels omhoog",
           "onkruid tussen de tegels", "dode rat op straat", "lekkende brandkraan", "parkeerautomaat defect"]
RARE_WORDS = ["kinderwagen", "scootmobiel", "schoolplein", "bushalte", "bloembak", "waterspuwer", "kademuur",
              "vlonder", "trapleuning", "hondenpoep"]


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def reference(i: int) -> str:
    code = []
    n = i * 7_654_321 + 12_345  # spread over the code space, still unique (7654321 is odd: a bijection mod 32^6)
    for _ in range(6):
        code.append(ALPHABET[n % 32])
        n //= 32
    return "M-" + "".join(code)


def rows(n: int, category_ids: list[int], department_ids: list[int], org_id: int, rng: random.Random):
    """Reports over two years; the newest OPEN_REPORTS open in the first department (the crew's)."""
    for i in range(n):
        street = STREETS[i % len(STREETS)]
        number = 1 + (i * 7) % 300
        postcode = f"10{13 + (i % len(STREETS)):02d}{LETTERS[(i // 7) % 20]}{LETTERS[(i // 3) % 20]}"
        words = PHRASES[min(int(rng.paretovariate(1.2)) - 1, len(PHRASES) - 1)]
        if i % 1000 == 0:
            words += " bij de " + RARE_WORDS[(i // 1000) % len(RARE_WORDS)]
        description = f"{words[0].upper()}{words[1:]}, al {1 + i % 14} dagen"
        age = (n - i) / n * 730
        created = NOW - timedelta(days=age, seconds=i % 86400)
        is_open = i >= n - OPEN_REPORTS
        yield (reference(i), category_ids[i % len(category_ids)], description,
               52.33 + rng.random() * 0.09, 4.82 + rng.random() * 0.14, street, str(number), postcode, "Amsterdam",
               org_id, department_ids[0] if is_open else department_ids[i % len(department_ids)],
               "new" if is_open else "done", created, None if is_open else created + timedelta(days=3))


def make_app(url: str, workdir: Path):
    from flask_migrate import upgrade

    from meldingen import create_app
    from meldingen.seed import load_sample_data

    app = create_app({"DATABASE_URL": url, "GEOCODER_URL": "off", "TESTING": True, "JOBS_BACKEND": "sync",
                      "MEDIA_DIR": str(workdir / "media"), "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})
    with app.app_context():
        upgrade()
        load_sample_data()
    return app


COLUMNS = ("reference, category_id, category_confirmed, description, lat, lon, address_street, address_number, "
           "address_postcode, address_city, address_unknown, organisation_id, department_id, status, created_at, "
           "updated_at, closed_at, deadline, channel, reporters_count")


def bulk_insert(app, n: int, rng: random.Random) -> tuple[float, float]:
    """Rows in (SQLite: through the FTS5 triggers; PostgreSQL: COPY, then the trigram index built anew).
    Answers (seconds inserting, seconds building the index)."""
    from sqlalchemy import select

    from meldingen.categories.models import Category
    from meldingen.db import is_sqlite
    from meldingen.extensions import db
    from meldingen.organisations.models import Department, Organisation

    with app.app_context():
        category_ids = list(db.session.scalars(select(Category.id).where(Category.parent_id.is_not(None))))
        org_id = db.session.scalar(select(Organisation.id).where(Organisation.code == "GM0363"))
        department_ids = list(db.session.scalars(select(Department.id).where(Department.organisation_id == org_id)
                                                 .order_by(Department.code)))
        raw = db.engine.raw_connection()
        cursor = raw.cursor()
        started = time.perf_counter()
        if is_sqlite(db.session):
            # Per-row trigger upkeep of the FTS5 table is ~5× slower than one rebuild: load, rebuild, re-arm.
            for name in ("reports_search_ai", "reports_search_ad", "reports_search_au"):
                cursor.execute(f"DROP TRIGGER {name}")
            sql = f"INSERT INTO reports ({COLUMNS}) VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, 'whatsapp', 1)"
            batch = []
            for r in rows(n, category_ids, department_ids, org_id, rng):
                created = r[12].isoformat(sep=" ")
                closed = r[13].isoformat(sep=" ") if r[13] else None
                deadline = (r[12] + timedelta(days=10)).isoformat(sep=" ")
                batch.append((*r[:12], created, created, closed, deadline))
                if len(batch) == 20_000:
                    cursor.executemany(sql, batch)
                    batch.clear()
            if batch:
                cursor.executemany(sql, batch)
            raw.commit()
            insert_s = time.perf_counter() - started
            started = time.perf_counter()
            cursor.execute("INSERT INTO reports_search(reports_search) VALUES ('rebuild')")
            for statement in migration_0009().sqlite_triggers():
                cursor.execute(statement)
            cursor.execute("ANALYZE reports")
            raw.commit()
            raw.close()
            return insert_s, time.perf_counter() - started
        else:
            from meldingen.staff.search import SEARCH_TEXT_SQL

            cursor.execute("DROP INDEX ix_reports_search_trgm")
            with cursor.copy(f"COPY reports ({COLUMNS}) FROM STDIN") as copy:
                for r in rows(n, category_ids, department_ids, org_id, rng):
                    created = r[12].replace(tzinfo=UTC)
                    closed = r[13].replace(tzinfo=UTC) if r[13] else None
                    copy.write_row((r[0], r[1], True, *r[2:9], False, *r[9:12], created, created, closed,
                                    created + timedelta(days=10), "whatsapp", 1))
            raw.commit()
            insert_s = time.perf_counter() - started
            started = time.perf_counter()
            cursor.execute(f"CREATE INDEX ix_reports_search_trgm ON reports USING gin ({SEARCH_TEXT_SQL} gin_trgm_ops)")
            cursor.execute("ANALYZE reports")
            raw.commit()
            index_s = time.perf_counter() - started
            raw.close()
            return insert_s, index_s
    raise AssertionError("unreachable")


def migration_0009():
    import importlib.util

    path = ROOT / "migrations" / "versions" / "0009_report_search_index.py"
    spec = importlib.util.spec_from_file_location("migration_0009", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def query_sets(n: int, rng: random.Random) -> dict[str, list[str]]:
    refs = [reference(rng.randrange(n)) for _ in range(200)]
    return {
        "reference (M-XXXXXX)": refs,
        "street + number": [f"{rng.choice(STREETS)} {rng.randrange(1, 300)}" for _ in range(200)],
        "postcode with a space": [f"10{13 + rng.randrange(len(STREETS)):02d} {rng.choice('EFGHJK')}{rng.choice('MNPQR')}"
                                  for _ in range(200)],
        "rare word (0.1 %)": [rng.choice(RARE_WORDS) for _ in range(200)],
        "common word (half of all reports)": ["stoeptegel"] * 200,
        "two words": [f"{rng.choice(['losse', 'lantaarnpaal', 'container', 'fietspad'])} "
                      f"{rng.choice(['dagen', 'vol', 'kapot', 'niet'])}" for _ in range(200)],
    }


def baseline(staff, q: str):
    """The same search without the index: ILIKE over the same text (made unindexable), same scope, count and page."""
    from sqlalchemy import String, func, literal_column, select

    from meldingen.extensions import db
    from meldingen.reports.access import scope_reports
    from meldingen.reports.models import Report
    from meldingen.staff.search import COUNT_LIMIT, PAGE_SIZE, SEARCH_TEXT_SQL, parse_query

    terms = parse_query(q)
    text_expr = literal_column(f"({SEARCH_TEXT_SQL} || '')", type_=String)
    query = scope_reports(select(Report), staff)
    for word in terms.words + [r.lower() for r in terms.references]:
        query = query.where(text_expr.ilike(f"%{word}%"))
    db.session.scalar(select(func.count()).select_from(
        query.with_only_columns(Report.id).limit(COUNT_LIMIT + 1).subquery()))
    return db.session.scalars(query.order_by(Report.created_at.desc(), Report.id.desc()).limit(PAGE_SIZE)).all()


def time_searches(app, n: int, runs: int, baseline_runs: int):
    from meldingen.extensions import db
    from meldingen.staff.search import SearchFilter, search_reports
    from meldingen.staff.services import create_staff

    results = []
    with app.app_context():
        head = create_staff("head@bench.test", "head", "GM0363", None, "bench-password")
        for label, queries in query_sets(n, random.Random(2)).items():
            search_reports(head, SearchFilter(q=queries[0]))  # warm-up
            times, hits = [], []
            for q in queries[:runs]:
                start = time.perf_counter()
                result = search_reports(head, SearchFilter(q=q))
                times.append((time.perf_counter() - start) * 1000)
                hits.append(result.total)
                db.session.rollback()
            base = []
            for q in queries[:baseline_runs]:
                start = time.perf_counter()
                baseline(head, q)
                base.append((time.perf_counter() - start) * 1000)
                db.session.rollback()
            results.append((label, statistics.median(times), percentile(times, 99), statistics.median(hits),
                            statistics.median(base)))
            print(f"  {label}: p50 {results[-1][1]:.1f} ms p99 {results[-1][2]:.1f} ms, baseline {results[-1][4]:.0f} ms",
                  file=sys.stderr, flush=True)
    return results


def time_pages(app, runs: int):
    """Server time of the staff pages (test client: routing, queries, templates), 10,000 open reports."""
    from sqlalchemy import select

    from meldingen.extensions import db
    from meldingen.organisations.models import Department
    from meldingen.reports.models import Report
    from meldingen.staff.services import create_staff

    with app.app_context():
        dept = db.session.scalar(select(Department).join(Report, Report.department_id == Department.id)
                                 .where(Report.closed_at.is_(None)).limit(1))
        create_staff("crew@bench.test", "crew", "GM0363", dept.code, "bench-password")
        some = db.session.scalar(select(Report.reference).where(Report.closed_at.is_(None)).limit(1))
        db.session.remove()
    # A head's search is the heads' one list (the backlog, with its aggregates, chart and hotspots).
    pages = [("head", "search: words, open", "/staff/backlog?q=lantaarnpaal"),
             ("head", "search: all open reports, first page", "/staff/backlog"),
             ("head", "search: a reference", f"/staff/backlog?q={some}&status=all"),
             ("crew", "mijn werk, nearest first", "/staff/werk?lat=52.37&lon=4.89"),
             ("crew", "work order (QR code, history)", f"/staff/reports/{some}/werkbon")]
    results = []
    for role, label, url in pages:
        client = app.test_client()
        response = client.post("/staff/login", data={"email": f"{role}@bench.test", "password": "bench-password"})
        assert response.status_code == 302, response.status_code
        assert client.get(url).status_code == 200, url
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            client.get(url).close()
            times.append((time.perf_counter() - start) * 1000)
        results.append((label, statistics.median(times), percentile(times, 99)))
        print(f"  {label}: p50 {results[-1][1]:.1f} ms", file=sys.stderr, flush=True)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--baseline-runs", type=int, default=5)
    parser.add_argument("--sqlite-reports", type=int, default=None, help="a smaller size for SQLite, if needed")
    parser.add_argument("--out", default=str(ROOT / "docs" / "perf" / "search.md"))
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("SpatiaLite", f"sqlite:///{Path(tmp) / 'search.sqlite'}", None, args.sqlite_reports or args.reports)]
        pg = os.environ.get("MELDINGEN_BENCH_PG_URL")
        if pg:
            url, drop = postgres_database(pg, "meldingen_bench_search")
            targets.append(("PostGIS", url, drop, args.reports))
        for name, url, drop, n in targets:
            try:
                print(f"{name}: {n:,} reports", file=sys.stderr, flush=True)
                app = make_app(url, Path(tmp))
                insert_s, index_s = bulk_insert(app, n, random.Random(1))
                searches = time_searches(app, n, args.runs, args.baseline_runs)
                pages = time_pages(app, args.runs)
                results.append((name, n, insert_s, index_s, searches, pages))
                from meldingen.extensions import db

                with app.app_context():
                    db.session.remove()
                    db.engine.dispose()
            finally:
                if drop:
                    drop()
    write_page(Path(args.out), args, results)
    return 0


def write_page(out: Path, args, results) -> None:
    lines = ["# Staff search and the staff pages of issue 15b", "",
             f"Machine: {machine()} (shared with other work while measuring: read the ratios more than the "
             "absolute figures).", "",
             "Method: reports in Amsterdam over two years with BAG-like addresses (40 streets), Dutch descriptions "
             "(a few common problems, many rarer, one in a thousand with a rare word), 10,000 of them open in one "
             "department. `search_reports` as the staff page calls it: scope of a department head "
             "(`scope_reports`), the count capped at 1,000 and the first page of 50, newest first. Baseline, in the "
             "same run: the same query as an ILIKE over the same text with the index made unusable. "
             f"{args.runs} searches per kind (baseline: {args.baseline_runs}). Page times: Flask's test client "
             "(routing, queries, templates; no network), signed in.", ""]
    for name, n, insert_s, index_s, searches, pages in results:
        lines.append(f"## {name}: {n:,} reports")
        lines.append("")
        built = f"inserted in {insert_s:.0f} s, " + (
            f"trigram GIN index built in {index_s:.0f} s" if name == "PostGIS" else
            f"FTS5 trigram table rebuilt in {index_s:.0f} s (then kept by triggers)")
        lines.append(f"Data {built}.")
        lines.append("")
        lines.append("| search | p50 (ms) | p99 (ms) | hits (median, capped at 1,000) | unindexed ILIKE p50 (ms) | ratio |")
        lines.append("|---|---:|---:|---:|---:|---:|")
        for label, p50, p99, hits, base in searches:
            lines.append(f"| {label} | {p50:.1f} | {p99:.1f} | {hits:,.0f} | {base:.0f} | {base / p50:.0f}× |")
        lines.append("")
        lines.append("| staff page (server time) | p50 (ms) | p99 (ms) |")
        lines.append("|---|---:|---:|")
        for label, p50, p99 in pages:
            lines.append(f"| {label} | {p50:.1f} | {p99:.1f} |")
        lines.append("")
    lines.append("Command: `MELDINGEN_BENCH_PG_URL=postgresql+psycopg://postgres@127.0.0.1/postgres "
                 f".venv/bin/python bench/bench_search.py --reports {args.reports}"
                 + (f" --sqlite-reports {args.sqlite_reports}" if args.sqlite_reports else "")
                 + f" --runs {args.runs} --baseline-runs {args.baseline_runs}`")
    lines.append("")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
