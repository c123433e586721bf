"""When failed background work is tried again, and when it is parked for a person instead."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

DEFAULT_RETRY_SECONDS = (5.0, 30.0, 120.0, 600.0, 1800.0)


def retry_schedule() -> tuple[float, ...]:
    configured = current_app.config.get("RETRY_SECONDS")
    if isinstance(configured, (list, tuple)) and configured:
        return tuple(max(0.0, float(s)) for s in configured)
    return DEFAULT_RETRY_SECONDS


def max_attempts() -> int:
    return max(1, int(current_app.config.get("RETRY_MAX_ATTEMPTS", 6)))


def retry_delay(attempts: int) -> float:
    """Seconds to wait after the `attempts`-th failed attempt (1-based); the last step repeats."""
    schedule = retry_schedule()
    return schedule[min(max(attempts, 1) - 1, len(schedule) - 1)]


def should_park(attempts: int) -> bool:
    """After this many failed attempts the work stops retrying and waits for a person."""
    return attempts >= max_attempts()


def lease_seconds() -> float:
    """How long a claimed piece of work may take before a sweep assumes its worker died."""
    return max(1.0, float(current_app.config.get("WORK_LEASE_SECONDS", 120.0)))


def send_lease_seconds() -> float:
    """A send may take up to its connect, write and read timeouts: only after that is its worker presumed dead."""
    timeout = float(current_app.config.get("PLATFORM_TIMEOUT", 15.0))
    return max(lease_seconds(), 4 * timeout + 2)


def lease_until(now: datetime) -> datetime:
    return now + timedelta(seconds=lease_seconds())


def unconfirmed_wait() -> timedelta:
    return timedelta(seconds=float(current_app.config.get("UNCONFIRMED_WAIT_SECONDS", 300.0)))


def short_reason(exc: BaseException) -> str:
    """What went wrong, for the stuck list: the exception's class and first line, bounded."""
    message = getattr(exc, "message", None) or str(exc) or ""
    first = message.strip().splitlines()[0] if message.strip() else ""
    return f"{type(exc).__name__}: {first}"[:500] if first else type(exc).__name__
