"""A field crew's route for today: a shortlist of reports they mean to visit, kept on the server per staff member,
in the order they set. "Orden" puts it in nearest-neighbour order from where they stand (or from the first stop
when the phone gives no position): good enough for a dozen stops, and the crew can still drive as they like.
Plain functions over the session; they flush, the view commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from meldingen.extensions import db
from meldingen.reports.access import scope_reports
from meldingen.reports.models import Report, RouteStop
from meldingen.staff.mywork import distance_m
from meldingen.timeutil import AMSTERDAM, utcnow

MAX_STOPS = 50


class RouteRefused(Exception):
    """A stop that cannot be added, with the reason shown to the staff member (Dutch)."""


@dataclass
class Stop:
    report: Report
    position: int
    distance_m: float | None  # from the previous stop (the first: from where the crew stands, when known)


def today() -> date:
    return utcnow().astimezone(AMSTERDAM).date()


def _stops(staff, day: date) -> list[RouteStop]:
    """Today's stops of reports the staff member may still see, in order."""
    visible = scope_reports(select(Report.id), staff)
    return list(db.session.scalars(
        select(RouteStop).where(RouteStop.staff_user_id == staff.id, RouteStop.day == day,
                                RouteStop.report_id.in_(visible))
        .order_by(RouteStop.position, RouteStop.id)))


def route_references(staff, day: date | None = None) -> set[str]:
    return {stop.report.reference for stop in _stops(staff, day or today())}


def _point(report: Report) -> tuple[float, float] | None:
    return (report.lat, report.lon) if report.lat is not None and report.lon is not None else None


def route(staff, here: tuple[float, float] | None = None, day: date | None = None) -> list[Stop]:
    result: list[Stop] = []
    previous = here
    for stop in _stops(staff, day or today()):
        point = _point(stop.report)
        result.append(Stop(report=stop.report, position=stop.position,
                           distance_m=distance_m(previous, point) if previous and point else None))
        previous = point or previous
    return result


def add_stop(staff, report: Report, day: date | None = None) -> bool:
    """Put a report the staff member may see at the end of today's route; False when it was on it already."""
    day = day or today()
    if not report.is_open:
        raise RouteRefused("Deze melding is al afgesloten.")
    exists = db.session.scalar(select(RouteStop.id).where(RouteStop.staff_user_id == staff.id,
                                                          RouteStop.day == day, RouteStop.report_id == report.id))
    if exists:
        return False
    count, last = db.session.execute(select(func.count(), func.max(RouteStop.position)).where(
        RouteStop.staff_user_id == staff.id, RouteStop.day == day)).one()
    if count >= MAX_STOPS:
        raise RouteRefused(f"Uw route voor vandaag heeft al {MAX_STOPS} meldingen.")
    db.session.add(RouteStop(staff_user_id=staff.id, day=day, report_id=report.id, position=(last or 0) + 1))
    db.session.flush()
    return True


def remove_stop(staff, report: Report, day: date | None = None) -> bool:
    day = day or today()
    stop = db.session.scalar(select(RouteStop).where(RouteStop.staff_user_id == staff.id, RouteStop.day == day,
                                                     RouteStop.report_id == report.id))
    if stop is None:
        return False
    db.session.delete(stop)
    db.session.flush()
    return True


def order_nearest_neighbour(staff, here: tuple[float, float] | None = None, day: date | None = None) -> None:
    """Reorder today's stops: from `here` (else the first stop) always to the nearest stop not yet visited.
    Stops without a place go last, in the order they had."""
    stops = _stops(staff, day or today())
    placed = [(s, point) for s in stops if (point := _point(s.report)) is not None]
    unplaced = [s for s in stops if _point(s.report) is None]
    ordered: list[RouteStop] = []
    current = here
    if current is None and placed:
        first, current = placed.pop(0)
        ordered.append(first)
    while placed:
        here_now = current
        nearest = min(placed, key=lambda sp: distance_m(here_now, sp[1]))
        placed.remove(nearest)
        ordered.append(nearest[0])
        current = nearest[1]
    for position, stop in enumerate(ordered + unplaced, start=1):
        stop.position = position
    db.session.flush()
