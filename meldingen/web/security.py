"""What every request and response goes through, whatever the page: the proxies we trust, the hosts we answer,
how large a body may be before it is read, and the security headers of every response."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

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
UPLOAD_OVERHEAD = 64 * KB  # multipart boundaries and the other fields around a photo


def init_app(app: Flask) -> None:
    proxies = int(app.config.get("PROXY_FIX") or 0)
    if proxies > 0:
        # Client address and scheme from the last `proxies` X-Forwarded-For/-Proto entries, never the host:
        # links and trusted hosts come from MELDINGEN_PUBLIC_URL.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=0, x_port=0, x_prefix=0)
    app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config)
    app.before_request(limit_body_size)
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


def body_limit(endpoint: str | None) -> int:
    limit = BODY_LIMITS.get(endpoint or "", DEFAULT_BODY_LIMIT)
    if limit == "photo":
        return int(current_app.config["MAX_PHOTO_BYTES"]) + UPLOAD_OVERHEAD
    if limit == "import":
        return int(current_app.config.get("MAX_IMPORT_BYTES") or 200 * MB)
    return int(limit)


def limit_body_size() -> None:
    """413 with the reason before a byte of a too-large body is read; a body without Content-Length is cut off
    at the same size while it is read."""
    limit = body_limit(request.endpoint)
    if request.content_length is not None and request.content_length > limit:
        log.warning("refused a body of %s bytes on %s (limit %s)", request.content_length, request.path, limit)
        abort(413, description=f"the request body is larger than {limit} bytes, the most this address accepts")
    if request.content_length is None and request.environ.get("wsgi.input_terminated"):
        # A chunked body: read at most one byte past the limit now (kept for the view), so that a body that
        # is too long is refused as such rather than silently cut short.
        request.max_content_length = limit + 1
        if len(request.get_data(cache=True)) > limit:
            abort(413, description=f"the request body is larger than {limit} bytes, the most this address accepts")
    request.max_content_length = limit


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
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", content_security_policy(current_app.config))
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
    if (current_app.config.get("PUBLIC_URL") or "").startswith("https://"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response
