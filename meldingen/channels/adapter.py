"""The one protocol every chat platform implements: what a platform is, how it proves a delivery, what it sends.

Everything in which platforms differ is decided here, per platform, by a `ChannelAdapter` (one module per
platform: `whatsapp.py`, `telegram.py`, …) found by its kind in `channels/adapters.py`. Code outside `channels/`
asks the adapter and never branches on the platform's kind.

An adapter is stateless: every call gets the channel it concerns (`ChannelConfig`: a stored channel or the
default one from the environment) and, where it talks to the platform, an `httpx.Client` (the process's shared
one unless a test brings its own). Framework-free: a webhook arrives as a `WebhookRequest` and leaves as a
`WebhookAnswer`, so adapters are tested without Flask's request objects.

The adapter decides, per platform:
- identity and configuration: `kind`, `name` (staff label), `secret_names`, `default_channel(config)`;
- receiving: `webhook` route, `handshake`, `verify` (signature or secret), `read_payload`, `parse`, `store`
  (event keys), `acknowledgement`; or `receive` for a platform that is polled (no webhook);
- after receiving: `fetch_media`, `answer_button_press`, `read_receipt` + `mark_read`, `message_key` (edits);
- sending: `send` (text, buttons, location request; the service window and approved templates included: it
  raises `HeldForStaff` when only a person may write), `settle_unknown` (what the platform can tell of a send
  whose answer never came), `format_reply` (what the platform cannot show, said in words);
- for staff: `display_name`, `masked_id`;
- `capabilities`: buttons, receipts, window, text length, pacing and concurrency defaults.
"""

from __future__ import annotations

import dataclasses
import hmac
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal

import httpx

from meldingen.channels.base import Download
from meldingen.channels.messages import InboundMessage, ParsedWebhook, PayloadError

# --- Channels --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelConfig:
    """One channel of a platform, as plain data: a stored `Channel` row or the default from the environment."""

    kind: str
    channel_id: int | None  # None: the default channel from the environment
    address: str | None  # our side: WhatsApp phone_number_id, Telegram bot id, Twilio number, Page id, …
    secrets: dict = field(default_factory=dict, hash=False, compare=False)
    api_url: str = ""
    organisation_id: int | None = None
    settings: dict = field(default_factory=dict, hash=False, compare=False)  # e.g. {"templates": {...}}

    def secret(self, name: str) -> str:
        return str(self.secrets.get(name) or "")


# --- Receiving -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookRequest:
    """A platform's HTTP request, without the web framework: what verification and parsing may look at.

    `url` is the public URL the platform called (with its query), which signatures may cover; `headers` are
    looked up without regard to case (`header()`); `form` is the parsed form body (empty for JSON); `body`
    the raw bytes exactly as received (signatures are computed over these).
    """

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    args: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    content_type: str = ""  # the mimetype, without parameters
    remote_addr: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", {str(k).lower(): str(v) for k, v in dict(self.headers).items()})

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class WebhookAnswer:
    """What the webhook answers the platform once a delivery is stored (or the handshake's challenge)."""

    body: str = ""
    status: int = 200
    content_type: str = "text/plain"


@dataclass(frozen=True)
class WebhookRoute:
    """Where a platform delivers: the path, and the endpoint names (authorisation and body limits name them)."""

    path: str
    endpoint: str  # the POST view, in the `webhooks` blueprint
    handshake_endpoint: str | None = None  # a GET handshake on the same path, where the platform has one


@dataclass(frozen=True)
class Delivery:
    """A verified delivery as it is kept until stored (in the request, or in the inbox spool's file).

    `verified`: ids of the channels whose secret verified it (None: the default channel); `reference`: our own
    reference the platform echoed in the URL (Twilio's StatusCallback `?outbox=<id>`)."""

    kind: str
    raw: Any
    verified: tuple[int | None, ...]
    reference: str | None = None

    def to_dict(self) -> dict:
        return {"kind": self.kind, "raw": self.raw, "verified": list(self.verified), "outbox": self.reference}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Delivery:
        return cls(str(data["kind"]), data["raw"], tuple(data.get("verified") or ()), data.get("outbox"))


@dataclass(frozen=True)
class StoredDelivery:
    """What storing one delivery made: the new message events (to process after commit) and the key of the
    channel the delivery came in on (the per-channel limit of the webhooks counts by it)."""

    event_ids: list[int]
    channel_key: str


