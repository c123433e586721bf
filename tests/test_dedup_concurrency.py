"""Two residents reporting the same broken light at the same instant end with one open report."""

from __future__ import annotations

import threading

from sqlalchemy import select

from meldingen.extensions import db
from meldingen.reports.models import Report
from tests.factories import AMSTERDAM, make_report


def create(text, point) -> int:
    """No retry: on SQLite the pipeline takes the write lock before it reads what it will decide on, so a
    concurrent writer waits instead of failing with "database is locked"."""
    return make_report(text, point=point, category="straatverlichting-openbare-klok").id


def test_two_duplicates_arriving_at_the_same_instant_make_one_open_report(app):
    rounds, made, errors = 3, [], []
    for round_ in range(rounds):
        point = (AMSTERDAM[0], AMSTERDAM[1] + round_ * 0.003)  # each round its own light, 200 m apart
        barrier = threading.Barrier(2)

        def report_it(text, point=point, barrier=barrier):
            with app.app_context():  # its own session and database connection
                try:
                    barrier.wait(timeout=10)
                    made.append(create(text, point))
                except Exception as exc:  # pragma: no cover - shown by the assertion below
                    errors.append(exc)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=report_it, args=(text,))
                   for text in ("Lantaarnpaal doet het niet", "De lamp is kapot")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == []
    db.session.expire_all()
    reports = db.session.scalars(select(Report).where(Report.id.in_(made))).all()
    assert len(reports) == 2 * rounds
    open_ones = [r for r in reports if r.duplicate_of_id is None]
    assert len(open_ones) == rounds and all(r.status == "new" and r.reporters_count == 2 for r in open_ones)
    assert all(r.status == "duplicate" and r.duplicate_of_id in {o.id for o in open_ones}
               for r in reports if r.duplicate_of_id is not None)
