"""The embedded layout as `make run` serves it (waitress via `python -m meldingen.serve`), over real sockets: a
body too large for its address costs the server no memory, and behind a trusted proxy each resident has their
own address (issue 26, parts 1 and 5)."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest
from fault_harness import WebServer, service_env

pytestmark = pytest.mark.processes

MB = 1024 * 1024


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def post_raw(port: int, path: str, length: int, content_type: str, send: int | None = None) -> int:
    """POST with `Content-Length: length`, streaming up to `send` bytes of it (all by default) while the server
    lets us; the status code of the answer."""
    send = length if send is None else send
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall((f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
                      f"Content-Length: {length}\r\nConnection: close\r\n\r\n").encode())
        chunk = b"x" * MB
        sent = 0
        try:
            while sent < send:
                sock.sendall(chunk[:min(MB, send - sent)])
                sent += min(MB, send - sent)
        except OSError:
            pass  # the server answered and closed while we were still sending: that is the point
        answer = b""
        while b"\r\n" not in answer:
            part = sock.recv(4096)
            if not part:
                break
            answer += part
    return int(answer.split(b" ", 2)[1])


class Gunicorn:
    """The scaled layout's web processes as deploy/gunicorn.conf.py runs them (2 processes; no workers needed:
    nothing here is background work)."""

    def __init__(self, env: dict, tmp_path: Path):
        import subprocess
        import sys

        from fault_harness import ROOT, free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**env, "MELDINGEN_BIND": f"127.0.0.1:{self.port}", "MELDINGEN_WEB_WORKERS": "2",
               "MELDINGEN_WEB_GRACEFUL_TIMEOUT": "3"}
        self.log = open(tmp_path / "gunicorn.log", "ab")  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "wsgi:app"],
                                     env=env, cwd=str(ROOT), stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self) -> None:
        from fault_harness import wait_until

        wait_until(lambda: httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200, 90, what="gunicorn")

    def pids(self) -> list[int]:
        from fault_harness import children_of

        return [self.proc.pid, *children_of(self.proc.pid)]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except Exception:
            self.proc.kill()
        self.log.close()


LAYOUTS = ["embedded", "scaled"]


@pytest.fixture(params=LAYOUTS)
def server(database_url, tmp_path, fake, request):
    """`make run`'s waitress (embedded) or the scaled layout's gunicorn web processes (PostGIS and Redis)."""
    extra = getattr(request, "param", None)
    layout, extra = (extra, {}) if isinstance(extra, str) else ("embedded", extra or {})
    if layout == "scaled":
        if not database_url.startswith("postgresql"):
            pytest.skip("the scaled layout runs on PostGIS")
        broker = request.getfixturevalue("real_redis_url")
        web = Gunicorn(service_env(database_url, fake, tmp_path, broker_url=broker, **extra), tmp_path)
    else:
        web = WebServer(service_env(database_url, fake, tmp_path, **extra), tmp_path)
        web.pids = lambda: [web.proc.pid]
    try:
        web.wait_ready()
        yield web
    finally:
        web.stop()


def memory_mib(server) -> float:
    return sum(rss_mib(pid) for pid in server.pids())


def test_large_bodies_are_refused_without_growing_the_server(server):
    before = memory_mib(server)
    # 300 MB to the sign-in form: more than any address accepts, refused by waitress on its announced length.
    assert post_raw(server.port, "/staff/login", 300 * MB, "application/x-www-form-urlencoded") == 413
    # 40 MB to small forms and JSON addresses: refused by the address's own limit, never parsed.
    for path, kind in [("/staff/login", "application/x-www-form-urlencoded"),
                       ("/staff/login", "multipart/form-data; boundary=b"),
                       ("/chat/api/messages", "application/json"),
                       ("/api/v1/reports", "application/json"),
                       ("/open311/v2/requests.json", "application/x-www-form-urlencoded"),
                       ("/webhooks/telegram", "application/json")]:
        assert post_raw(server.port, path, 40 * MB, kind) == 413, path
    grown = memory_mib(server) - before
    assert grown < 40, f"the server grew by {grown:.0f} MiB"


@pytest.mark.parametrize("server", [{"RATELIMIT_ENABLED": "true", "LIMIT_PUBLIC_IP": "2 per minute",
                                     "PROXY_FIX": 1}], indirect=True)
def test_behind_a_trusted_proxy_each_resident_counts_apart(server):
    url = f"{server.url}/open311/v2/requests.json"
    first = [httpx.get(url, headers={"X-Forwarded-For": "198.51.100.1"}).status_code for _ in range(3)]
    assert first == [200, 200, 429]
    assert httpx.get(url, headers={"X-Forwarded-For": "198.51.100.2"}).status_code == 200


@pytest.mark.parametrize("server", [{"RATELIMIT_ENABLED": "true", "LIMIT_PUBLIC_IP": "2 per minute"}],
                         indirect=True)
def test_without_a_trusted_proxy_a_forwarded_address_is_not_believed(server):
    url = f"{server.url}/open311/v2/requests.json"
    codes = [httpx.get(url, headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code for i in range(3)]
    assert codes == [200, 200, 429]


def test_an_attackers_walk_over_every_route_gets_no_5xx_from_the_served_app(server):
    """Every route of `url_map` as waitress serves it: a foreign Host, a split `next=`, a body one byte past the
    route's limit, thousands of multipart parts and bytes that are no UTF-8 in the path (the in-process walk of
    tests/test_bad_input_corpus.py holds the rest of the bad-input kinds)."""
    import re

    from meldingen import create_app
    from meldingen.web.security import DEFAULT_BODY_LIMIT

    rules = list(create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"}).url_map.iter_rules())
    parts = "".join(f'--b\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\nx\r\n' for i in range(3000))
    failures, sent = [], 0
    # A connection per request: gunicorn closes one whose body the app did not read, without saying so first.
    with httpx.Client(base_url=server.url, timeout=30, limits=httpx.Limits(max_keepalive_connections=0)) as client:
        for rule in rules:
            path = re.sub(r"<(?:[^:<>]+:)?(\w+)>", lambda m: "M-%FF%FEabc" if "ref" in m.group(1) else "1", rule.rule)
            requests = []
            if "GET" in rule.methods:
                requests += [("GET", path, {"headers": {"Host": "evil.example"}}),
                             ("GET", path + "?next=/staff/%0d%0aX:1", {})]
            for method in sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"}):
                requests += [(method, path, {"content": b"x" * (DEFAULT_BODY_LIMIT + 1),
                                             "headers": {"Content-Type": "application/x-www-form-urlencoded"}}),
                             (method, path, {"content": (parts + "--b--\r\n").encode(),
                                             "headers": {"Content-Type": "multipart/form-data; boundary=b"}})]
            for method, url, kwargs in requests:
                sent += 1
                try:
                    status = client.request(method, url, **kwargs).status_code
                except httpx.TransportError as exc:  # a worker that died, or a refusal the client never read
                    failures.append(f"{method} {url} {list(kwargs.get('headers', {}).values())} -> {exc!r}")
                    continue
                if status >= 500:
                    failures.append(f"{method} {url} {list(kwargs.get('headers', {}).values())} -> {status}")
    assert sent > 150
    assert not failures, "\n".join(failures)
