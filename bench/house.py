"""The house measurements of issue 20, taken the same way on any checkout of Meldingen.

This module decides what counts as a package cycle, a domain `commit()`, a platform branch outside
`channels/`, a lint finding, and a file or a hop of the two traced walks; it prints one Markdown table and,
with `--json`, writes the same figures as JSON.

    PYTHONPATH=<tree> /work/main/.venv/bin/python bench/house.py --root <tree> [--json out.json]
        [--skip-lint] [--skip-walks] [--details]

1. Package cycles: an own AST walk (not grimp) over `<root>/meldingen/**/*.py`. A node is a first-level part of
   `meldingen` (`meldingen.api`, `meldingen.reports`, and top-level modules such as `meldingen.db`;
   `meldingen/__init__.py` is the node `meldingen`). Edges come from `import` and `from … import` statements
   (relative ones resolved), (a) at module level only (class bodies and top-level `if`/`try` included), and
   (b) anywhere, imports inside functions too. Imports under `if TYPE_CHECKING:` are left out of both (they do
   not run), and counted in (c). Strings handed to `importlib` are not imports. Cycles are the strongly
   connected components with more than one node (Tarjan).
2. `commit()` calls: every call `<anything>.commit(…)` in `meldingen/`, by module; a module is an entry point
   when its path matches `ENTRY_POINT_PATTERNS`, else domain.
3. Platform branches outside `meldingen/channels/`: a comparison (`==`, `!=`, `in`, `not in`) with a platform
   name (`PLATFORMS`) or a tuple/list/set of them as a literal operand; a `match` case on one; a subscript, or a
   call whose first argument is a platform name literal (`.get("whatsapp")`, `channel_by_id("twilio", …)`); a
   dict literal with a platform name as a key, or a set literal holding one (a per-platform table, such as
   `frozenset({"whatsapp"})`). Each such expression counts once.
4. ruff (`check --isolated`, its defaults; and the project's own configuration when the tree has one) and mypy
   (`--ignore-missing-imports`; and the project's configuration when the tree has one) counts.
5. The two walks, traced in-process with `sys.setprofile` on a test app (SpatiaLite database built with the
   public CLI `db upgrade` and `load-sample-data`, sync jobs backend, the platform faked on loopback by
   `tests/fake_platforms.py`), driven only through the public HTTP interface and CLI:
   (a) a signed WhatsApp photo, then a location, then a text → the reply with the reference sent on the
   platform; (b) `POST /api/v1/reports/{reference}/status` "done" with a `resident_message` on a report
   followed by three residents (merged duplicates) → each of them sent the message on WhatsApp.
   Each walk runs once untraced first (warm caches, lazy imports, the classifier), then traced.
   Counted: every call into a function defined in a `meldingen/` file. Its caller is the nearest `meldingen/`
   frame on the stack; a hop is a call whose caller is in another file; a hop is "indirect" when library frames
   (Flask, SQLAlchemy, blinker, …) stand between the two (what go-to-definition does not show). The chain depth
   is the largest number of file changes plus one along one stack of `meldingen/` frames.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PACKAGE = "meldingen"
PLATFORMS = frozenset({"whatsapp", "telegram", "twilio", "webchat", "messenger", "signal", "sms"})
ENTRY_POINT_PATTERNS = ("cli.py", "*/cli.py", "*/tasks.py", "*/views.py", "staff/views/*", "api/*",
                        "open311/views.py", "web/*", "jobs/*", "__init__.py", "wsgi.py")
VENV_BIN = Path(sys.executable).parent


# --- the source files ---------------------------------------------------------------------------------------

def python_files(package_dir: Path) -> Iterator[Path]:
    for path in sorted(package_dir.rglob("*.py")):
        if "__pycache__" not in path.parts:
            yield path


def module_name(package_dir: Path, path: Path, package: str = PACKAGE) -> str:
    parts = list(path.relative_to(package_dir).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([package, *parts])


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


# --- 1. package cycles --------------------------------------------------------------------------------------

@dataclass
class FoundImport:
    target: str  # absolute dotted module name, or "package.name" for `from package import name`
    in_function: bool
    type_checking: bool


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(tree: ast.Module, module: str, is_package: bool) -> list[FoundImport]:
    """Every import statement of a module, resolved to absolute names, with where it stands."""
    found: list[FoundImport] = []

    def resolve(node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
        return ".".join(base + ([node.module] if node.module else []))

    def visit(node: ast.AST, in_function: bool, type_checking: bool) -> None:
        if isinstance(node, ast.Import):
            found.extend(FoundImport(alias.name, in_function, type_checking) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = resolve(node)
            for alias in node.names:
                found.append(FoundImport(f"{base}.{alias.name}" if alias.name != "*" else base, in_function,
                                         type_checking))
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            for statement in node.body:
                visit(statement, in_function, True)
            for statement in node.orelse:
                visit(statement, in_function, type_checking)
            return
        inner = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        for child in ast.iter_child_nodes(node):
            visit(child, inner, type_checking)

    visit(tree, False, False)
    return found


def node_of(name: str, package_dir: Path, package: str = PACKAGE) -> str | None:
    """The graph node of an imported name: `package.<first level>` when that is a module or package of ours,
    `package` itself for names defined in its `__init__`, None for anything outside."""
    parts = name.split(".")
    if parts[0] != package:
        return None
    if len(parts) == 1:
        return package
    first = parts[1]
    if (package_dir / first).is_dir() or (package_dir / f"{first}.py").is_file():
        return f"{package}.{first}"
    return package


def package_graphs(package_dir: Path, package: str = PACKAGE) -> dict[str, dict[str, set[str]]]:
    """Edges node → nodes for: "module_level", "with_functions" (both without TYPE_CHECKING-only imports) and
    "all" (TYPE_CHECKING imports too)."""
    graphs: dict[str, dict[str, set[str]]] = {"module_level": defaultdict(set), "with_functions": defaultdict(set),
                                               "all": defaultdict(set)}
    for path in python_files(package_dir):
        module = module_name(package_dir, path, package)
        source = node_of(module, package_dir, package) or package
        for graph in graphs.values():
            graph.setdefault(source, set())
        for found in imports_of(parse(path), module, path.name == "__init__.py"):
            target = node_of(found.target, package_dir, package)
            if target is None or target == source:
                continue
            graphs["all"][source].add(target)
            if found.type_checking:
                continue
            graphs["with_functions"][source].add(target)
            if not found.in_function:
                graphs["module_level"][source].add(target)
    return {name: dict(graph) for name, graph in graphs.items()}


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one node, largest first, members sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0
    nodes = set(graph) | {t for targets in graph.values() for t in targets}

    def connect(start: str) -> None:  # iterative, so deep graphs do not hit the recursion limit
        nonlocal counter
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                members = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.append(member)
                    if member == node:
                        break
                if len(members) > 1:
                    components.append(sorted(members))

    for node in sorted(nodes):
        if node not in index:
            connect(node)
    return sorted(components, key=lambda c: (-len(c), c))


def cycle_figures(package_dir: Path, package: str = PACKAGE) -> dict[str, Any]:
    graphs = package_graphs(package_dir, package)
    out: dict[str, Any] = {}
    for name, graph in graphs.items():
        components = strongly_connected(graph)
        nodes = set(graph) | {t for targets in graph.values() for t in targets}
        out[name] = {"nodes": len(nodes), "edges": sum(len(t) for t in graph.values()),
                     "components": len(components), "sizes": [len(c) for c in components],
                     "in_cycles": sum(len(c) for c in components), "members": components}
    return out


# --- 2. commit() calls --------------------------------------------------------------------------------------

def is_entry_point(relative: str) -> bool:
    """`relative` is the path under the package directory, with forward slashes (e.g. `staff/views/crew.py`)."""
    return any(fnmatch.fnmatchcase(relative, pattern) for pattern in ENTRY_POINT_PATTERNS)


def commit_calls(tree: ast.AST) -> int:
    return sum(1 for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
               and node.func.attr == "commit")


def commit_figures(package_dir: Path) -> dict[str, Any]:
    domain: dict[str, int] = {}
    entry: dict[str, int] = {}
    for path in python_files(package_dir):
        relative = path.relative_to(package_dir).as_posix()
        count = commit_calls(parse(path))
        if count:
            (entry if is_entry_point(relative) else domain)[relative] = count
    return {"domain_total": sum(domain.values()), "domain_modules": len(domain),
            "entry_total": sum(entry.values()), "entry_modules": len(entry),
            "domain": dict(sorted(domain.items(), key=lambda kv: (-kv[1], kv[0]))),
            "entry": dict(sorted(entry.items(), key=lambda kv: (-kv[1], kv[0])))}


# --- 3. platform branches outside channels/ -----------------------------------------------------------------

def _platform_literal(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.lower() in PLATFORMS


def _platform_operand(node: ast.AST) -> bool:
    if _platform_literal(node):
        return True
    return isinstance(node, (ast.Tuple, ast.List, ast.Set)) and any(_platform_literal(e) for e in node.elts)


def platform_branches(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, kind) of every expression that branches on, looks up or tabulates a platform by its name."""
    found: list[tuple[int, str]] = []
    operands = {id(side) for node in ast.walk(tree) if isinstance(node, ast.Compare)
                for side in [node.left, *node.comparators]}
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            if any(isinstance(op, (ast.Eq, ast.NotEq, ast.In, ast.NotIn)) for op in node.ops) and any(
                    _platform_operand(side) for side in [node.left, *node.comparators]):
                found.append((node.lineno, "comparison"))
        elif isinstance(node, ast.MatchValue) and _platform_literal(node.value):
            found.append((node.value.lineno, "match case"))
        elif isinstance(node, ast.Subscript) and _platform_literal(node.slice):
            found.append((node.lineno, "lookup"))
        elif isinstance(node, ast.Call) and node.args and _platform_literal(node.args[0]):
            found.append((node.lineno, "lookup"))  # `.get("whatsapp")`, `channel_by_id("twilio", …)`
        elif id(node) in operands:
            continue  # a literal set or tuple compared with: counted with its comparison
        elif isinstance(node, ast.Dict) and any(k is not None and _platform_literal(k) for k in node.keys):
            found.append((node.lineno, "table"))  # per-platform settings or dispatch
        elif isinstance(node, ast.Set) and any(_platform_literal(e) for e in node.elts):
            found.append((node.lineno, "table"))  # the platforms that have some behaviour
    return sorted(found)


