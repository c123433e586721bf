"""The `meldingen` command: a Flask CLI group with the app loaded (`meldingen --help` lists everything)."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext

from meldingen.extensions import db


def register_cli(app: Flask) -> None:
    """Every command group of `meldingen`, by name."""
    from meldingen.classify.cli import classifier_cli
    from meldingen.privacy.cli import anonymise_command
    from meldingen.staff.cli import open311_cli, staff_revoke_command, staff_tokens_command
    from meldingen.subscriptions.cli import subscriptions_cli
    from meldingen.worker import jobs_cli, scheduler_command, worker_command

    app.cli.add_command(load_sample_data_command)
    app.cli.add_command(import_group)
    app.cli.add_command(staff_group)
    staff_group.add_command(staff_tokens_command)
    staff_group.add_command(staff_revoke_command)
    app.cli.add_command(open311_cli)
    app.cli.add_command(classifier_cli)
    app.cli.add_command(worker_command)
    app.cli.add_command(scheduler_command)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(anonymise_command)
    app.cli.add_command(subscriptions_cli)


def _progress(items, label):
    items = list(items)
    with click.progressbar(items, label=label.ljust(22), file=sys.stderr) as bar:
        yield from bar


@click.command("load-sample-data")
@with_appcontext
def load_sample_data_command():
    """Organisations, departments, categories, routing rules, areas and addresses from sample_data/."""
    from meldingen.seed import load_sample_data

    counts = load_sample_data(progress=_progress, echo=click.echo)
    db.session.commit()
    click.echo(
        "Loaded: {municipality} municipalities, {district} districts, {neighbourhood} neighbourhoods, "
        "{addresses} addresses.".format(**counts)
    )


@click.group("import")
def import_group():
    """Import areas, addresses or assets from files."""


def _report_import(result, what: str) -> None:
    from meldingen.geo.imports import ImportResult

    assert isinstance(result, ImportResult)
    for line in result.skipped:
        click.echo(f"skipped {line}", err=True)
    click.echo(f"{what}: {result.created} new, {result.updated} updated, {len(result.skipped)} skipped")


@import_group.command("areas")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--level", required=True, type=click.Choice(["municipality", "district", "neighbourhood"]))
@click.option("--code-property", required=True)
@click.option("--name-property", required=True)
@click.option("--parent-property", default=None)
@click.option("--municipality-property", default=None, help="property holding the municipality code, if any")
@with_appcontext
def import_areas_command(file, level, code_property, name_property, parent_property, municipality_property):
    """Load polygons from any GeoJSON in WGS84."""
    from meldingen.geo.imports import ImportFileError, import_areas

    try:
        result = import_areas(file, level, code_property, name_property, parent_property,
                              municipality_property, progress=lambda items: _progress(items, "areas"))
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    _report_import(result, "areas")


@import_group.command("addresses")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_addresses_command(file):
    """Load a BAG address CSV (columns as in the shared sample)."""
    from meldingen.geo.imports import ImportFileError, import_addresses

    try:
        result = import_addresses(file, progress=lambda items: _progress(items, "addresses"))
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    _report_import(result, "addresses")


@import_group.command("assets")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--type", "asset_type", required=True, help="e.g. street_light, container, tree")
@click.option("--id-column", required=True)
@click.option("--lat-column", default="lat", show_default=True)
@click.option("--lon-column", default="lon", show_default=True)
@click.option("--organisation", default=None, help="organisation code owning the assets")
@click.option("--delimiter", default=None, help="field separator; default: sniffed from the file (, ; tab |)")
@click.option("--encoding", default=None, help="default: UTF-8, else Windows-1252 (Dutch Excel)")
@click.option("--force", is_flag=True, help="import even when no category or routing rule uses this type")
@click.option("--fraction-column", default=None,
              help="column with a container's fraction: glass, paper, residual, plastic, textile, organic (Dutch "
                   "names accepted)")
@with_appcontext
def import_assets_command(file, asset_type, id_column, lat_column, lon_column, organisation, delimiter, encoding,
                          force, fraction_column):
    """Load an asset register from CSV (also as Dutch Excel saves it: ";" and decimal commas, Windows-1252)."""
    from meldingen.geo.imports import ImportFileError, import_assets
    from meldingen.routing.assets import asset_types_in_use

    in_use = asset_types_in_use()
    if asset_type not in in_use:
        named = ", ".join(in_use) if in_use else "none"
        message = (f"no category or routing rule refers to asset type '{asset_type}', so reports would never be "
                   f"linked to these assets; the types in use are: {named}")
        if not force:
            raise click.ClickException(message + ". Check --type, or use --force to import anyway.")
        click.echo(f"warning: {message}; importing anyway (--force)", err=True)
    if delimiter is not None:
        delimiter = {"tab": "\t", "\\t": "\t"}.get(delimiter, delimiter)
        if len(delimiter) != 1:
            raise click.BadParameter("one character, or 'tab'", param_hint="--delimiter")
    try:
        result = import_assets(file, asset_type, id_column, lat_column, lon_column, organisation,
                               progress=lambda items: _progress(items, "assets"), delimiter=delimiter,
                               encoding=encoding, fraction_column=fraction_column)
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    _report_import(result, "assets")


@click.group("staff")
def staff_group():
    """Staff accounts and API tokens."""


@staff_group.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(["admin", "head", "crew", "agent"]))
@click.option("--organisation", "organisation_code", required=True)
@click.option("--department", "department_code", default=None)
@click.option("--name", default=None)
@click.option("--password-stdin", is_flag=True, help="read the password as one line from standard input")
@with_appcontext
def staff_create_command(email, role, organisation_code, department_code, name, password_stdin):
    """Create a staff account; without --password-stdin a password is generated and printed."""
    from meldingen.staff.services import StaffError, create_staff

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        generated = False
    else:
        password = secrets.token_urlsafe(12)
        generated = True
    try:
        user = create_staff(email, role, organisation_code, department_code, password, name=name)
    except StaffError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"created {user.email} ({user.role}, {organisation_code})")
    if generated:
        click.echo(f"password: {password}")


@staff_group.command("token")
@click.argument("email")
@click.option("--name", default="", help="what the token is for, e.g. the system that uses it")
@click.option("--days", default=180, show_default=True, type=click.IntRange(1, 730), help="valid for this long")
@with_appcontext
def staff_token_command(email, name, days):
    """Print a new API token for the account on stdout, nothing else."""
    from meldingen.staff.services import StaffError, issue_token

    try:
        token = issue_token(email, name=name, days=days)
    except StaffError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(token)
