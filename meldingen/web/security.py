"""What every request and response goes through, whatever the page: the proxies we trust, the hosts we answer,
how large a body may be before it is read, and the security headers of every response."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wsgi import ClosingIterator

log = logging.getLogger(__name__)

KB = 1024
MB = 1024 * KB

# Largest body per endpoint, checked against Content-Length before anything is read (and enforced while reading
# when the length is not announced). The platforms' own maxima, the photo limit for uploads, small elsewhere.
BODY_LIMITS: dict[str, int | str] = {
    "webhooks.whatsapp_notification": 4 * MB,  # Meta batches up to ~3 MB of notifications in one POST
    "webhooks.telegram_update": 1 * MB,  # updates carry file ids, never the files
    "webhooks.twilio_message": 256 * KB,  # form fields and media URLs only
    "webhooks.messenger_event": 4 * MB,  # Meta batches page events as it does WhatsApp's
    "webhooks.chat_message": "photo",  # the website chat's photo upload
    "photos.ReportPhotos": "photo",
    "staff.report_status": "photo",  # a crew's status change may carry a photo
    "staff.admin_import_run": "import",  # area and asset files
}
DEFAULT_BODY_LIMIT = 256 * KB
# Answers under these paths carry what a token or a chat session may see (a resident's words, place, export):
# `Cache-Control: no-store` unless the view chose otherwise. The API's description is the same for everyone.
PRIVATE_PREFIXES = ("/api/", "/chat/api/")
SHAREABLE_PATHS = frozenset({"/api/v1/openapi.json"})
UPLOAD_OVERHEAD = 64 * KB  # multipart boundaries and the other fields around a photo


def init_app(app: Flask) -> None:
    proxies = int(app.config.get("PROXY_FIX") or 0)
    if proxies > 0:
        # Client address and scheme from the last `proxies` X-Forwarded-For/-Proto entries, never the host:
        # links and trusted hosts come from MELDINGEN_PUBLIC_URL.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=0, x_port=0, x_prefix=0)
    app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config)
    # The size check wraps the whole app (outside ProxyFix too): nothing in Flask, the CSRF check included, may
    # read or parse a body before it is known to fit; the first before-request function then answers the 413.
    app.wsgi_app = BodyLimit(app.wsgi_app, app)  # type: ignore[method-assign]
    app.before_request_funcs.setdefault(None, []).insert(0, limit_body_size)
    app.after_request(security_headers)
    # 413 and 429 are answered by refusal_with_reason through the app's one error dispatch (meldingen.web.errors).


def refusal_with_reason(exc):
    """413 and 429 say why, in the shape the caller reads: the sign-in form shows the Dutch text; JSON callers
    (API, website chat, which shows `error`) get it as `message` and `error`; others get plain text."""
    from flask import jsonify, render_template

    reason = exc.description or exc.name
    headers = {"Retry-After": "60"} if exc.code == 429 else {}
    if request.endpoint == "staff.login":
        return render_template("staff/login.html", error=reason, email=""), exc.code, headers
    if request.path.startswith(("/api/", "/chat/api/")) or request.accept_mimetypes.best == "application/json":
        body = jsonify({"code": exc.code, "status": exc.name, "message": reason, "error": reason})
        return body, exc.code, headers
    return reason, exc.code, {**headers, "Content-Type": "text/plain; charset=utf-8"}


def trusted_hosts(config) -> list[str] | None:
    """The public URL's host, the loopback names (health checks, the machine itself) and any extra ones;
    None (no check) only when no public URL is configured, as in development."""
    public = (config.get("PUBLIC_URL") or "").strip()
    if not public:
        return None
    host = urlsplit(public).hostname
    extra = config.get("TRUSTED_HOSTS_EXTRA") or ""
    if isinstance(extra, str):
        extra = [h.strip() for h in extra.split(",") if h.strip()]
    return [h for h in [host, "localhost", "127.0.0.1", "[::1]", *extra] if h]


def body_limit(endpoint: str | None, config=None) -> int:
    config = current_app.config if config is None else config
    limit = BODY_LIMITS.get(endpoint or "", DEFAULT_BODY_LIMIT)
    if limit == "photo":
        return int(config["MAX_PHOTO_BYTES"]) + UPLOAD_OVERHEAD
    if limit == "import":
        return int(config.get("MAX_IMPORT_BYTES") or 200 * MB)
    return int(limit)


def largest_body(config) -> int:
    """The most any address accepts: what a server in front (waitress) may read at all."""
    return max(body_limit(endpoint, config) for endpoint in [*BODY_LIMITS, None])


REFUSED = "meldingen.refused_body"  # environ key: (announced or read length, the address's limit)


class BodyLimit:
    """WSGI middleware: a body longer than its address accepts is never handed to the app. An announced length
    over the limit is refused unread; a chunked body is read to at most one byte past the limit (in memory up to
    1 MB, then in a temporary file) and refused when it is longer. The app sees an empty body and the mark, and
    its first before-request function answers 413 in the caller's format."""

    def __init__(self, wsgi_app, app: Flask):
        self.wsgi_app = wsgi_app
        self.app = app

    def __call__(self, environ, start_response):
        limit = body_limit(self._endpoint(environ), self.app.config)
        announced = environ.get("CONTENT_LENGTH") or ""
        try:
            length = int(announced) if announced.strip() else None
        except ValueError:
            length = None
        if length is not None and length > limit:
            if length <= limit + DRAIN_AT_MOST:
                _discard(environ["wsgi.input"], length)  # so that the client, still sending, reads our 413
            self._refuse(environ, length, limit)
        elif length is None and _chunked(environ):
            kept = self._read_bounded(environ, limit)
            if kept is not None:
                return ClosingIterator(self.wsgi_app(environ, start_response), [kept.close])
        return self.wsgi_app(environ, start_response)

    def _endpoint(self, environ) -> str | None:
        try:
            endpoint, _ = self.app.url_map.bind_to_environ(environ).match(method=environ.get("REQUEST_METHOD"))
        except Exception:  # no route, another method, a redirect, a bad host: the default limit holds
            return None
        return str(endpoint)

    @staticmethod
    def _refuse(environ, length: int, limit: int) -> None:
        import io

        environ[REFUSED] = (length, limit)
        environ["wsgi.input"] = io.BytesIO(b"")
        environ["CONTENT_LENGTH"] = "0"
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["wsgi.input_terminated"] = False

    def _read_bounded(self, environ, limit: int):
        import tempfile

        stream = environ["wsgi.input"]
        kept = tempfile.SpooledTemporaryFile(max_size=1 * MB)  # noqa: SIM115 (handed on as the body)
        read = 0
        while read <= limit:
            chunk = stream.read(min(64 * KB, limit + 1 - read))
            if not chunk:
                break
            kept.write(chunk)
            read += len(chunk)
        if read > limit:
            kept.close()
            self._refuse(environ, read, limit)
            return None
        kept.seek(0)
        environ["wsgi.input"] = kept
        environ["CONTENT_LENGTH"] = str(read)
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["wsgi.input_terminated"] = False
        return kept


