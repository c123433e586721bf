"""Deadlines from a category's handling time: working days skip weekends and Dutch public holidays."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays

from meldingen.timeutil import local_zone


@lru_cache(maxsize=64)
def _dutch_holidays(year: int, good_friday_is_workday: bool, liberation_day_every_year: bool) -> frozenset[date]:
    """Public holidays of the Netherlands in `year`, adjusted to the organisation's own rules.

    The holidays package counts Goede Vrijdag as public and Bevrijdingsdag (5 May) only in lustrum years.
    """
    from dateutil.easter import easter

    days = set(holidays.Netherlands(years=year, categories=("public",)).keys())
    if good_friday_is_workday:
        days.discard(easter(year) - timedelta(days=2))
    if liberation_day_every_year:
        days.add(date(year, 5, 5))
    return frozenset(days)


def is_working_day(day: date, settings: dict | None = None) -> bool:
    settings = settings or {}
    if day.weekday() >= 5:
        return False
    return day not in _dutch_holidays(
        day.year,
        bool(settings.get("good_friday_is_workday", False)),
        bool(settings.get("liberation_day_every_year", False)),
    )


def compute_deadline(
    created_at: datetime, days: int | None, calendar_days: bool, settings: dict | None = None
) -> datetime | None:
    """The moment a report is due: `days` after `created_at`, counted in the service's local time (MELDINGEN_TIMEZONE, Europe/Amsterdam).

    Calendar days add whole local days (the same wall-clock time, across daylight-saving changes).
    Working days count forward over Monday–Friday that are not public holidays; the deadline is at the
    same local time on the last counted working day.
    """
    if days is None:
        return None
    local = created_at.astimezone(local_zone())
    if calendar_days:
        day = local.date() + timedelta(days=days)
    else:
        day = local.date()
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if is_working_day(day, settings):
                counted += 1
    naive = datetime.combine(day, local.time().replace(tzinfo=None))
    return naive.replace(tzinfo=local_zone())
