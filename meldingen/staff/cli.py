"""Command line for credentials: staff API tokens (list, revoke) and Open311 keys per application.

Shell access to the server is an operator's, trusted with everything; these commands act for no member of staff
and so are not checked against the authorisation table (docs/SECURITY.md). Each command that changes something
commits it."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from meldingen.extensions import db


def _when(value) -> str:
    from meldingen.timeutil import as_aware_utc

    value = as_aware_utc(value)
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


@click.command("tokens")
@click.argument("email")
@with_appcontext
def staff_tokens_command(email):
    """List the account's API tokens: id, name, created, last used, expiry, state."""
    from meldingen.staff.services import StaffError, token_state, tokens_of

    try:
        tokens = tokens_of(email)
    except StaffError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("id\tname\tcreated\tlast used\texpires\tstate")
    for token in tokens:
        click.echo(f"{token.id}\t{token.name or '-'}\t{_when(token.created_at)}\t{_when(token.last_used_at)}\t"
                   f"{_when(token.expires_at)}\t{token_state(token)}")


@click.command("revoke")
@click.argument("token_id", type=int)
@with_appcontext
def staff_revoke_command(token_id):
    """Revoke one API token (by the id `meldingen staff tokens` shows); it stops working at once."""
    from meldingen.staff.services import StaffError, revoke_token

    try:
        token = revoke_token(token_id)
    except StaffError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"revoked token {token.id} ({token.name or 'unnamed'}) of {token.user.email}")


@click.group("open311")
def open311_cli():
    """Open311 api_keys of applications."""


@open311_cli.command("key")
@click.argument("application")
@click.option("--organisation", "organisation_code", required=True, help="the organisation the key submits for")
@with_appcontext
def open311_key_command(application, organisation_code):
    """Print a new Open311 api_key for APPLICATION on stdout, nothing else."""
    from meldingen.open311.keys import Open311KeyError, issue_key

    try:
        _, text = issue_key(application, organisation_code)
    except Open311KeyError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(text)


@open311_cli.command("keys")
@with_appcontext
def open311_keys_command():
    """List the Open311 keys: id, application, organisation, created, last used, state."""
    from meldingen.open311.keys import keys_of

    click.echo("id\tapplication\torganisation\tcreated\tlast used\tstate")
    for key in keys_of():
        state = "revoked" if key.revoked_at else "active"
        click.echo(f"{key.id}\t{key.application}\t{key.organisation.code}\t{_when(key.created_at)}\t"
                   f"{_when(key.last_used_at)}\t{state}")


@open311_cli.command("revoke")
@click.argument("key_id", type=int)
@with_appcontext
def open311_revoke_command(key_id):
    """Revoke one Open311 key; it stops working at once."""
    from meldingen.open311.keys import Open311KeyError, revoke_key

    try:
        key = revoke_key(key_id)
    except Open311KeyError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"revoked Open311 key {key.id} ({key.application})")
