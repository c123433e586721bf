"""`make bench`: run every bench/bench_*.py in turn; each writes its own page under docs/perf/."""

import runpy
import sys
from pathlib import Path

for script in sorted(Path(__file__).resolve().parent.glob("bench_*.py")):
    print(f"== {script.name}", file=sys.stderr)
    sys.argv = [str(script)]
    runpy.run_path(str(script), run_name="__main__")