# A body only a little over its limit is read and thrown away (no memory kept): a client that is still sending
# when the answer comes would otherwise see the connection reset instead of the 413 that says why.
DRAIN_AT_MOST = 2 * MB


def _discard(stream, length: int) -> None:
    left = length
    while left > 0:
        chunk = stream.read(min(64 * KB, left))
        if not chunk:
            return
        left -= len(chunk)


def _chunked(environ) -> bool:
    return bool(environ.get("wsgi.input_terminated")) or \
        "chunked" in (environ.get("HTTP_TRANSFER_ENCODING") or "").lower()


def limit_body_size() -> None:
    """413 with the reason for a body that BodyLimit kept from the app; the limit also bounds any later read."""
    limit = body_limit(request.endpoint)
    request.max_content_length = limit
    refused = request.environ.get(REFUSED)
    if refused:
        log.warning("refused a body of %s bytes or more on %s (limit %s)", refused[0], request.path, refused[1])
        abort(413, description=f"the request body is larger than {refused[1]} bytes, the most this address accepts")


def content_security_policy(config) -> str:
    images = ["'self'", "data:", "blob:"]  # and the base map's tile host (PDOK by default), none without
    tiles = tile_origin(config.get("TILE_URL") or "")
    if tiles and tiles not in images:
        images.append(tiles)
    return ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            f"img-src {' '.join(images)}; connect-src 'self'; object-src 'none'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'self'")


def tile_origin(url: str) -> str:
    if not url:
        return ""
    parts = urlsplit(url)
    if "{" in parts.netloc:  # {s}.tile.example.org: allow the scheme, the subdomain is a template
        return f"{parts.scheme}:"
    return f"{parts.scheme}://{parts.netloc}"


def security_headers(response):
    """nosniff everywhere; on HTML pages a strict CSP, no framing and no referrer to other sites; HSTS when the
    service is public over https."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    if request.path.startswith(PRIVATE_PREFIXES) and request.path not in SHAREABLE_PATHS:
        # Reports, residents' exports and chat sessions: kept by no browser or proxy cache.
        headers.setdefault("Cache-Control", "no-store")
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", content_security_policy(current_app.config))
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
    if (current_app.config.get("PUBLIC_URL") or "").startswith("https://"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response
