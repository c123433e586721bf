"""Subscribing a URL to an organisation's report events, and writing an event's deliveries with the change.

An event becomes one outbox row per subscription that wants it and may see the report: its organisation's reports
(a service point's subscription: those of the organisations it serves, and reports not yet placed), as staff of
that organisation see them. The rows are written in the transaction of the change (so an event exists exactly
when the change does) and handed to the workers once it commits. Nothing here commits.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

from flask import current_app
from sqlalchemy import select

from meldingen import authz, jobs
from meldingen.extensions import db
from meldingen.inputs.urls import URLRefused, check_outbound_url
from meldingen.organisations.models import Organisation
from meldingen.subscriptions.models import EVENT_TYPES, WebhookDelivery, WebhookSubscription
from meldingen.subscriptions.signing import new_secret
from meldingen.timeutil import isoformat, utcnow

MAX_URL = 2000
_PENDING = "meldingen_webhook_deliveries"  # this transaction's new deliveries, per report id


class SubscriptionError(ValueError):
    """A subscription that cannot be made or found; the message says why."""


def allow_private() -> bool:
    """Loopback, private addresses and plain http: only where configured (tests) or in development."""
    value = current_app.config.get("WEBHOOK_ALLOW_PRIVATE", False)
    return bool(current_app.debug) or value is True or str(value).strip().lower() in ("1", "true", "yes", "on")


def check_url(url: str) -> None:
    """Raises URLRefused for a URL deliveries may not go to (see inputs/urls.py)."""
    if len(url) > MAX_URL:
        raise URLRefused(f"longer than {MAX_URL} characters")
    private = allow_private()
    check_outbound_url(url, allow_http=private, allow_private=private)


def parse_events(text: str | None) -> list[str]:
    if text is None or not text.strip():
        return list(EVENT_TYPES)
    events = list(dict.fromkeys(e.strip() for e in text.split(",") if e.strip()))
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown or not events:
        raise SubscriptionError(f"unknown event {', '.join(unknown) or '(none)'}; the events are "
                                + ", ".join(EVENT_TYPES))
    return events


def subscribe(organisation_code: str, url: str, events: list[str] | None = None) -> tuple[WebhookSubscription, str]:
    """A new subscription and its signing secret (shown once). Flushes."""
    organisation = db.session.scalar(select(Organisation).where(Organisation.code == (organisation_code or "")))
    if organisation is None:
        raise SubscriptionError(f"no organisation with code {organisation_code}")
    url = (url or "").strip()
    try:
        check_url(url)
    except URLRefused as exc:
        raise SubscriptionError(f"this URL cannot receive events: {exc.reason}") from None
    secret = new_secret()
    subscription = WebhookSubscription(organisation=organisation, url=url, secret=secret,
                                       events=list(events) if events else list(EVENT_TYPES))
    db.session.add(subscription)
    db.session.flush()
    return subscription, secret


def subscriptions_of(organisation_ids: list[int] | None = None) -> list[WebhookSubscription]:
    query = select(WebhookSubscription).order_by(WebhookSubscription.id)
    if organisation_ids is not None:
        query = query.where(WebhookSubscription.organisation_id.in_(organisation_ids))
    return list(db.session.scalars(query))


def unsubscribe(subscription_id: int, organisation_ids: list[int] | None = None) -> WebhookSubscription:
    """Remove a subscription and its deliveries, also those not yet sent. Flushes."""
    subscription = db.session.get(WebhookSubscription, subscription_id)
    if subscription is None or (organisation_ids is not None and subscription.organisation_id not in organisation_ids):
        raise SubscriptionError(f"no subscription {subscription_id}")
    db.session.delete(subscription)
    db.session.flush()
    return subscription


def may_see(subscription: WebhookSubscription, report) -> bool:
    """The organisation's own reports, as its staff see them (authz: a service point acts for those it serves)."""
    if report.organisation_id is None:
        return subscription.organisation is not None and subscription.organisation.kind == "service_point"
    return report.organisation_id in authz.organisation_ids_acting_for(subscription.organisation_id)


def record_event(report, event_type: str, render: Callable[[], dict]) -> list[WebhookDelivery]:
    """Write the deliveries of one event about `report` (its `data`, rendered once by `render` when anyone
    wants it), to be sent after the commit. Flushes."""
    wanted = [s for s in subscriptions_of() if event_type in (s.events or []) and may_see(s, report)]
    if not wanted:
        return []
    body = json.dumps({"type": event_type, "timestamp": isoformat(utcnow()), "data": render()},
                      ensure_ascii=False, separators=(",", ":"))
    deliveries = [WebhookDelivery(subscription_id=s.id, message_id=f"msg_{uuid.uuid4().hex}", event_type=event_type,
                                  report_id=report.id, body=body, state="queued") for s in wanted]
    db.session.add_all(deliveries)
    db.session.flush()
    _pending(report.id).extend(deliveries)
    for delivery in deliveries:
        jobs.after_commit("subscriptions.deliver", delivery_id=delivery.id)
    return deliveries


def drop_pending(report_id: int, event_type: str) -> None:
    """Forget the not yet committed deliveries of `event_type` about a report (its status change while it was
    being made, an automatic merge: the `report.created` event that follows shows it). Flushes."""
    pending = _pending(report_id)
    for delivery in [d for d in pending if d.event_type == event_type]:
        pending.remove(delivery)
        db.session.delete(delivery)
    db.session.flush()


def _pending(report_id: int) -> list[WebhookDelivery]:
    """This transaction's deliveries about a report (a new transaction starts with none)."""
    transaction = db.session().get_transaction()
    kept: tuple[object, dict[int, list[WebhookDelivery]]] | None = db.session.info.get(_PENDING)
    if kept is None or kept[0] is not transaction:
        kept = (transaction, {})
        db.session.info[_PENDING] = kept
    return kept[1].setdefault(report_id, [])