# --- Sending ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutgoingMessage:
    """One outbox row to send, with what the platform needs to decide how (window, template, buttons)."""

    outbox_id: int
    to: str  # the resident's platform id
    text: str
    buttons: tuple[tuple[str, str], ...] = ()  # (id, title)
    location_request: bool = False
    location_label: str | None = None
    template_key: str | None = None  # the message's purpose: which approved template stands in for it
    values: Mapping[str, Any] = field(default_factory=dict)  # the template's parameters by name
    last_inbound_at: datetime | None = None  # the resident's last message: opens the service window

    @property
    def reference(self) -> str:
        """Our reference, sent along where the platform echoes it in its receipts (see notify/uncertain.py)."""
        return f"outbox:{self.outbox_id}"


class HeldForStaff(Exception):
    """Only a person may write now: outside the platform's service window with no approved template for this
    purpose (or the platform said so). The row is held and its conversation flagged for staff."""


@dataclass(frozen=True)
class UnknownSend:
    """A send whose outcome is unknown (its answer never came), for the platform to tell what became of it."""

    outbox_id: int
    to: str | None  # None: the resident is gone
    text: str
    attempted_at: datetime
    last_error: str | None = None


@dataclass(frozen=True)
class Settlement:
    """What the platform can tell of an unknown send.

    sent: it landed (with the platform's id when known); resend: it certainly did not land, send it again;
    park: only a person can tell (`ask_person`: marked "outcome unknown" for the stuck list);
    check_failed: the platform could not be asked now (try later, park when that keeps failing)."""

    outcome: Literal["sent", "resend", "park", "check_failed"]
    reason: str
    platform_message_id: str | None = None
    ask_person: bool = False


@dataclass(frozen=True)
class Reply:
    """A reply as the intake writes it, before and after the platform's formatting (`format_reply`)."""

    text: str
    buttons: tuple[Mapping[str, str], ...] = ()  # {"id", "title"}
    location_request: bool = False
    payload: Mapping[str, Any] = field(default_factory=dict)  # extra outbox payload the platform's send reads


# --- Capabilities ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Capabilities:
    buttons: int = 0  # most reply buttons in one message; 0: none (choices go as numbered text)
    location_request: bool = False  # a button or message that asks for the location
    read_receipts: bool = False  # we can mark the resident's message read (blue ticks)
    delivery_receipts: bool = False  # the platform reports sent/delivered/read of our messages (settles unknowns)
    service_window: timedelta | None = None  # free-form replies only this long after the resident's last message
    templates: bool = False  # approved templates may be sent outside the window
    max_text_length: int = 4096
    pacing_seconds: float = 0.0  # least time between two messages to the same resident (NOTIFY_PACING_SECONDS)
    concurrency: int | None = 3  # sends in flight per channel when NOTIFY_CONCURRENCY does not say; None: no limit
    leaves_service: bool = True  # False: nothing is sent anywhere (the website chat page collects its messages)
    media_uploaded: bool = False  # media arrive as our own photo tokens (uploaded with the message): no fetch
    combine_replies: bool = False  # replies waiting for their pacing are combined into one message
    polled: bool = False  # the platform is polled for deliveries (`receive`) instead of calling a webhook


# --- The protocol ----------------------------------------------------------------------------------------


