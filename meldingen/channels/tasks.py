"""Background work on a stored inbound event: fetch its photos, answer button presses, hand it to the intake."""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import select

from meldingen import jobs
from meldingen.channels import registry, telegram
from meldingen.channels.base import PlatformError
from meldingen.channels.messages import InboundMessage
from meldingen.channels.models import InboundEvent
from meldingen.extensions import db
from meldingen.media import refusals
from meldingen.media.images import ImageRejected
from meldingen.media.services import fetch_platform_media, store_photo
from meldingen.plugins import import_optional
from meldingen.reports.models import Photo
from meldingen.timeutil import utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 4
RETRY_SECONDS = (10, 60, 300)

# The intake's entry point: receive_message(message, *, event, channel, photo_ids). Looked up at run time,
# so channels do not depend on the intake's module at import.
INTAKE_HANDLER = "meldingen.intake.services:receive_message"
_warned_no_intake = False
# Processed messages are marked read (WhatsApp's blue ticks) through the outbox; also looked up at run time.
READ_RECEIPT_HANDLER = "meldingen.notify.receipts:queue_read_receipt"


@jobs.task("channels.process_event")
def process_event(event_id: int, attempt: int = 0) -> None:
    event = db.session.get(InboundEvent, event_id)
    if event is None or event.state != "pending":
        return  # already done: a job delivered twice changes nothing
    message = InboundMessage.from_dict(event.payload["message"])
    channel = registry.channel_by_id(message.channel_kind, event.channel_id)
    refused: list[str] = list(message.media_refused)
    try:
        photo_ids, media_errors = collect_photos(message, channel, refused)
    except PlatformError as exc:
        db.session.rollback()
        if attempt + 1 < MAX_ATTEMPTS:
            delay = RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)]
            log.warning("event %s: media not fetched (%s); retry in %ss", event_id, exc.message, delay)
            jobs.enqueue_in(delay, "channels.process_event", event_id=event_id, attempt=attempt + 1)
            return
        photo_ids, media_errors = [], [exc.message]
        refused = [*message.media_refused, refusals.NOT_FETCHED]
        event = db.session.get(InboundEvent, event_id)
    # media_errors: the detail for staff and logs (English); media_refusals: codes the resident is told about.
    event.payload = {**event.payload, "photo_ids": photo_ids, "media_errors": media_errors,
                     "media_refusals": refused}
    if message.callback_query_id and channel is not None:
        answer_button_press(channel, message.callback_query_id)
    handler = _intake_handler()
    if handler is not None:
        handler(message, event=event, channel=channel, photo_ids=photo_ids)
        mark_read = import_optional(READ_RECEIPT_HANDLER)
        if mark_read is not None:  # in this transaction: the receipt is queued exactly when the event is done
            mark_read(message, event=event, channel=channel)
    event.state = "done"
    event.processed_at = utcnow()
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
    if message.channel_kind == "webchat":
        tokens = [m.ref for m in message.media]
        return list(db.session.scalars(select(Photo.id).where(Photo.token.in_(tokens)))), []
    if channel is None:
        refused.append(refusals.NOT_FETCHED)
        return [], [f"{message.channel_kind} channel no longer configured"]
    photo_ids, errors = [], []
    for media in message.media:
        try:
            download = fetch_platform_media(channel, media.ref)
            photo = store_photo(download.data, source=message.channel_kind)
        except PlatformError as exc:
            if exc.retryable:
                raise
            errors.append(exc.message)
            refused.append(refusals.TOO_LARGE if exc.code == "too_large" else refusals.NOT_FETCHED)
            continue
        except ImageRejected as exc:
            errors.append(exc.reason)
            refused.append(exc.code)
            continue
        photo_ids.append(photo.id)
    return photo_ids, errors


def answer_button_press(channel: registry.ChannelConfig, callback_query_id: str) -> None:
    """Telegram keeps a spinner on the button until it is answered; failing that is not worth a retry."""
    import httpx

    try:
        with httpx.Client() as client:
            telegram.answer_callback_query(client, channel.api_url, channel.secret("bot_token"), callback_query_id)
    except PlatformError as exc:
        log.info("callback query not answered: %s", exc.message)


def _intake_handler():
    handler = import_optional(INTAKE_HANDLER)
    if handler is None:
        global _warned_no_intake
        if not _warned_no_intake and not current_app.testing:
            _warned_no_intake = True
            log.warning("no intake installed; inbound events are stored but not assembled into reports")
    return handler
