"""Background work on a stored inbound event: fetch its photos, answer button presses, hand it to the intake.

Processing is at-least-once with effects once: every attempt claims the event, a failure is recorded with its
backoff, the sweep takes up whatever is due (a lost job, a dead worker, a database that was down), and an
event that keeps failing is parked for staff instead of being retried forever.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import cast

from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import CursorResult

from meldingen import jobs
from meldingen.channels import polling, registry
from meldingen.channels.adapter import ChannelAdapter, ChannelConfig
from meldingen.channels.adapters import adapter_for
from meldingen.channels.base import PlatformError
from meldingen.channels.http import platform_client
from meldingen.channels.messages import InboundMessage
from meldingen.channels.models import InboundEvent
from meldingen.extensions import db
from meldingen.media import refusals
from meldingen.media.images import ImageRejected
from meldingen.media.models import Photo
from meldingen.media.services import store_photo
from meldingen.recovery.policy import lease_seconds, lease_until, retry_delay, short_reason, should_park
from meldingen.signals import message_processed, message_received
from meldingen.timeutil import utcnow

log = logging.getLogger(__name__)



class NoIntake(RuntimeError):
    """Nothing takes in residents' messages (no receiver of `signals.message_received`): the event stays pending."""


def poll() -> int:
    """`channels.poll`: receive and store what waits at every polled platform's channels (channels/polling.py);
    returns how many new message events were stored.

    Each receive's deliveries are committed before anything else is done with them (a receive may be destructive),
    and only then handed to the workers; a full batch is followed by another receive at once (at most MAX_ROUNDS)."""
    stored = 0
    for adapter, channel in polling.polled_channels():
        stored += poll_channel(adapter, channel)
    return stored


def poll_channel(adapter: ChannelAdapter, channel: ChannelConfig, batch_size: int | None = None) -> int:
    """Receive and store what waits for one channel (again while full batches come); new message events."""
    stored = 0
    with jobs.concurrency_slot(polling.poll_slot(adapter, channel), 1, polling.POLL_LEASE_SECONDS) as free:
        if not free:
            return 0  # another worker is polling this channel right now
        for _ in range(polling.MAX_ROUNDS):
            items = polling.receive(adapter, channel)
            if items is None:
                db.session.rollback()
                break
            event_ids = polling.store_received(adapter, channel, items)
            db.session.commit()  # stored before anything else is done with them; then handed to the workers
            stored += len(event_ids)
            if not polling.batch_was_full(adapter, items, batch_size):
                break
    return stored


def import_spool() -> None:
    """Deliveries the embedded default's webhooks wrote to the inbox spool, into the database (channels/spool.py)."""
    from meldingen.channels import spool

    spool.import_waiting()


def process_event(event_id: int, attempt: int = 0) -> None:
    """Process one stored event, at least once and with its effects once.

    The event is claimed first (attempts + 1, leased until next_attempt_at) in its own committed transaction;
    the intake's effects and the event's "done" then commit together, so a failure anywhere leaves the event
    pending for the sweep (`channels.process_due`) and nothing half done. `attempt` is ignored (jobs queued
    by older versions still carry it).
    """
    now = utcnow()
    if not claim_event(event_id, now):
        return  # done, parked, or another worker holds it: a job delivered twice changes nothing
    try:
        _process_claimed(event_id)
    except RetryLater as later:
        db.session.rollback()
        record_failure(event_id, later.reason, utcnow())  # the backoff counts from the failure, not the claim
    except Exception as exc:
        db.session.rollback()
        record_failure(event_id, short_reason(exc), utcnow())
        raise


def process_due(limit: int = 200) -> int:
    """The sweep: pending events whose backoff or lease has passed, and those whose first job was lost."""
    from meldingen.jobs import run_task

    now = utcnow()
    lost_before = now - timedelta(seconds=lease_seconds())
    ids = db.session.scalars(
        select(InboundEvent.id).where(
            InboundEvent.state == "pending",
            or_(InboundEvent.next_attempt_at <= now,
                and_(InboundEvent.next_attempt_at.is_(None), InboundEvent.received_at <= lost_before)))
        .order_by(InboundEvent.id).limit(limit)
    ).all()
    db.session.rollback()
    app = current_app._get_current_object()
    for event_id in ids:
        # Each in its own context and session: one event that fails does not stop the others.
        run_task(app, "channels.process_event", {"event_id": event_id}, raise_errors=False)
    return len(ids)


def take_over_claims(now=None) -> int:
    """A new embedded background process starts: no other process holds work (the one before it died with its
    web process), so every claimed event is due now instead of when its lease would have run out. Events waiting
    out a backoff are due now too: a restart ends whatever outage they waited for, or they fail again. Commits;
    returns how many were taken over."""
    now = now or utcnow()
    # An UPDATE's result is a CursorResult, which has a rowcount.
    result = cast(CursorResult, db.session.execute(
        update(InboundEvent).where(InboundEvent.state == "pending", InboundEvent.next_attempt_at > now)
        .values(next_attempt_at=now).execution_options(synchronize_session=False)))
    taken = result.rowcount
    db.session.commit()
    if taken:
        log.warning("took over %s events a previous process held", taken)
    return taken


