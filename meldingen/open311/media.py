"""Photos an Open311 client names by `media_url`, fetched like a chat photo: after the commit, through the media
pipeline (checked by content, turned upright, EXIF stripped), onto the report.

A media_url is anyone's URL, so the fetch is guarded against being aimed inward: https only (plain http only when
`OPEN311_MEDIA_ALLOW_HTTP`), never a private, loopback, link-local or reserved address (unless
`OPEN311_MEDIA_ALLOW_PRIVATE`, for tests on loopback), checked again at every redirect (at most five), with the
size cap and timeouts of platform media. Photos are had and checked while the POST is answered, before the report is
made: a URL that cannot be fetched, or what is not an image, is a 400 with the reason, as is a multipart photo file
that is not an image; nothing a client sends goes missing without a word.
"""

from __future__ import annotations

import logging

import httpx
from flask import current_app

from meldingen.channels.base import PlatformError, download
from meldingen.extensions import db
from meldingen.inputs.urls import URLRefused, check_outbound_url

log = logging.getLogger(__name__)
MAX_URLS = 5


class MediaURLRefused(PlatformError):
    def __init__(self, reason: str):
        super().__init__(reason, retryable=False)


def check_fetchable(url: str, *, allow_http: bool, allow_private: bool) -> None:
    """Raise MediaURLRefused unless `url` is https (or allowed http) on a host with only public addresses."""
    try:
        check_outbound_url(url, allow_http=allow_http, allow_private=allow_private)
    except URLRefused as exc:
        raise MediaURLRefused(exc.reason) from None


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


def photos_for_request(urls: list[str], files) -> list[tuple[bytes, str | None]]:
    """The photos of a POST, fetched (media_url) or read (a multipart file) and checked before the report is made:
    (data, media_url or None) each. A photo that cannot be had or is no image raises Open311Error 400 with the
    reason, so a client hears it at once instead of a photo going missing (docs/open311.md)."""
    from meldingen.media.images import ImageRejected, process_image
    from meldingen.open311.services import Open311Error

    config = current_app.config
    if len(urls) + len(files) > MAX_URLS:
        raise Open311Error(400, f"at most {MAX_URLS} photos (media_url and files together)")
    photos: list[tuple[bytes, str | None]] = []
    with httpx.Client() as client:
        for url in urls:
            try:
                photos.append((fetch_media_url(url, client), url))
            except (PlatformError, httpx.HTTPError) as exc:
                reason = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
                raise Open311Error(400, f"media_url {url[:200]} was refused: {reason[:200]}") from None
    for upload in files:
        photos.append((upload.read(config["MAX_PHOTO_BYTES"] + 1), None))
    for number, (data, source) in enumerate(photos, 1):
        try:
            process_image(data, max_bytes=config["MAX_PHOTO_BYTES"], max_pixels=config["MAX_PHOTO_PIXELS"],
                          max_declared_pixels=config["MAX_PHOTO_DECLARED_PIXELS"])
        except ImageRejected as exc:
            what = f"media_url {source[:200]}" if source else f"the photo file {number - len(urls)}"
            raise Open311Error(400, f"{what} was refused: {exc.reason}") from None
    return photos


def store_request_photos(report, photos: list[tuple[bytes, str | None]], actor: str, actor_id: int | None) -> None:
    """Put the checked photos of a POST on its report (flushes; the view commits)."""
    from meldingen.media.services import store_photo
    from meldingen.reports.services import add_event

    for data, url in photos:
        photo = store_photo(data, source="open311", report_id=report.id)
        add_event(report, "photo", actor=actor, actor_id=actor_id,
                  data={"photo": photo.token, **({"media_url": url[:300]} if url else {})})
    db.session.flush()


def fetch_media(report_id: int, urls: list[str]) -> None:
    """The task of earlier versions, which fetched media_url after the commit (jobs still queued may name it);
    a POST now fetches and checks its photos before the report is made (`photos_for_request`)."""
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
