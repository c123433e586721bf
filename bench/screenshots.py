"""Screenshots of the main staff pages for the README: runs the browser tests with MELDINGEN_SCREENSHOT_DIR set.

    .venv/bin/python bench/screenshots.py            # writes docs/screenshots/*.png
    .venv/bin/python bench/screenshots.py --out DIR

Needs Debian's /usr/bin/chromium and the Playwright Python package (no `playwright install`).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = parser.parse_args(argv)
    env = dict(os.environ, MELDINGEN_SCREENSHOT_DIR=str(Path(args.out).resolve()))
    env.pop("MELDINGEN_TEST_DATABASE_URL", None)  # one run is enough: SQLite
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "browser",
               str(ROOT / "tests" / "test_staff_browser.py"), str(ROOT / "tests" / "test_staff_browser_worklists.py"),
               str(ROOT / "tests" / "test_staff_pages_browser.py")]
    result = subprocess.run(command, cwd=ROOT, env=env)
    if result.returncode == 0:
        for path in sorted(Path(args.out).glob("*.png")):
            print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