class RetryLater(Exception):
    """Something this event needs is unavailable for now (a platform's media API is down)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def claim_event(event_id: int, now) -> bool:
    """Take the event for one attempt: one UPDATE only one worker can win, committed before any work."""
    claimed = db.session.execute(
        update(InboundEvent)
        .where(InboundEvent.id == event_id, InboundEvent.state == "pending",
               or_(InboundEvent.next_attempt_at.is_(None),
                   InboundEvent.next_attempt_at <= now + timedelta(milliseconds=500)))
        .values(attempts=InboundEvent.attempts + 1, last_attempt_at=now, next_attempt_at=lease_until(now))
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return claimed == 1


def record_failure(event_id: int, reason: str, now) -> str:
    """After a failed attempt: try again after the backoff, or park the event for staff. Returns the state."""
    event = db.session.get(InboundEvent, event_id)
    if event is None or event.state != "pending":
        return event.state if event is not None else "gone"
    event.error = reason[:2000]
    if should_park(event.attempts):
        event.state = "parked"
        event.parked_at = now
        event.next_attempt_at = None
        log.error("event %s parked after %s attempts: %s", event_id, event.attempts, reason)
        db.session.commit()
        return "parked"
    delay = retry_delay(event.attempts)
    event.next_attempt_at = now + timedelta(seconds=delay)
    db.session.commit()
    log.warning("event %s failed (attempt %s): %s; retry in %ss", event_id, event.attempts, reason, delay)
    try:
        jobs.enqueue_in(delay, "channels.process_event", event_id=event_id)
    except Exception:  # the sweep takes it up
        log.exception("retry of event %s not scheduled", event_id)
    return "pending"


def _process_claimed(event_id: int) -> None:
    event = db.session.get(InboundEvent, event_id)
    message = InboundMessage.from_dict(event.payload["message"])
    channel = registry.channel_by_id(message.channel_kind, event.channel_id)
    attempts = event.attempts
    db.session.rollback()  # no transaction stays open while the platforms are called
    if not message_received.receivers:
        # The intake is connected by the app factory (`connect_intake`); without it no message may count as done.
        raise NoIntake("no intake connected to message_received; the event is kept for a later attempt")
    if message.callback_query_id and channel is not None:
        answer_button_press(message, channel)
    refused: list[str] = list(message.media_refused)
    try:
        photo_ids, media_errors = collect_photos(message, channel, refused)
    except PlatformError as exc:
        db.session.rollback()
        if not should_park(attempts):
            raise RetryLater(f"media not fetched: {exc.message}") from None
        # The platform kept failing: the message counts without its photos, and the resident is told.
        photo_ids, media_errors = [], [exc.message]
        refused = [*message.media_refused, refusals.NOT_FETCHED]
    event = db.session.get(InboundEvent, event_id)
    # media_errors: the detail for staff and logs (English); media_refusals: codes the resident is told about.
    event.payload = {**event.payload, "photo_ids": photo_ids, "media_errors": media_errors,
                     "media_refusals": refused}
    # The intake takes the message in this transaction, and what reacts to a processed message (the read receipt:
    # WhatsApp's blue ticks, queued in the outbox) does too: exactly when the event is done.
    message_received.send(message, event=event, channel=channel, photo_ids=photo_ids, media_errors=media_errors)
    message_processed.send(message, event=event, channel=channel)
    # Done only while the claim is still ours: an attempt that outlived its lease (a slow intake, a database
    # briefly locked) may have been claimed again by the sweep; then only one of the two may commit its
    # effects (the photo stored, the message taken in), or a photo would be stored and added twice.
    db.session.flush()
    still_ours = db.session.execute(
        update(InboundEvent)
        .where(InboundEvent.id == event_id, InboundEvent.state == "pending", InboundEvent.attempts == attempts)
        .values(state="done", processed_at=utcnow(), next_attempt_at=None, error=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if still_ours != 1:
        db.session.rollback()
        log.warning("event %s: attempt %s outlived its lease and was taken over; its effects are dropped",
                    event_id, attempts)
        return
    db.session.commit()


def collect_photos(message: InboundMessage, channel: registry.ChannelConfig | None,
                   refused: list[str] | None = None) -> tuple[list[int], list[str]]:
    """Photo ids for the message's media: fetched and stored now, or (website chat) stored at upload.

    A photo that is not acceptable (not an image, too large) is an error to tell the resident about, not a
    reason to drop the message: its refusal code is appended to `refused`, and the message's words and place
    still go to the intake. A platform that is down raises PlatformError (retryable) to try again later.
    """
    refused = refused if refused is not None else []
    if not message.media:
        return [], []
    adapter = adapter_for(message.channel_kind)
    if adapter.capabilities.media_uploaded:  # stored at upload: the refs are our own photo tokens
        tokens = [m.ref for m in message.media]
        return list(db.session.scalars(select(Photo.id).where(Photo.token.in_(tokens)))), []
    if channel is None:
        refused.append(refusals.NOT_FETCHED)
        return [], [f"{message.channel_kind} channel no longer configured"]
    # Every download first, then every photo stored: no row is written (on SQLite: no write lock taken)
    # while a platform is being called.
    downloads, errors = [], []
    max_bytes = current_app.config["MAX_PHOTO_BYTES"]
    for media in message.media:
        try:
            downloads.append(adapter.fetch_media(media.ref, channel, max_bytes=max_bytes, client=platform_client()))
        except PlatformError as exc:
            if exc.retryable:
                raise
            errors.append(exc.message)
            refused.append(refusals.TOO_LARGE if exc.code == "too_large" else refusals.NOT_FETCHED)
    photo_ids = []
    for download in downloads:
        try:
            photo = store_photo(download.data, source=message.channel_kind)
        except ImageRejected as exc:
            errors.append(exc.reason)
            refused.append(exc.code)
            continue
        photo_ids.append(photo.id)
    return photo_ids, errors


def answer_button_press(message: InboundMessage, channel: registry.ChannelConfig) -> None:
    """A platform that keeps a spinner on the button until it is answered (Telegram) is answered; failing that
    is not worth a retry."""
    try:
        adapter_for(message.channel_kind).answer_button_press(message, channel, client=platform_client())
    except PlatformError as exc:
        log.info("callback query not answered: %s", exc.message)