def platform_figures(package_dir: Path) -> dict[str, Any]:
    files: dict[str, list[tuple[int, str]]] = {}
    for path in python_files(package_dir):
        relative = path.relative_to(package_dir).as_posix()
        if relative.startswith("channels/"):
            continue
        branches = platform_branches(parse(path))
        if branches:
            files[relative] = branches
    kinds = Counter(kind for branches in files.values() for _line, kind in branches)
    return {"total": sum(len(b) for b in files.values()), "files": len(files), "by_kind": dict(kinds),
            "per_file": {f: len(b) for f, b in sorted(files.items(), key=lambda kv: (-len(kv[1]), kv[0]))},
            "lines": {f: [line for line, _kind in b] for f, b in sorted(files.items())}}


# --- 4. ruff and mypy ---------------------------------------------------------------------------------------

def _has_ruff_config(root: Path) -> bool:
    pyproject = root / "pyproject.toml"
    return (root / "ruff.toml").is_file() or (root / ".ruff.toml").is_file() or (
        pyproject.is_file() and "[tool.ruff" in pyproject.read_text(encoding="utf-8"))


def _has_mypy_config(root: Path) -> bool:
    pyproject, setup_cfg = root / "pyproject.toml", root / "setup.cfg"
    return (root / "mypy.ini").is_file() or (root / ".mypy.ini").is_file() or (
        pyproject.is_file() and "[tool.mypy" in pyproject.read_text(encoding="utf-8")) or (
        setup_cfg.is_file() and "[mypy" in setup_cfg.read_text(encoding="utf-8"))


