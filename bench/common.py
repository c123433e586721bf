"""What every benchmark shares: a line describing the machine, the head of a page, a throw-away PostGIS database."""

from __future__ import annotations

import os
import platform
from datetime import date
from pathlib import Path


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def page_head(title: str, command: str, load_average: tuple, smoke: str | None = None) -> list[str]:
    """The first lines of a docs/perf page: title, a warning when `smoke` says the run was too small to measure,
    the machine, the date, the exact command, and the load average before and after the run."""
    lines = [f"## {title}", ""]
    if smoke:
        lines += [f"**Smoke run** ({smoke}): it shows that the bench works; the figures are not measurements.", ""]
    return lines + [f"Machine: {machine()}. Measured {date.today().isoformat()} with `{command}`. Load average "
                    f"(1 min) before {load_average[0][0]:.1f}, after {load_average[1][0]:.1f}.", ""]


def write_page(path: Path, lines: list[str], command: str) -> None:
    """Write a docs/perf page, ending with how to make it again."""
    lines = [*lines, "", f"Reproduce: `{command}` (or `make bench`).", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {path}")


def postgres_database(admin_url: str, prefix: str = "meldingen_bench"):
    """A new database with PostGIS on the server of `admin_url`: (its URL, a function that drops it)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(admin_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"{prefix}_{os.getpid()}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    bench_url = url.set(database=name).render_as_string(hide_password=False)
    engine = create_engine(bench_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    engine.dispose()

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return bench_url, drop
