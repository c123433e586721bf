"""The counting rules of bench/house.py (issue 20's measurements), on a tiny package made in tmp_path."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path

import pytest

HOUSE_PATH = Path(__file__).resolve().parents[1] / "bench" / "house.py"


@pytest.fixture(scope="module")
def house():
    spec = importlib.util.spec_from_file_location("house_under_test", HOUSE_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def write(root: Path, files: dict[str, str]) -> Path:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    return root / "meldingen"


@pytest.fixture
def package(tmp_path) -> Path:
    return write(tmp_path, {
        "meldingen/__init__.py": "def create_app():\n    from meldingen import web\n",
        "meldingen/db.py": "",
        # A module-level cycle, one side through a relative import: reports ↔ notify.
        "meldingen/reports/__init__.py": "",
        "meldingen/reports/services.py": """
            from meldingen.notify import sender
            from meldingen.db import thing

            def create(session):
                session.commit()
                session.flush()
                session.commit()
            """,
        "meldingen/reports/tasks.py": "def run(db):\n    db.session.commit()\n",
        "meldingen/notify/__init__.py": "",
        "meldingen/notify/sender.py": '''
            """Mentions "whatsapp" in prose only: not a branch."""
            from ..reports import services
            PACING = {"whatsapp": 6.0, "telegram": 1.0}

            def send(kind, registry):
                if kind == "whatsapp":
                    return 1
                if kind in ("telegram", "twilio"):
                    return registry.get("telegram")
                if kind == "other":
                    return 3
            ''',
        # A cycle only through an import inside a function: web → staff → web.
        "meldingen/web/__init__.py": "from meldingen.staff import views\n",
        "meldingen/staff/__init__.py": "",
        "meldingen/staff/views.py": """
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                from meldingen.geo import Point

            def page(db):
                from meldingen.web import limits
                db.session.commit()
            """,
        "meldingen/geo/__init__.py": "from meldingen.staff import views\n",
        "meldingen/api/__init__.py": "",
        "meldingen/api/reports.py": "def post(db):\n    db.session.commit()\n",
        # Inside channels/: platform branches are where they belong and are not counted.
        "meldingen/channels/__init__.py": "",
        "meldingen/channels/whatsapp.py": "def ok(kind):\n    return kind == 'whatsapp'\n",
    })


def test_cycles_are_the_strongly_connected_packages_with_and_without_function_imports(house, package):
    figures = house.cycle_figures(package)
    assert figures["module_level"]["members"] == [["meldingen.notify", "meldingen.reports"]]
    with_functions = figures["with_functions"]["members"]
    # create_app's import of web joins the root package to nothing (web does not import it back), but
    # staff/views.py's import of web inside a function closes web → staff → web.
    assert ["meldingen.staff", "meldingen.web"] in with_functions
    assert ["meldingen.notify", "meldingen.reports"] in with_functions
    assert figures["with_functions"]["components"] == 2
    # The TYPE_CHECKING-only import of geo closes geo → staff → geo only when such imports count.
    assert ["meldingen.geo", "meldingen.staff", "meldingen.web"] in figures["all"]["members"]
    assert "meldingen.db" in house.package_graphs(package)["module_level"]["meldingen.reports"]


def test_a_relative_import_resolves_to_its_package(house, package):
    graph = house.package_graphs(package)["module_level"]
    assert graph["meldingen.notify"] == {"meldingen.reports"}


def test_commits_are_counted_per_module_and_split_into_domain_and_entry_points(house, package):
    figures = house.commit_figures(package)
    assert figures["domain"] == {"reports/services.py": 2}
    assert figures["entry"] == {"api/reports.py": 1, "reports/tasks.py": 1, "staff/views.py": 1}
    assert (figures["domain_total"], figures["domain_modules"], figures["entry_total"]) == (2, 1, 3)


@pytest.mark.parametrize("relative, entry", [
    ("cli.py", True), ("privacy/cli.py", True), ("notify/tasks.py", True), ("audit/views.py", True),
    ("staff/views/crew.py", True), ("api/reports.py", True), ("web/health.py", True), ("jobs/worker.py", True),
    ("__init__.py", True), ("reports/services.py", False), ("reports/__init__.py", False),
    ("staff/report_actions.py", False), ("db.py", False)])
def test_entry_point_patterns(house, relative, entry):
    assert house.is_entry_point(relative) is entry


def test_platform_branches_outside_channels_are_found_and_prose_is_not(house, package):
    figures = house.platform_figures(package)
    assert figures["per_file"] == {"notify/sender.py": 4}
    assert figures["by_kind"] == {"table": 1, "comparison": 2, "lookup": 1}
    assert (figures["total"], figures["files"]) == (4, 1)


def test_a_literal_set_compared_with_counts_once_and_a_set_of_platforms_is_a_table(house):
    import ast

    tree = ast.parse("if kind in {'whatsapp', 'twilio'}:\n    pass\nRECEIPTS = frozenset({'whatsapp'})\n"
                     "name = NAMES['telegram']\n")
    assert house.platform_branches(tree) == [(1, "comparison"), (3, "table"), (4, "lookup")]


def test_the_trace_counts_files_hops_indirect_hops_and_chain_depth(house, tmp_path):
    package = write(tmp_path, {
        "meldingen/entry.py": """
            import json
            from helper import double, hook

            def main():
                total = double(2) + double(3)
                return total, json.loads('{"a": 1}', object_hook=hook)
            """,
        "meldingen/helper.py": """
            from deep import leaf

            def double(x):
                return leaf(x) * 2

            def hook(value):
                return value
            """,
        "meldingen/deep.py": "def leaf(x):\n    return x\n",
    })
    sys.path.insert(0, str(package))
    try:
        spec = importlib.util.spec_from_file_location("house_entry", package / "entry.py")
        entry = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(entry)
        with house.Trace(str(package.resolve()) + "/") as trace:
            assert entry.main() == (10, {"a": 1})
    finally:
        sys.path.remove(str(package))
        for name in ("helper", "deep"):
            sys.modules.pop(name, None)
    figures = trace.figures(tmp_path.resolve())
    assert figures["file_list"] == ["meldingen/deep.py", "meldingen/entry.py", "meldingen/helper.py"]
    # main → double twice, double → leaf twice, main → (json's own frames) → hook once: 5 hops, 1 indirect.
    assert (figures["calls"], figures["hops"], figures["indirect_hops"]) == (6, 5, 1)
    assert figures["distinct_cross_file_edges"] == 3 and figures["distinct_indirect_edges"] == 1
    assert figures["max_chain_depth"] == 3
    assert figures["longest_chain"] == ["meldingen/entry.py", "meldingen/helper.py", "meldingen/deep.py"]