class ChannelAdapter(ABC):
    """One chat platform. Subclasses set the class attributes and implement what their platform has; the
    defaults are what a platform without that feature does."""

    kind: ClassVar[str]  # stored on residents, events and outbox rows; one per platform
    name: ClassVar[str]  # how staff pages name the platform, e.g. "WhatsApp", "sms"
    # How residents know the platform (the public front page lists the channels switched on); None: not listed
    # there (the website chat is the page's own link).
    public_name: ClassVar[str | None] = None
    secret_names: ClassVar[tuple[str, ...]] = ()  # the credentials a stored channel of this kind holds
    capabilities: ClassVar[Capabilities] = Capabilities()
    webhook: ClassVar[WebhookRoute | None] = None  # None: no webhook (polled, or its own routes)
    refusal: ClassVar[str] = "missing or wrong signature"  # logged when `verify` refuses a delivery

    # --- configuration ---

    @abstractmethod
    def default_channel(self, config: Mapping[str, Any]) -> ChannelConfig | None:
        """The channel configured in the environment (app config), or None when it is off."""

    def default_api_url(self, config: Mapping[str, Any]) -> str:
        """The platform's API base for a stored channel whose settings name none."""
        return ""

    # --- receiving ---

    def handshake(self, request: WebhookRequest, channels: Sequence[ChannelConfig]) -> WebhookAnswer | None:
        """The webhook's set-up handshake (a GET), or None: refused (403)."""
        return None

    def verify(self, request: WebhookRequest, channels: Sequence[ChannelConfig]) -> list[ChannelConfig]:
        """The channels whose secret verifies this delivery (signature, secret token); empty: refused (403)."""
        return []

    def read_payload(self, request: WebhookRequest) -> Any:
        """The delivery's body as the parser takes it (JSON by default); PayloadError when it is not (400)."""
        return json_payload(request.body)

    def delivery_reference(self, request: WebhookRequest) -> str | None:
        """Our own reference the platform echoed in the delivery's URL (e.g. a status callback's outbox id)."""
        return None

    @abstractmethod
    def parse(self, raw: Any) -> ParsedWebhook:
        """Every message, receipt and unreadable item of one delivery; PayloadError when it is not the
        platform's shape at all (400)."""

    def acknowledgement(self) -> WebhookAnswer:
        """What the webhook answers once the delivery is stored."""
        return WebhookAnswer()

    def store(self, delivery: Delivery, parsed: ParsedWebhook, verified: Sequence[ChannelConfig]) -> StoredDelivery:
        """Store the delivery's messages and receipts (not committed) under their unique keys."""
        from meldingen.channels.inbound import record_delivery

        if delivery.reference and parsed.statuses:
            parsed.statuses = [dataclasses.replace(s, reference=f"outbox:{delivery.reference}")
                               for s in parsed.statuses]

        def channel_for(message: InboundMessage) -> int | None:
            return (self.channel_for_address(message.channel_address, verified) or verified[0]).channel_id

        event_ids = record_delivery(parsed, channel_for=channel_for, raw=delivery.raw)
        return StoredDelivery(event_ids, str(verified[0].channel_id))

    def channel_for_address(self, address: str | None,
                            candidates: Sequence[ChannelConfig]) -> ChannelConfig | None:
        """The stored channel whose address is `address`, else the default one."""
        for candidate in candidates:
            if (candidate.channel_id is not None and address
                    and self.address_key(candidate.address) == self.address_key(address)):
                return candidate
        return next((c for c in candidates if c.channel_id is None), None)

    def address_key(self, address: str | None) -> str:
        """An address as compared between a delivery and a stored channel."""
        return (address or "").strip()

    def receive(self, channel: ChannelConfig, *, client: httpx.Client | None = None) -> list[Any]:
        """A polled platform (`capabilities.polled`): the raw deliveries waiting for this channel."""
        return []

    # --- after receiving ---

    def fetch_media(self, ref: str, channel: ChannelConfig, *, max_bytes: int,
                    client: httpx.Client | None = None) -> Download:
        """The bytes of one media reference of a message (raises PlatformError)."""
        raise NotImplementedError(f"{self.kind} media are not fetched from a platform")

    def answer_button_press(self, message: InboundMessage, channel: ChannelConfig, *,  # noqa: B027  (a default: most platforms wait for nothing)
                            client: httpx.Client | None = None) -> None:
        """Acknowledge a button press where the platform waits for that (raises PlatformError)."""

    def read_receipt(self, message: InboundMessage) -> dict | None:
        """What `mark_read` needs to mark this processed message read (kept on the outbox row); None where
        the platform has no read receipts."""
        return None

    def mark_read(self, receipt: Mapping[str, Any], channel: ChannelConfig, *, timeout: float | None = None,
                  client: httpx.Client | None = None) -> None:
        """Mark the resident's message read (raises PlatformError, KeyError for an incomplete receipt)."""
        raise NotImplementedError(f"{self.kind} has no read receipts")

    def message_key(self, message: InboundMessage, raw: Mapping[str, Any] | None) -> str:
        """The platform's own key of the resident's message, which an edit of it shares. `raw` is the stored
        platform body of the event, when it kept one."""
        return f"{message.channel_kind}:{message.external_id}"

    # --- sending ---

    @abstractmethod
    def send(self, message: OutgoingMessage, channel: ChannelConfig, *, now: datetime,
             client: httpx.Client | None = None) -> str:
        """Send one message; the platform's message id. Raises PlatformError, or HeldForStaff when only a
        person may write now (outside the service window without an approved template)."""

    def settle_unknown(self, send: UnknownSend, channel: ChannelConfig | None, *,
                       client: httpx.Client | None = None) -> Settlement:
        """What the platform can tell of a send whose answer never came. By default nothing: a person judges."""
        return Settlement("park", f"{send.last_error}; {self.kind} cannot tell whether it arrived", ask_person=True)

    def format_reply(self, reply: Reply, text: Callable[[str], str]) -> Reply:
        """The reply as this platform can show it; `text(key)` renders a text in the resident's language."""
        return reply

    def public_channel_name(self, channel: ChannelConfig) -> str | None:
        """How residents know this channel of the platform (Twilio's: sms, or WhatsApp by its address)."""
        return self.public_name

    # --- for staff ---

    def display_name(self, platform_id: str | None = None) -> str:
        """How staff pages name the platform of this resident (Twilio: "WhatsApp (Twilio)" or "sms")."""
        return self.name

    def masked_id(self, platform_id: str | None) -> str | None:
        """The resident's id on staff pages, shortened so it cannot be copied off a screen; None: not shown."""
        return None


