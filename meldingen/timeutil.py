"""Time helpers: aware UTC now, and the service's local time zone (`MELDINGEN_TIMEZONE`, Europe/Amsterdam)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_zone() -> ZoneInfo:
    """The configured local time zone (deadlines, office hours, times shown and answered); Europe/Amsterdam
    outside an app (config.check_timezone refuses a name that is not a zone at start)."""
    from flask import current_app, has_app_context

    name = current_app.config.get("TIMEZONE") if has_app_context() else None
    return _zone(str(name)) if name else AMSTERDAM


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_aware_utc(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes for timezone-aware columns; they were stored as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def isoformat(value: datetime | None) -> str | None:
    value = as_aware_utc(value)
    return value.astimezone(local_zone()).isoformat() if value else None
