"""`make bench`: run every bench/bench_*.py in turn (each writes its page under docs/perf/), then gather the
pages into docs/PERFORMANCE.md.

`python -m bench compile` only gathers; `python -m bench geo webhooks` runs the named benches.
PostGIS figures need a server: MELDINGEN_BENCH_PG_URL (default: the local PostgreSQL, when it answers).
"""

import os
import runpy
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.common import machine  # noqa: E402

DOCS = HERE.parent / "docs"


def default_pg_url() -> None:
    if os.environ.get("MELDINGEN_BENCH_PG_URL"):
        return
    ok = subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"], check=False).returncode == 0 if _has("pg_isready") else False
    if ok:
        os.environ["MELDINGEN_BENCH_PG_URL"] = "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/postgres"


def _has(command: str) -> bool:
    from shutil import which

    return which(command) is not None


def compile_performance() -> Path:
    pages = sorted((DOCS / "perf").glob("*.md"))
    parts = [
        "# Performance\n",
        "Measured, not asserted: every figure below comes from a script in `bench/`, run by `make bench`, with a "
        "baseline measured in the same run. Each section is written by its script (`docs/perf/<name>.md`) and "
        "gathered here by `python -m bench compile`.\n",
        f"Machine of the last compile: {machine()}.\n",
        "Sections: " + ", ".join(f"[{p.stem}](perf/{p.name})" for p in pages) + ". The point → areas benchmark "
        "of the foundation is part of the geo section (areas, address and asset per lookup, against an in-memory "
        "STRtree baseline).\n",
    ]
    for page in pages:
        parts.append(f"\n<!-- from docs/perf/{page.name} -->\n")
        parts.append(page.read_text(encoding="utf-8").strip() + "\n")
    target = DOCS / "PERFORMANCE.md"
    target.write_text("\n".join(parts), encoding="utf-8")
    return target


def main(args: list[str]) -> None:
    if args == ["compile"]:
        print(compile_performance())
        return
    default_pg_url()
    scripts = sorted(HERE.glob("bench_*.py"))
    if args:
        scripts = [s for s in scripts if any(s.stem == f"bench_{a}" or s.stem == a for a in args)]
    failed = []
    for script in scripts:
        print(f"== {script.name}", file=sys.stderr, flush=True)
        sys.argv = [str(script)]
        try:
            runpy.run_path(str(script), run_name="__main__")
        except SystemExit as exc:
            if exc.code not in (0, None):
                failed.append(script.name)
        except Exception as exc:  # one broken bench must not hide the others' figures
            print(f"!! {script.name} failed: {exc!r}", file=sys.stderr)
            failed.append(script.name)
    print(compile_performance())
    if failed:
        sys.exit(f"benches that failed: {', '.join(failed)}")


if __name__ == "__main__":
    main(sys.argv[1:])