def ruff_count(root: Path, paths: list[str], isolated: bool) -> int:
    command = [str(VENV_BIN / "ruff"), "check", "--no-cache", "--output-format", "json", "--exit-zero"]
    command += ["--isolated"] if isolated else []
    result = subprocess.run(command + paths, cwd=root, capture_output=True, text=True, check=False)
    return len(json.loads(result.stdout or "[]"))


MYPY_FOUND = re.compile(r"Found (\d+) errors? in (\d+) files?")


def mypy_count(root: Path, project_config: bool) -> dict[str, int]:
    cache = Path(tempfile.gettempdir()) / f"house-mypy-{hashlib.sha1(str(root).encode()).hexdigest()[:10]}"
    command = [str(VENV_BIN / "mypy"), "meldingen", "--cache-dir", str(cache), "--no-error-summary",
               "--hide-error-context", "--no-pretty"]
    if not project_config:
        command += ["--config-file", os.devnull, "--ignore-missing-imports"]
    env = {**os.environ, "MYPYPATH": ""}
    result = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False, env=env)
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    return {"errors": len(errors), "files": len({line.split(":", 1)[0] for line in errors})}


def lint_figures(root: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"ruff_defaults_meldingen": ruff_count(root, ["meldingen"], isolated=True),
                           "ruff_defaults_tree": ruff_count(root, ["."], isolated=True),
                           "mypy_defaults": mypy_count(root, project_config=False)}
    if _has_ruff_config(root):
        out["ruff_project_meldingen"] = ruff_count(root, ["meldingen"], isolated=False)
    if _has_mypy_config(root):
        out["mypy_project"] = mypy_count(root, project_config=True)
    return out


