"""Reports at the volume staff work with (about a thousand), inserted in one statement per batch rather than
through the pipeline one by one: a second, not minutes. Used by the tests of the pages at volume and by
bench/bench_first_screen.py. Works on SQLite and PostgreSQL alike (plain INSERT, no generate_series)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import insert, select

from meldingen.extensions import db
from meldingen.reports.references import ALPHABET
from meldingen.timeutil import utcnow

CENTRE = (52.3728, 4.8936)  # Dam, Amsterdam
# A spot where many residents report the same few problems (a busy square): pins there overlap at every zoom.
CROWDED_SPOT = (52.3792, 4.9003)


@dataclass
class Volume:
    total: int
    open_in_department: int  # what the department's crew sees on the map and in "mijn werk"
    assigned: int  # of those, assigned to the given crew member
    crowded: int  # of those, within a few metres of CROWDED_SPOT
    references: list[str]  # of the department's open reports, in the order inserted


def reference(i: int) -> str:
    """M-Z plus five letters: the form of a real reference, kept apart from the random ones of make_report."""
    letters = []
    for _ in range(5):
        i, r = divmod(i, len(ALPHABET))
        letters.append(ALPHABET[r])
    return "M-Z" + "".join(reversed(letters))


def fill_reports(department, *, total: int = 1000, open_in_department: int = 600, assigned: int = 30,
                 assignee=None, crowded: int = 40, other_department=None, batch: int = 500) -> Volume:
    """`total` reports of `department`'s organisation: `open_in_department` open in `department` (the first
    `assigned` of them assigned to `assignee`, `crowded` of them at one busy spot), the rest open in
    `other_department` or closed. Spread over some 6 km around the centre of Amsterdam, created over a year."""
    from meldingen.categories.models import Category
    from meldingen.reports.models import Report

    categories = list(db.session.scalars(select(Category.id).where(Category.parent_id.is_not(None))
                                         .order_by(Category.id).limit(40)))
    now = utcnow()
    rows, refs = [], []
    for i in range(total):
        in_department = i < open_in_department
        closed = not in_department and (other_department is None or i % 2 == 0)
        if in_department and i < crowded:
            # within about 3 m of the spot
            lat, lon = CROWDED_SPOT[0] + (i % 7) * 0.000004, CROWDED_SPOT[1] + (i % 5) * 0.000006
        else:
            angle, radius = i * 2.399963, 0.03 * math.sqrt((i * 7919 % total + 1) / total)  # a sunflower spread
            lat, lon = CENTRE[0] + radius * math.sin(angle), CENTRE[1] + radius * 1.6 * math.cos(angle)
        created = now - timedelta(days=i * 365 / total, minutes=i)
        ref = reference(i)
        if in_department:
            refs.append(ref)
        rows.append({
            "reference": ref, "category_id": categories[i % len(categories)], "category_confirmed": True,
            "description": f"Melding {i} bij de volumetest", "lat": lat, "lon": lon,
            "address_street": "Volumestraat", "address_number": str(1 + i % 300), "address_unknown": False,
            "municipality_code": department.organisation.code, "organisation_id": department.organisation_id,
            "department_id": department.id if in_department or closed else other_department.id,
            "assignee_id": assignee.id if assignee is not None and in_department and i < assigned else None,
            "channel": "whatsapp", "status": "done" if closed else ("new", "in_progress", "planned")[i % 3],
            "deadline": created + timedelta(days=10), "created_at": created, "updated_at": created,
            "closed_at": created + timedelta(days=2) if closed else None, "reporters_count": 1 + i % 3,
        })
    for start in range(0, len(rows), batch):
        db.session.execute(insert(Report), rows[start:start + batch])
    db.session.commit()
    return Volume(total=total, open_in_department=open_in_department,
                  assigned=min(assigned, open_in_department) if assignee is not None else 0,
                  crowded=min(crowded, open_in_department), references=refs)
