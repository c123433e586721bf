"""`meldingen anonymise --older-than DAYS`: the retention run by hand (it also runs daily in the background)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("anonymise")
@click.option("--older-than", "days", type=click.IntRange(min=0, max=36_500), default=None,
              help="days since a report was closed (default: MELDINGEN_RETENTION_DAYS)")
@with_appcontext
def anonymise_command(days):
    """Replace residents' platform ids, names and chat texts of reports closed longer ago than DAYS by
    placeholders; reports and their public text stay."""
    from meldingen.extensions import db
    from meldingen.privacy.retention import retention_batches

    if days is None:
        days = int(current_app.config["RETENTION_DAYS"])
    for result in retention_batches(days, actor="cli"):  # noqa: B007  (the last batch holds the totals)
        db.session.commit()
    click.echo(f"anonymised: {result.reports} reports, {result.residents} residents; "
               f"{result.deliveries_deleted} raw platform deliveries deleted (closed before "
               f"{result.cutoff:%Y-%m-%d %H:%M} UTC)")
