"""One delivery attempt of a report event, in three steps (the task in `tasks.py` commits between them):

1. `claim`: a due row ("queued", or "sending" whose worker died: its lease ran out) becomes "sending" with one
   more attempt, in one conditional UPDATE, so two workers never send it at once;
2. `post`: the POST to the subscriber, no transaction open: the stored body, signed now (Standard Webhooks:
   `webhook-id` the row's message id, the same on every attempt; `webhook-timestamp` now; `webhook-signature`);
   the URL is checked before every request (no redirects are followed), with a timeout;
3. `record`: any 2xx is "delivered"; otherwise the row waits for its next attempt (WEBHOOK_RETRY_SECONDS, the
   last wait repeats) or, after WEBHOOK_MAX_ATTEMPTS, is "parked" for administrators, who may retry it.

At least once: a row is only "delivered" after a 2xx; a crash between the POST and the record sends it again
(the receiver drops the repeat by its `webhook-id`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

import httpx
from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import CursorResult

from meldingen import jobs
from meldingen.extensions import db
from meldingen.inputs.urls import URLRefused
from meldingen.recovery.policy import short_reason
from meldingen.subscriptions.models import WebhookDelivery, WebhookSubscription
from meldingen.subscriptions.services import check_url
from meldingen.subscriptions.signing import sign

log = logging.getLogger(__name__)

DEFAULT_RETRY_SECONDS = (10.0, 60.0, 300.0, 1800.0, 7200.0, 21600.0)
USER_AGENT = "Meldingen-Webhooks/1"


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    result: str  # "200", "HTTP 500", "ReadTimeout: …"
    retryable: bool = True


def retry_delay(attempts: int) -> float:
    configured = current_app.config.get("WEBHOOK_RETRY_SECONDS") or DEFAULT_RETRY_SECONDS
    schedule = [max(0.0, float(s)) for s in configured] or list(DEFAULT_RETRY_SECONDS)
    return schedule[min(max(attempts, 1) - 1, len(schedule) - 1)]


def max_attempts() -> int:
    return max(1, int(current_app.config.get("WEBHOOK_MAX_ATTEMPTS", 8)))


def timeout() -> float:
    return float(current_app.config.get("WEBHOOK_TIMEOUT", 10.0))


def lease() -> timedelta:
    """A claimed row whose attempt is older than this is taken over: its worker is presumed dead."""
    return timedelta(seconds=4 * timeout() + 5)


def _due(now: datetime):
    return or_(
        and_(WebhookDelivery.state == "queued",
             or_(WebhookDelivery.next_attempt_at.is_(None), WebhookDelivery.next_attempt_at <= now)),
        and_(WebhookDelivery.state == "sending", WebhookDelivery.last_attempt_at < now - lease()),
    )


def due_ids(now: datetime, limit: int = 500) -> list[int]:
    return list(db.session.scalars(select(WebhookDelivery.id).where(_due(now)).order_by(WebhookDelivery.id)
                                   .limit(limit)))


def claim(delivery_id: int, now: datetime) -> WebhookDelivery | None:
    """Make a due row ours ("sending", one more attempt); None when it is not due or another worker has it."""
    result = cast(CursorResult, db.session.execute(
        update(WebhookDelivery).where(WebhookDelivery.id == delivery_id, _due(now))
        .values(state="sending", attempts=WebhookDelivery.attempts + 1, last_attempt_at=now)
        .execution_options(synchronize_session=False)
    ))
    claimed = result.rowcount
    if not claimed:
        return None
    return db.session.get(WebhookDelivery, delivery_id, populate_existing=True)


def post(url: str, secret: str, message_id: str, body: str, now: datetime) -> Outcome:
    """Send the event once; only reads. Never raises for what the subscriber or the network does."""
    timestamp = int(now.timestamp())
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }
    try:
        check_url(url)
        with httpx.Client(timeout=timeout(), follow_redirects=False,
                          event_hooks={"request": [lambda request: check_url(str(request.url))]}) as client:
            response = client.post(url, content=body.encode("utf-8"), headers=headers)
    except URLRefused as exc:
        return Outcome(False, f"URL refused: {exc.reason}"[:300], retryable=False)
    except httpx.HTTPError as exc:
        return Outcome(False, short_reason(exc)[:300])
    if 200 <= response.status_code < 300:
        return Outcome(True, str(response.status_code))
    return Outcome(False, f"HTTP {response.status_code}")


def record(delivery: WebhookDelivery, outcome: Outcome, now: datetime) -> str:
    """Write down what the attempt gave; a retry is handed to the workers after the caller's commit."""
    subscription = db.session.get(WebhookSubscription, delivery.subscription_id)
    if subscription is not None:
        subscription.last_attempt_at = now
        subscription.last_result = outcome.result
        if outcome.delivered:
            subscription.last_delivered_at = now
    if outcome.delivered:
        delivery.state, delivery.delivered_at, delivery.last_error = "delivered", now, None
    elif not outcome.retryable or delivery.attempts >= max_attempts():
        delivery.state, delivery.parked_at, delivery.last_error = "parked", now, outcome.result
        log.warning("webhook delivery %s parked after %s attempts: %s", delivery.id, delivery.attempts,
                    outcome.result)
    else:
        wait = retry_delay(delivery.attempts)
        delivery.state, delivery.last_error = "queued", outcome.result
        delivery.next_attempt_at = now + timedelta(seconds=wait)
        jobs.after_commit("subscriptions.deliver", delay=wait, delivery_id=delivery.id)
    db.session.flush()
    return delivery.state


def requeue(delivery: WebhookDelivery) -> None:
    """An administrator's retry of a parked delivery: a fresh round of attempts, the same webhook-id."""
    delivery.state, delivery.attempts, delivery.next_attempt_at, delivery.parked_at = "queued", 0, None, None
    db.session.flush()
    jobs.after_commit("subscriptions.deliver", delivery_id=delivery.id)


def dismiss(delivery: WebhookDelivery) -> None:
    delivery.state = "dismissed"
    db.session.flush()


def parked(organisation_ids: list[int] | None = None, limit: int = 200) -> list[WebhookDelivery]:
    query = (select(WebhookDelivery).join(WebhookSubscription)
             .where(WebhookDelivery.state == "parked").order_by(WebhookDelivery.parked_at.desc()).limit(limit))
    if organisation_ids is not None:
        query = query.where(WebhookSubscription.organisation_id.in_(organisation_ids))
    return list(db.session.scalars(query))
