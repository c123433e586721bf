"""`meldingen subscriptions add|list|remove`: report events for an organisation's systems (Standard Webhooks).

An operator's commands (shell access is trusted with everything, docs/SECURITY.md); each change is committed."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from meldingen.extensions import db


def _when(value) -> str:
    from meldingen.timeutil import as_aware_utc

    value = as_aware_utc(value)
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


@click.group("subscriptions")
def subscriptions_cli():
    """Subscriptions of systems to an organisation's report events (signed webhooks)."""


@subscriptions_cli.command("add")
@click.option("--organisation", required=True, help="organisation code, e.g. GM0363")
@click.option("--url", required=True, help="https URL that receives the events (POST, JSON)")
@click.option("--events", default=None,
              help="comma-separated: report.created, report.status_changed, report.merged, report.category_changed "
                   "(default: all)")
@with_appcontext
def subscriptions_add_command(organisation, url, events):
    """Subscribe a URL; prints the subscription id and its signing secret (whsec_…, shown only now)."""
    from meldingen.subscriptions.services import SubscriptionError, parse_events, subscribe

    try:
        subscription, secret = subscribe(organisation, url, parse_events(events))
    except SubscriptionError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"subscription {subscription.id}")
    click.echo(f"secret {secret}")


@subscriptions_cli.command("list")
@with_appcontext
def subscriptions_list_command():
    """List subscriptions: id, organisation, URL, events, last delivery (and the last attempt's result)."""
    from meldingen.subscriptions.services import subscriptions_of

    click.echo("id\torganisation\turl\tevents\tlast delivery\tlast result")
    for s in subscriptions_of():
        click.echo(f"{s.id}\t{s.organisation.code}\t{s.url}\t{','.join(s.events or [])}\t"
                   f"{_when(s.last_delivered_at)}\t{s.last_result or '-'}")


@subscriptions_cli.command("remove")
@click.argument("subscription_id", type=int)
@with_appcontext
def subscriptions_remove_command(subscription_id):
    """Remove a subscription; events not yet delivered to it are dropped."""
    from meldingen.subscriptions.services import SubscriptionError, unsubscribe

    try:
        subscription = unsubscribe(subscription_id)
    except SubscriptionError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"removed subscription {subscription_id} ({subscription.url})")
