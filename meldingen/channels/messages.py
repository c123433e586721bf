"""The normalised inbound message, delivery status and parse result that every platform parser produces."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

# "unsupported": a message with nothing to read (a voice note, a poll, a file that is no photo): the resident is
# asked to type; its caption, when it has one, is read like a photo's. "quiet": a reaction, a sticker, a live
# location's update: logged for the inbox and acknowledged, never answered, never the start of a draft.
MESSAGE_KINDS = ("text", "photo", "location", "reply", "unsupported", "quiet")


class PayloadError(ValueError):
    """The body is not of the platform's shape; `reason` says what was wrong (for the log and the 400)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Location:
    lat: float
    lon: float
    name: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class MediaRef:
    """A photo as the platform refers to it: WhatsApp media id, Telegram file_id, Twilio media URL, webchat upload id.

    Never shown to browsers: a Telegram file URL holds the bot token, and Twilio's needs the account's credentials.
    """

    ref: str
    mime_type: str | None = None
    caption: str | None = None
    file_size: int | None = None
    sha256: str | None = None
    unique_id: str | None = None  # Telegram file_unique_id: the same photo, whichever bot or time


@dataclass(frozen=True)
class InboundMessage:
    channel_kind: str
    external_id: str  # platform message id / update id / MessageSid: the idempotency key
    platform_user_id: str  # where replies go: wa_id, Telegram chat id, Twilio From, webchat session
    display_name: str | None
    sent_at: datetime  # aware, UTC; the time the resident sent it, not the time we processed it
    kind: str  # one of MESSAGE_KINDS
    text: str | None = None  # text, or caption of a photo
    location: Location | None = None
    media: tuple[MediaRef, ...] = ()
    reply_id: str | None = None  # payload id of the button or list row the resident chose
    reply_title: str | None = None
    unsupported_type: str | None = None  # voice, poll_creation, video, ... (unsupported); reaction, ... (quiet)
    media_group_id: str | None = None  # Telegram album: several updates share it, caption on only one
    channel_address: str | None = None  # our side: WhatsApp phone_number_id, Twilio To, Telegram bot id
    # the platform id of our message this one replies to (WhatsApp context.id, Telegram reply_to_message,
    # Twilio OriginalRepliedMessageSid, Messenger reply_to.mid, a Signal quote): the intake finds its report
    context_id: str | None = None
    callback_query_id: str | None = None  # Telegram: must be answered, or the button keeps spinning
    edited: bool = False  # Telegram edited_message (corrected text, live location update)
    media_refused: tuple[str, ...] = ()  # refusal codes (media/refusals.py) of photos checked before storing

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["sent_at"] = self.sent_at.isoformat()
        data["media"] = [asdict(m) for m in self.media]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InboundMessage:
        values = dict(data)
        values["sent_at"] = datetime.fromisoformat(values["sent_at"])
        values["location"] = Location(**values["location"]) if values.get("location") else None
        values["media"] = tuple(MediaRef(**m) for m in values.get("media") or ())
        values["media_refused"] = tuple(values.get("media_refused") or ())
        return cls(**values)


@dataclass(frozen=True)
class DeliveryStatus:
    """What the platform says became of a message we sent (sent, delivered, read, failed, ...)."""

    channel_kind: str
    platform_message_id: str
    status: str
    at: datetime
    error: str | None = None
    # Our own reference echoed by the platform (WhatsApp biz_opaque_callback_data, the outbox id in Twilio's
    # StatusCallback URL): ties a receipt to the outbox row even when the send's answer never arrived.
    reference: str | None = None
    # A watermark receipt (Messenger's read and delivery: "everything up to `at`") names the resident whose earlier
    # messages from us it covers; the outbox applies it to each of them.
    covers_earlier_to: str | None = None

    @property
    def event_key(self) -> str:
        """Idempotency key of this receipt: one message gets several receipts, each only once."""
        return f"status:{self.platform_message_id}:{self.status}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        return data


@dataclass(frozen=True)
class UnreadableItem:
    """One message (or receipt) inside a valid delivery that cannot be read: kept raw with the reason, skipped.

    A batch is as good as its valid items: one malformed message must not cost the others (a 400 would make the
    platform re-send the whole body for days, and the good messages would never be processed).
    """

    channel_kind: str
    key: str  # the platform's id of the item when it has one, else a digest of the raw item
    reason: str
    raw: Any

    @property
    def event_key(self) -> str:
        return f"unreadable:{self.key}"

    def to_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "raw": self.raw}


def unreadable(channel_kind: str, raw: Any, reason: str, platform_id: Any = None) -> UnreadableItem:
    """An UnreadableItem keyed by the platform's id, or by a digest so that a redelivery is stored once."""
    if isinstance(platform_id, (str, int)) and not isinstance(platform_id, bool) and str(platform_id):
        key = str(platform_id)[:150]
    else:
        canonical = json.dumps(raw, sort_keys=True, default=str, ensure_ascii=True)
        key = "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
    return UnreadableItem(channel_kind, key, reason, raw)


@dataclass
class ParsedWebhook:
    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[DeliveryStatus] = field(default_factory=list)
    unreadable: list[UnreadableItem] = field(default_factory=list)


# Parsing helpers shared by the platform parsers.


def from_unix(value: Any, what: str = "timestamp") -> datetime:
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        raise PayloadError(f"{what} is not a unix time: {value!r}") from None
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise PayloadError(f"{what} is out of range: {value!r}") from None


def require_dict(value: Any, what: str) -> dict:
    if not isinstance(value, dict):
        raise PayloadError(f"{what} is not an object")
    return value


def require_list(value: Any, what: str) -> list:
    if not isinstance(value, list):
        raise PayloadError(f"{what} is not a list")
    return value


MAX_ID_LENGTH = 200  # platform ids (wa_id, chat id, message id, MessageSid) are far shorter; the database column too


def require_str(value: Any, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        raise PayloadError(f"{what} is missing")
    text = str(value)
    if len(text) > MAX_ID_LENGTH:
        raise PayloadError(f"{what} is longer than {MAX_ID_LENGTH} characters")
    return text


def require_text(value: Any, what: str) -> str:
    """A resident's words: present, and as long as the platform allows. Not an id, so no id's length limit: the
    text is bounded where it is stored (`inbound.normalised_message`), cut there, never refused here."""
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        raise PayloadError(f"{what} is missing")
    return str(value)


MAX_URL_LENGTH = 4096  # media URLs from a platform's CDN run to a few hundred characters, never near this


def require_url(value: Any, what: str) -> str:
    """A media URL the platform sent: present, and of a URL's length (longer than an id, so not `require_str`)."""
    if not isinstance(value, str) or not value:
        raise PayloadError(f"{what} is missing")
    if len(value) > MAX_URL_LENGTH:
        raise PayloadError(f"{what} is longer than {MAX_URL_LENGTH} characters")
    return value


def optional_str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def coordinate(value: Any, what: str, limit: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise PayloadError(f"{what} is not a number: {value!r}") from None
    if not -limit <= number <= limit:  # also refuses NaN
        raise PayloadError(f"{what} out of range: {value!r}")
    return number


def make_location(lat: Any, lon: Any, name: Any = None, address: Any = None) -> Location:
    return Location(
        lat=coordinate(lat, "latitude", 90.0),
        lon=coordinate(lon, "longitude", 180.0),
        name=optional_str(name),
        address=optional_str(address),
    )