# --- 5. the two walks, traced -------------------------------------------------------------------------------

@dataclass
class _Frame:
    file: str
    depth: int  # file changes plus one along the meldingen frames of this stack
    chain: tuple[str, ...]


@dataclass
class Trace:
    """Calls into functions defined in files under `prefix` (a directory path ending in a separator)."""

    prefix: str
    calls: int = 0
    hops: int = 0
    indirect_hops: int = 0
    max_depth: int = 0
    longest_chain: tuple[str, ...] = ()
    files: Counter = field(default_factory=Counter)
    edges: set = field(default_factory=set)
    functions: set = field(default_factory=set)
    live: dict = field(default_factory=dict)

    def profile(self, frame, event: str, _arg) -> None:
        if event == "call":
            filename = frame.f_code.co_filename
            if not filename.startswith(self.prefix):
                return
            self.calls += 1
            name = frame.f_code.co_qualname
            self.files[filename] += 1
            self.functions.add((filename, name))
            parent_frame, direct = frame.f_back, True
            parent = None
            while parent_frame is not None:
                parent = self.live.get(id(parent_frame))
                if parent is not None:
                    break
                parent_frame, direct = parent_frame.f_back, False
            if parent is None:
                record = _Frame(filename, 1, (filename,))
            elif parent.file != filename:
                self.hops += 1
                self.indirect_hops += 0 if direct else 1
                self.edges.add((parent.file, parent_frame.f_code.co_qualname, filename, name, direct))
                record = _Frame(filename, parent.depth + 1, parent.chain + (filename,))
            else:
                record = parent
            self.live[id(frame)] = record
            if record.depth > self.max_depth:
                self.max_depth, self.longest_chain = record.depth, record.chain
        elif event == "return":
            self.live.pop(id(frame), None)

    def __enter__(self) -> Trace:
        import threading

        threading.setprofile(self.profile)
        sys.setprofile(self.profile)
        return self

    def __exit__(self, *_exc) -> None:
        import threading

        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]
        self.live.clear()

    def figures(self, root: Path) -> dict[str, Any]:
        def short(path: str) -> str:
            return Path(path).relative_to(root).as_posix()

        return {"files": len(self.files), "hops": self.hops, "indirect_hops": self.indirect_hops,
                "distinct_cross_file_edges": len({e[:4] for e in self.edges}),
                "distinct_indirect_edges": len({e[:4] for e in self.edges if not e[4]}),
                "calls": self.calls, "functions": len(self.functions), "max_chain_depth": self.max_depth,
                "longest_chain": [short(f) for f in self.longest_chain],
                "file_list": sorted(short(f) for f in self.files),
                "edges": sorted({f"{short(e[0])}:{e[1]} -> {short(e[2])}:{e[3]}" for e in self.edges}),
                "indirect_edges": sorted({f"{short(e[0])}:{e[1]} -> {short(e[2])}:{e[3]}" for e in self.edges
                                          if not e[4]})}


