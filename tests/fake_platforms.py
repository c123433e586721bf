"""A fake chat platform on loopback: a threaded HTTP server whose routes tests set, recording every request."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


@dataclass
class Seen:
    method: str
    path: str
    query: str
    headers: dict
    body: bytes
    host: str
    status: int = 0  # what the fake answered (0 while the handler still runs)


@dataclass
class FakePlatform:
    """routes: (METHOD, path) → function(request) returning a werkzeug Response."""

    routes: dict[tuple[str, str], Callable[[Request], Response]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def other_host_url(self) -> str:
        """The same server under another host name: a different origin, as a CDN would be."""
        return f"http://localhost:{self.port}"

    def route(self, method: str, path: str):
        def register(func):
            self.routes[(method, path)] = func
            return func

        return register

    def __call__(self, environ, start_response):
        request = Request(environ)
        seen = Seen(request.method, request.path, request.query_string.decode(), dict(request.headers),
                    request.get_data(), request.host)
        self.seen.append(seen)
        handler = self.routes.get((request.method, request.path))
        response = handler(request) if handler else Response("not found", status=404)
        seen.status = response.status_code
        return response(environ, start_response)

    def requests_to(self, path_start: str) -> list[Seen]:
        return [s for s in self.seen if s.path.startswith(path_start)]


def start_fake_platform() -> tuple[FakePlatform, Callable[[], None]]:
    fake = FakePlatform()
    server = make_server("127.0.0.1", 0, fake, threaded=True)
    fake.port = server.server_port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        server.server_close()
        thread.join(5)

    return fake, stop


def jpeg_bytes(width: int = 64, height: int = 48, color: str = "red", exif=None) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    kwargs = {"exif": exif} if exif is not None else {}
    Image.new("RGB", (width, height), color).save(out, format="JPEG", **kwargs)
    return out.getvalue()
