# Meldingen: the two set-up commands are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PORT ?= 5000

.PHONY: install run test lint mypy-baseline bench system-deps demo-data clean

# SpatiaLite cannot come from pip; install it with apt where we may, else say exactly what is missing.
system-deps:
	@$(PYTHON) -c "import ctypes.util,sys; sys.exit(0 if ctypes.util.find_library('spatialite') or __import__('os').path.exists('/usr/lib/x86_64-linux-gnu/mod_spatialite.so') or __import__('os').path.exists('/usr/lib/aarch64-linux-gnu/mod_spatialite.so') else 1)" 2>/dev/null \
	|| { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	       apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libsqlite3-mod-spatialite; \
	     else \
	       echo "SpatiaLite is missing: install it with 'sudo apt-get install libsqlite3-mod-spatialite' (Debian/Ubuntu)"; \
	       echo "or 'brew install libspatialite' (macOS), then run make again."; exit 1; \
	     fi; }

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[dev]'
	touch $@

install: system-deps $(VENV)/.installed

run: install
	$(VENV)/bin/meldingen db upgrade
	$(VENV)/bin/meldingen load-sample-data
	PORT=$(PORT) $(PY) -m meldingen.demo
	$(PY) -m meldingen.serve --host 127.0.0.1 --port $(PORT) --threads 8

# Two parts: the tests on the app in parallel (pytest-xdist, one worker per core), then the tests that start
# servers, workers and browsers of their own, alone, so nothing competes with their time-bounded waits.
test: install
	$(PY) -m pytest -q -n auto -m "not processes"
	$(PY) -m pytest -q -m processes

# The house rules: ruff clean, mypy no worse than its baseline, the import contracts of pyproject.toml kept.
lint: install
	$(VENV)/bin/ruff check meldingen tests bench migrations wsgi.py
	$(VENV)/bin/mypy 2>/dev/null | $(VENV)/bin/mypy-baseline filter --baseline-path mypy-baseline.txt --no-colors --hide-stats
	$(VENV)/bin/lint-imports

# After fixing type errors: write the smaller baseline (it may only shrink; review the diff).
mypy-baseline: install
	$(VENV)/bin/mypy 2>/dev/null | $(VENV)/bin/mypy-baseline sync --baseline-path mypy-baseline.txt

bench: install
	$(PY) -m bench

# Issue 20's house measurements of this tree (package cycles, commit() placement, platform branches outside
# channels/, ruff and mypy counts, the two traced walks): a Markdown table; docs/perf/house.md says what is counted.
# Uses the existing .venv (no install step); e.g. `make house PY=/work/main/.venv/bin/python HOUSE_ARGS="--json out.json"`.
HOUSE_ARGS ?=
.PHONY: house
house:
	PYTHONPATH=$(CURDIR) $(PY) bench/house.py --root $(CURDIR) $(HOUSE_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