WA_SECRET, WA_PHONE_ID, WA_GRAPH_PATH = "house-wa-secret", "1098765", "/v21.0"
AMSTERDAM = (52.3877221, 4.8925727)  # Westerdoksdijk 40A, in the sample data's GM0363
ELSEWHERE = (52.3700, 4.9000)  # Amsterdam centre, far enough not to be a duplicate of the above
REFERENCE = re.compile(r"\bM-[A-Z0-9]{4,}\b")


class WalkFailed(RuntimeError):
    pass


class Harness:
    """A test app on a fresh SpatiaLite database, WhatsApp faked on loopback, driven through HTTP and the CLI."""

    def __init__(self, root: Path, workdir: Path):
        sys.path[:0] = [str(root), str(root / "tests")]
        import meldingen

        if not Path(meldingen.__file__).resolve().is_relative_to(root.resolve()):
            raise WalkFailed(f"meldingen imported from {meldingen.__file__}, not from {root}: set PYTHONPATH")
        from fake_platforms import jpeg_bytes, start_fake_platform
        from werkzeug.wrappers import Response

        self.root, self.Response, self.jpeg_bytes = root, Response, jpeg_bytes
        self.fake, self.stop_fake = start_fake_platform()
        self._ids = iter(range(1, 10**6))
        counter = iter(range(1, 10**6))
        self.fake.route("POST", f"{WA_GRAPH_PATH}/{WA_PHONE_ID}/messages")(lambda r: Response(json.dumps(
            {"messaging_product": "whatsapp", "messages": [{"id": f"wamid.OUT{next(counter)}"}]}),
            content_type="application/json"))
        config = self._config(workdir)
        from meldingen import create_app

        self.app = create_app(config)
        runner = self.app.test_cli_runner()
        for args in (["db", "upgrade"], ["load-sample-data"]):
            result = runner.invoke(args=args)
            if result.exit_code != 0:
                raise WalkFailed(f"meldingen {' '.join(args)}: {result.output} {result.exception!r}")
        email = "house-head@gm0363.test"
        result = runner.invoke(args=["staff", "create", email, "--role", "head", "--organisation", "GM0363",
                                     "--password-stdin"], input="correct horse battery\n")
        if result.exit_code != 0:
            raise WalkFailed(f"staff create: {result.output}")
        token = runner.invoke(args=["staff", "token", email]).output.strip().splitlines()[-1]
        self.api_headers = {"Authorization": f"Bearer {token}"}
        self.client = self.app.test_client()

    def _config(self, workdir: Path) -> dict:
        try:
            from conftest import base_config  # the tests' own app configuration, when the tree has it

            config = base_config(workdir, f"sqlite:///{workdir / 'house.sqlite'}")
        except Exception:  # no conftest, another signature, or one that refuses to load here (CI without PostGIS)
            config = {"TESTING": True, "DATABASE_URL": f"sqlite:///{workdir / 'house.sqlite'}",
                      "SECRET_KEY": "house", "MEDIA_DIR": str(workdir / "media"), "JOBS_BACKEND": "sync",
                      "JOBS_RAISE": True, "GEOCODER_URL": "off", "RATELIMIT_ENABLED": False,
                      "WTF_CSRF_ENABLED": False, "INTAKE_QUIET_SECONDS": 0, "TILE_URL": "",
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}
        config["CLASSIFIER_MODEL_PATH"] = str(workdir / "classifier" / "model.joblib")
        config.update({"WHATSAPP_APP_SECRET": WA_SECRET, "WHATSAPP_VERIFY_TOKEN": "verify",
                       "WHATSAPP_ACCESS_TOKEN": "wa-token", "WHATSAPP_PHONE_NUMBER_ID": WA_PHONE_ID,
                       "WHATSAPP_GRAPH_URL": f"{self.fake.url}{WA_GRAPH_PATH}",
                       "PUBLIC_URL": "https://meldingen.example.nl",
                       "NOTIFY_PACING_SECONDS": {"whatsapp": 0, "telegram": 0, "twilio": 0}})
        return config

    # WhatsApp Cloud API webhooks, signed as Meta signs them (X-Hub-Signature-256 over the raw body).
    def deliver(self, user: str, message: dict) -> None:
        message = {"from": user, "id": f"wamid.HOUSE{next(self._ids)}", "timestamp": str(int(time.time())),
                   **message}
        body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{
            "field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "3197010251234", "phone_number_id": WA_PHONE_ID},
                "contacts": [{"profile": {"name": "Bewoner"}, "wa_id": user}], "messages": [message]}}]}]}).encode()
        signature = "sha256=" + hmac.new(WA_SECRET.encode(), body, hashlib.sha256).hexdigest()
        response = self.client.post("/webhooks/whatsapp", data=body, content_type="application/json",
                                    headers={"X-Hub-Signature-256": signature})
        if response.status_code != 200:
            raise WalkFailed(f"webhook answered {response.status_code}: {response.data[:200]!r}")

    def send_photo(self, user: str) -> None:
        media_id = f"MEDIA{next(self._ids)}"
        photo = self.jpeg_bytes()
        self.fake.route("GET", f"{WA_GRAPH_PATH}/{media_id}")(lambda r: self.Response(json.dumps(
            {"url": f"{self.fake.url}/lookaside/{media_id}", "mime_type": "image/jpeg", "id": media_id}),
            content_type="application/json"))
        self.fake.route("GET", f"/lookaside/{media_id}")(lambda r: self.Response(photo, content_type="image/jpeg"))
        self.deliver(user, {"type": "image", "image": {"id": media_id, "mime_type": "image/jpeg"}})

    def send_location(self, user: str, point: tuple[float, float]) -> None:
        self.deliver(user, {"type": "location", "location": {"latitude": point[0], "longitude": point[1]}})

    def send_text(self, user: str, text: str) -> None:
        self.deliver(user, {"type": "text", "text": {"body": text}})

    def replies_to(self, user: str) -> list[str]:
        out = []
        for seen in self.fake.seen:
            if seen.method != "POST" or seen.path != f"{WA_GRAPH_PATH}/{WA_PHONE_ID}/messages":
                continue
            body = json.loads(seen.body)
            if body.get("to") != user or body.get("status") == "read":
                continue
            out.append(json.dumps(body, ensure_ascii=False))
        return out

    def report_by_chat(self, user: str, point: tuple[float, float], text: str) -> str:
        """Photo, location, text from one resident; the reference the platform was sent."""
        self.send_photo(user)
        self.send_location(user, point)
        self.send_text(user, text)
        for reply in reversed(self.replies_to(user)):
            found = REFERENCE.search(reply)
            if found:
                return found.group(0)
        raise WalkFailed(f"no reference sent to {user}; replies: {self.replies_to(user)[-3:]}")

    def api(self, method: str, path: str, **kwargs) -> dict:
        response = self.client.open(path, method=method, headers=self.api_headers, **kwargs)
        if response.status_code >= 400:
            raise WalkFailed(f"{method} {path}: {response.status_code} {response.get_data(as_text=True)[:300]}")
        return response.get_json()

    def followed_report(self, users: list[str], point: tuple[float, float], texts: list[str]) -> str:
        """A report followed by every user: each reports the same thing; what was not merged is merged by API."""
        references = [self.report_by_chat(user, point, text) for user, text in zip(users, texts)]
        known = self.api("GET", f"/api/v1/reports/{references[0]}")
        target = known["duplicate_of"] or known["reference"]
        for reference in references:
            shown = self.api("GET", f"/api/v1/reports/{reference}")
            if reference != target and not shown["duplicate_of"]:
                self.api("POST", f"/api/v1/reports/{reference}/merge",
                         json={"into": target, "reason": "Zelfde probleem, house-meting"})
        count = self.api("GET", f"/api/v1/reports/{target}")["reporters_count"]
        if count < len(users):
            raise WalkFailed(f"report {target} is followed by {count} residents, not {len(users)}")
        return target

    def start_work(self, reference: str) -> None:
        self.api("POST", f"/api/v1/reports/{reference}/status", json={"status": "in_progress"})

    def close_with_message(self, reference: str, message: str) -> None:
        self.api("POST", f"/api/v1/reports/{reference}/status",
                 json={"status": "done", "note": "intern: klus afgerond", "resident_message": message})

    def told(self, users: list[str], message: str) -> list[str]:
        return [u for u in users if any(message in reply for reply in self.replies_to(u))]

    def close(self) -> None:
        self.stop_fake()
        backend = self.app.extensions.get("meldingen_jobs")
        close_backend = getattr(backend, "close", None)
        if close_backend is not None:
            close_backend()  # an embedded background process ends with the measurement
        from meldingen.extensions import db

        with self.app.app_context():
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()