# --- Helpers shared by adapters --------------------------------------------------------------------------

MASK = "••••"


def json_payload(body: bytes) -> Any:
    """A JSON body under the service's input limits; PayloadError (400) when it is not JSON or too deep."""
    from meldingen.inputs.jsonbody import JSONRefused, parse_json

    try:
        return parse_json(body)
    except JSONRefused as exc:
        raise PayloadError(str(exc)) from None


def matches(given: str | None, expected: str) -> bool:
    """A secret compared in constant time; an empty expected secret matches nothing."""
    if not expected or not given:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def masked_phone(platform_id: str | None) -> str | None:
    """"+31 6 •••• 5678": the country, the first digit and the last four; None for what is not a number."""
    digits = "".join(c for c in (platform_id or "").removeprefix("whatsapp:") if c.isdigit())
    if len(digits) < 9:
        return None
    if digits.startswith("31"):
        return f"+31 {digits[2]} {MASK} {digits[-4:]}"
    return f"+{digits[:2]} {MASK} {digits[-4:]}"


def inside_window(last_inbound_at: datetime | None, now: datetime, window: timedelta,
                  margin: timedelta = timedelta(minutes=1)) -> bool:
    """Is a free-form message still allowed: the resident wrote less than `window` (minus a margin) ago?"""
    from meldingen.timeutil import as_aware_utc

    last = as_aware_utc(last_inbound_at)
    return last is not None and now - last < window - margin


def approved_template(message: OutgoingMessage, channel: ChannelConfig, config: Mapping[str, Any],
                      config_key: str) -> dict | None:
    """The approved template for the message's purpose: the channel's settings["templates"], else config
    `config_key` (a dict or its JSON); the purpose's own, else the "*" one."""
    templates = (channel.settings or {}).get("templates")
    if not templates:
        templates = config.get(config_key) or {}
        if isinstance(templates, str):
            templates = json.loads(templates) if templates.strip() else {}
    return templates.get(message.template_key or "") or templates.get("*")


def template_parameters(message: OutgoingMessage, names: Sequence[str]) -> list[str]:
    """The template's parameters in order, from the message's values ("-" for an empty one)."""
    return [str(message.values.get(name, "")) or "-" for name in names]


def no_template(message: OutgoingMessage, window: str = "24-hour window") -> HeldForStaff:
    return HeldForStaff(f"outside the {window} and no template for {message.template_key or 'this message'}")


def numbered_choices(reply: Reply, text: Callable[[str], str]) -> Reply:
    """For a platform without buttons (SMS, Signal): the choices as a numbered list under the text; the
    buttons stay on the reply (the intake reads an answer "2" by them)."""
    if not reply.buttons:
        return reply
    lines = "\n".join(f"{i + 1}. {b['title']}" for i, b in enumerate(reply.buttons))
    return dataclasses.replace(reply, text=f"{reply.text}\n{text('choose_number')}\n{lines}")
