"""Photos an Open311 client names by `media_url`, fetched like a chat photo: after the commit, through the media
pipeline (checked by content, turned upright, EXIF stripped), onto the report.

A media_url is anyone's URL, so the fetch is guarded against being aimed inward: https only (plain http only when
`OPEN311_MEDIA_ALLOW_HTTP`), never a private, loopback, link-local or reserved address (unless
`OPEN311_MEDIA_ALLOW_PRIVATE`, for tests on loopback), checked again at every redirect (at most five), with the
size cap and timeouts of platform media. A URL that cannot be fetched leaves an internal note saying why.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from urllib.parse import urlsplit

import httpx
from flask import current_app

from meldingen.channels.base import PlatformError, download
from meldingen.extensions import db

log = logging.getLogger(__name__)
MAX_URLS = 5


class MediaURLRefused(PlatformError):
    def __init__(self, reason: str):
        super().__init__(reason, retryable=False)


def check_fetchable(url: str, *, allow_http: bool, allow_private: bool) -> None:
    """Raise MediaURLRefused unless `url` is https (or allowed http) on a host with only public addresses."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        raise MediaURLRefused("not a valid URL") from None
    if parts.scheme != "https" and not (allow_http and parts.scheme == "http"):
        raise MediaURLRefused(f"scheme {parts.scheme!r} is not allowed (https only)")
    if not host:
        raise MediaURLRefused("no host")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise MediaURLRefused(f"host {host!r} does not resolve") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global:
            raise MediaURLRefused(f"host {host!r} has a non-public address")


def _flag(name: str) -> bool:
    """A yes/no setting that may come from the environment as text ("true", "1")."""
    value = current_app.config.get(name, False)
    return value is True or str(value).strip().lower() in ("1", "true", "yes", "on")


def fetch_media_url(url: str, client: httpx.Client) -> bytes:
    config = current_app.config
    allow_http, allow_private = _flag("OPEN311_MEDIA_ALLOW_HTTP"), _flag("OPEN311_MEDIA_ALLOW_PRIVATE")
    # Every request of the fetch, redirects included, passes the same check before it is sent.
    client.event_hooks["request"] = [lambda request: check_fetchable(str(request.url), allow_http=allow_http,
                                                                     allow_private=allow_private)]
    return download(client, url, platform="Open311 media_url", max_bytes=config["MAX_PHOTO_BYTES"] + 1,
                    credential_origins=()).data


def fetch_media(report_id: int, urls: list[str]) -> None:
    from meldingen.media.images import ImageRejected
    from meldingen.media.services import store_photo
    from meldingen.reports.models import Report
    from meldingen.reports.services import add_event

    report = db.session.get(Report, report_id)
    if report is None:
        return
    with httpx.Client() as client:
        for url in urls[:MAX_URLS]:
            try:
                photo = store_photo(fetch_media_url(url, client), source="open311", report_id=report.id)
            except (PlatformError, ImageRejected, httpx.HTTPError) as exc:
                reason = getattr(exc, "reason", None) or str(exc)
                log.info("Open311 media_url of %s not fetched: %s", report.reference, reason)
                # The reason (English, technical) stays in the data; staff read the plain line.
                add_event(report, "note", note=f"Foto via Open311 niet opgehaald: {url[:300]}",
                          data={"media_url": url[:300], "reason": reason[:200]})
                continue
            add_event(report, "photo", data={"photo": photo.token, "media_url": url[:300]})
    db.session.commit()