def walk_figures(root: Path) -> dict[str, Any]:
    prefix = str((root / PACKAGE).resolve()) + os.sep
    with tempfile.TemporaryDirectory(prefix="house-walks-") as workdir:
        harness = Harness(root, Path(workdir))
        try:
            # Warm-up, untraced: the same two walks elsewhere, so caches, lazy imports and the classifier are
            # not part of what is measured.
            warm = harness.followed_report(["31600000901", "31600000902"], ELSEWHERE,
                                           ["Lantaarnpaal brandt niet", "De straatlantaarn is kapot"])
            harness.start_work(warm)
            harness.close_with_message(warm, "Lamp vervangen, bedankt!")

            resident = "31600000001"
            with Trace(prefix) as photo_walk:
                reference = harness.report_by_chat(resident, AMSTERDAM, "Losse stoeptegel, je struikelt erover")
            others = ["31600000002", "31600000003"]
            target = harness.followed_report(others, AMSTERDAM, ["Er ligt een tegel los op de stoep",
                                                                 "Stoeptegel los bij de ingang"])
            # The traced walk's report and the two others: one report, three residents.
            if target != reference:
                shown = harness.api("GET", f"/api/v1/reports/{reference}")
                if shown["duplicate_of"] != target:
                    harness.api("POST", f"/api/v1/reports/{target}/merge",
                                json={"into": reference, "reason": "Zelfde tegel, house-meting"})
                    target = reference
            followers = [resident, *others]
            count = harness.api("GET", f"/api/v1/reports/{target}")["reporters_count"]
            if count != len(followers):
                raise WalkFailed(f"{target} followed by {count}, not {len(followers)}")
            harness.start_work(target)
            message = "De stoeptegel is teruggelegd. Bedankt voor uw melding!"
            with Trace(prefix) as done_walk:
                harness.close_with_message(target, message)
            told = harness.told(followers, message)
            if sorted(told) != sorted(followers):
                raise WalkFailed(f"only {told} of {followers} were sent the resident message")
        finally:
            harness.close()
    return {"photo_to_reference": {"reference": reference, **photo_walk.figures(root)},
            "done_to_subscribers": {"reference": target, "residents_told": len(told), **done_walk.figures(root)}}


