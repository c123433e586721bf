"""Photos in and out of storage: process untrusted bytes, write the clean copy and thumbnail.

The bytes come from whoever has them (a platform's adapter fetches a resident's photo, an upload brings its own);
media itself knows no platform."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from flask import current_app

from meldingen.extensions import db
from meldingen.media.images import process_image
from meldingen.media.models import Photo


def media_dir() -> Path:
    return Path(current_app.config["MEDIA_DIR"])


def store_photo(data: bytes, *, source: str, report_id: int | None = None, conversation_id: int | None = None,
                uploaded_by_id: int | None = None) -> Photo:
    """Check and clean `data` (raises ImageRejected), write it and its thumbnail, add the Photo row (not committed).

    The GPS read from EXIF before it was stripped is kept on the row as a candidate location.
    """
    processed = process_image(data, max_bytes=current_app.config["MAX_PHOTO_BYTES"],
                              max_pixels=current_app.config["MAX_PHOTO_PIXELS"],
                              max_declared_pixels=current_app.config["MAX_PHOTO_DECLARED_PIXELS"])
    token = secrets.token_urlsafe(24)
    folder = media_dir() / token[:2]
    folder.mkdir(parents=True, exist_ok=True)
    path, thumb = folder / f"{token}.jpg", folder / f"{token}.thumb.jpg"
    path.write_bytes(processed.jpeg_bytes)
    thumb.write_bytes(processed.thumbnail_bytes)
    photo = Photo(
        token=token,
        report_id=report_id,
        conversation_id=conversation_id,
        path=str(path.relative_to(media_dir())),
        thumbnail_path=str(thumb.relative_to(media_dir())),
        content_type=processed.content_type,
        width=processed.width,
        height=processed.height,
        size_bytes=len(processed.jpeg_bytes),
        sha256=hashlib.sha256(data).hexdigest(),
        gps_lat=processed.gps[0] if processed.gps else None,
        gps_lon=processed.gps[1] if processed.gps else None,
        source=source,
        uploaded_by_id=uploaded_by_id,
    )
    db.session.add(photo)
    db.session.flush()
    return photo


def photo_file(photo: Photo, thumbnail: bool = False) -> Path:
    return media_dir() / (photo.thumbnail_path if thumbnail else photo.path)
