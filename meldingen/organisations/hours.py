"""When a person answers the chat: an organisation's office hours (else the general ones), per weekday, with
Dutch public holidays closed (the `holidays` package). Kept by administrators; the sample data ships workdays
09:00-17:00."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import delete, select

from meldingen.extensions import db
from meldingen.organisations.models import OfficeHours

LOCAL = ZoneInfo("Europe/Amsterdam")
DEFAULT_OFFICE_HOURS = dict.fromkeys(range(5), ("09:00", "17:00"))
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

WEEKDAYS = {"nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
            "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")}
MONTHS = {"nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
                 "oktober", "november", "december"),
          "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                 "October", "November", "December")}


class OfficeHoursRefused(ValueError):
    """Office hours that cannot be saved; the message (Dutch) says why."""


@dataclass(frozen=True)
class Availability:
    """Whether a person answers now, and else from when (local time; None: no office hours are kept)."""

    open_now: bool
    next_opening: datetime | None


@lru_cache(maxsize=16)
def public_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.Netherlands(years=year, categories=("public",)).keys())


def hours_of(organisation_id: int | None) -> dict[int, tuple[str, str]]:
    """weekday -> (opens, closes): the organisation's own hours when it keeps any, else the general ones."""
    for owner in ([organisation_id] if organisation_id is not None else []) + [None]:
        column = OfficeHours.organisation_id
        rows = db.session.scalars(select(OfficeHours).where(
            column.is_(None) if owner is None else column == owner)).all()
        if rows:
            return {row.weekday: (row.opens, row.closes) for row in rows}
    return {}


def availability(organisation_id: int | None, now: datetime) -> Availability:
    """Open now, or the next moment a person answers (within the coming four weeks)."""
    hours = hours_of(organisation_id)
    if not hours:
        return Availability(open_now=True, next_opening=None)  # no hours kept: no promise of a time either
    local = now.astimezone(LOCAL)
    for offset in range(29):
        day = local.date() + timedelta(days=offset)
        if day.weekday() not in hours or day in public_holidays(day.year):
            continue
        opens, closes = (_at(day, value) for value in hours[day.weekday()])
        if offset == 0 and opens <= local < closes:
            return Availability(open_now=True, next_opening=None)
        if local < opens:
            return Availability(open_now=False, next_opening=opens)
    return Availability(open_now=False, next_opening=None)


def _at(day: date, value: str) -> datetime:
    hour, minute = (int(part) for part in value.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL)


def describe_moment(moment: datetime, now: datetime, language: str = "nl") -> str:
    """"vandaag om 13:00", "morgen om 09:00", "maandag 28 april om 09:00" (English alike), in local time."""
    language = language if language in WEEKDAYS else "nl"
    moment, today = moment.astimezone(LOCAL), now.astimezone(LOCAL).date()
    at = "om" if language == "nl" else "at"
    clock = moment.strftime("%H:%M")
    if moment.date() == today:
        return f"{'vandaag' if language == 'nl' else 'today'} {at} {clock}"
    if moment.date() == today + timedelta(days=1):
        return f"{'morgen' if language == 'nl' else 'tomorrow'} {at} {clock}"
    day = f"{WEEKDAYS[language][moment.weekday()]} {moment.day} {MONTHS[language][moment.month - 1]}"
    return f"{day} {at} {clock}"


def save_office_hours(organisation_id: int | None, days: dict[int, tuple[str, str]]) -> None:
    """Replace the organisation's (None: the general) hours by `days` (weekday -> (opens, closes); a weekday left
    out is closed). Raises OfficeHoursRefused with a Dutch reason. Does not commit."""
    for weekday, (opens, closes) in days.items():
        if weekday not in range(7):
            raise OfficeHoursRefused("Een dag van de week is 0 (maandag) tot en met 6 (zondag).")
        if not _TIME.match(opens) or not _TIME.match(closes):
            raise OfficeHoursRefused("Schrijf een tijd als 09:00.")
        if opens >= closes:
            raise OfficeHoursRefused(f"Op {WEEKDAYS['nl'][weekday]} moet de sluitingstijd na de openingstijd liggen.")
    column = OfficeHours.organisation_id
    db.session.execute(delete(OfficeHours).where(column.is_(None) if organisation_id is None
                                                 else column == organisation_id))
    for weekday, (opens, closes) in sorted(days.items()):
        db.session.add(OfficeHours(organisation_id=organisation_id, weekday=weekday, opens=opens, closes=closes))
    db.session.flush()


def install_default_office_hours() -> int:
    """The general hours (workdays 09:00-17:00), once: when no general hours are kept yet. Returns how many days."""
    if db.session.scalar(select(OfficeHours.id).where(OfficeHours.organisation_id.is_(None)).limit(1)):
        return 0
    save_office_hours(None, DEFAULT_OFFICE_HOURS)
    return len(DEFAULT_OFFICE_HOURS)