# --- the report ---------------------------------------------------------------------------------------------

def measure(root: Path, lint: bool = True, walks: bool = True) -> dict[str, Any]:
    package_dir = root / PACKAGE
    figures: dict[str, Any] = {"root": str(root), "commit": _git_head(root),
                               "cycles": cycle_figures(package_dir), "commits": commit_figures(package_dir),
                               "platform_branches": platform_figures(package_dir)}
    if lint:
        figures["lint"] = lint_figures(root)
    if walks:
        figures["walks"] = walk_figures(root)
    return figures


def _git_head(root: Path) -> str:
    result = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, check=False)
    return result.stdout.strip() or "?"


def _short(node: str) -> str:
    return node.split(".", 1)[1] if "." in node else node


def table_rows(figures: dict[str, Any]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    labels = {"module_level": "module-level imports", "with_functions": "imports in functions too",
              "all": "with TYPE_CHECKING imports too"}
    for key, label in labels.items():
        c = figures["cycles"][key]
        sizes = ", ".join(str(s) for s in c["sizes"]) or "–"
        rows.append((f"Package cycles, {label}: components (sizes) / packages in cycles of all",
                     f"{c['components']} ({sizes}) / {c['in_cycles']} of {c['nodes']}"))
    commits = figures["commits"]
    rows.append(("`commit()` calls in domain modules (modules)",
                 f"{commits['domain_total']} ({commits['domain_modules']})"))
    rows.append(("`commit()` calls in entry points (modules)",
                 f"{commits['entry_total']} ({commits['entry_modules']})"))
    branches = figures["platform_branches"]
    rows.append(("Platform branches outside `channels/` (files)", f"{branches['total']} ({branches['files']})"))
    lint = figures.get("lint")
    if lint:
        rows.append(("ruff check --isolated (defaults), `meldingen/`", str(lint["ruff_defaults_meldingen"])))
        rows.append(("ruff check --isolated (defaults), whole tree", str(lint["ruff_defaults_tree"])))
        if "ruff_project_meldingen" in lint:
            rows.append(("ruff check (project config), `meldingen/`", str(lint["ruff_project_meldingen"])))
        m = lint["mypy_defaults"]
        rows.append(("mypy meldingen --ignore-missing-imports: errors (files)", f"{m['errors']} ({m['files']})"))
        if "mypy_project" in lint:
            m = lint["mypy_project"]
            rows.append(("mypy meldingen (project config): errors (files)", f"{m['errors']} ({m['files']})"))
    walks = figures.get("walks")
    if walks:
        for key, label in (("photo_to_reference", "Walk a, WhatsApp photo → reference sent"),
                           ("done_to_subscribers", "Walk b, crew's done → every subscriber told")):
            w = walks[key]
            rows.append((f"{label}: files / hops (indirect) / chain depth",
                         f"{w['files']} / {w['hops']} ({w['indirect_hops']}) / {w['max_chain_depth']}"))
            rows.append((f"{label}: distinct cross-file edges (indirect) / calls / functions",
                         f"{w['distinct_cross_file_edges']} ({w['distinct_indirect_edges']}) / {w['calls']} / "
                         f"{w['functions']}"))
    return rows


def render(figures: dict[str, Any], details: bool = True) -> str:
    lines = [f"House measurements of `{figures['root']}` at {figures['commit']}", "",
             "| measure | value |", "| --- | --- |"]
    lines += [f"| {name} | {value} |" for name, value in table_rows(figures)]
    if not details:
        return "\n".join(lines) + "\n"
    lines += ["", "Cycles (members):"]
    for key in ("module_level", "with_functions"):
        for members in figures["cycles"][key]["members"]:
            lines.append(f"- {key}: {', '.join(_short(m) for m in members)}")
    lines += ["", "Domain modules with `commit()`: " + ", ".join(
        f"{module} {count}" for module, count in figures["commits"]["domain"].items())]
    lines += ["", "Platform branches per file: " + ", ".join(
        f"{module} {count}" for module, count in figures["platform_branches"]["per_file"].items())]
    for key, walk in (figures.get("walks") or {}).items():
        lines += ["", f"Walk {key} files: " + ", ".join(walk["file_list"]),
                  f"Walk {key} longest chain: " + " → ".join(walk["longest_chain"])]
    return "\n".join(lines) + "\n"


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the checkout to measure")
    parser.add_argument("--json", type=Path, help="also write the figures here as JSON")
    parser.add_argument("--skip-lint", action="store_true", help="leave out ruff and mypy (they take a minute)")
    parser.add_argument("--skip-walks", action="store_true", help="leave out the two traced walks")
    parser.add_argument("--brief", action="store_true", help="the table only, without members and file lists")
    args = parser.parse_args(list(argv) if argv is not None else None)
    root = args.root.resolve()
    if not (root / PACKAGE / "__init__.py").is_file():
        parser.error(f"{root} has no {PACKAGE}/ package")
    figures = measure(root, lint=not args.skip_lint, walks=not args.skip_walks)
    print(render(figures, details=not args.brief))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
