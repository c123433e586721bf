"""Builders for real objects in the test database, through the same services the application uses."""

from __future__ import annotations

from meldingen.extensions import db
from meldingen.pipeline import create_report
from meldingen.reports.services import NewReport

# A point on Westerdoksdijk, Amsterdam (a real BAG address of the sample), and one in Emmen's centre.
AMSTERDAM = (52.3877221, 4.8925727)
EMMEN = (52.7850, 6.8970)
ROTTERDAM = (51.9225, 4.47917)


def make_report(description: str = "Losse stoeptegel voor de deur", *, point=AMSTERDAM,
                category: str | None = "onderhoud-stoep-straat-en-fietspad", channel: str = "staff", **kwargs):
    lat, lon = point
    report = create_report(NewReport(description=description, channel=channel, lat=lat, lon=lon,
                                     category_slug=category, **kwargs))
    db.session.commit()  # as every entry point does
    return report
