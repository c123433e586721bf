"""Telegram Bot API: webhook secret token, update parsing, the Bot API calls we make, and Telegram's adapter
(`TelegramAdapter`): event keys per bot, button presses answered, the location button's label, edits' keys."""

from __future__ import annotations

import dataclasses
import hmac
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx

from meldingen.channels.adapter import (
    Capabilities,
    ChannelAdapter,
    ChannelConfig,
    Delivery,
    OutgoingMessage,
    Reply,
    StoredDelivery,
    WebhookAnswer,
    WebhookRequest,
    WebhookRoute,
)
from meldingen.channels.base import Download, PlatformError, call_json, download
from meldingen.channels.http import platform_client
from meldingen.channels.messages import (
    InboundMessage,
    MediaRef,
    ParsedWebhook,
    PayloadError,
    from_unix,
    make_location,
    optional_str,
    require_dict,
    require_str,
    unreadable,
)
from meldingen.timeutil import utcnow

KIND = "telegram"
DEFAULT_API_URL = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

# Content fields of a Message that carry nothing for a report, in the order they are checked.
# `animation` before `document`: Telegram sets both for a GIF.
_UNSUPPORTED_FIELDS = (
    "voice", "audio", "video", "video_note", "animation", "poll", "dice", "contact", "game",
    "invoice", "story", "paid_media", "giveaway", "checklist",
)


def verify_secret_token(expected: str, header: str | None) -> bool:
    """`X-Telegram-Bot-Api-Secret-Token` must equal the secret_token given to setWebhook."""
    if not expected or not header:
        return False
    return hmac.compare_digest(header.encode(), expected.encode())


verify_signature = verify_secret_token


def update_id(payload: Any) -> str:
    payload = require_dict(payload, "body")
    value = payload.get("update_id")
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError("update_id is missing or not a number")
    return str(value)


def parse_webhook(payload: Any, now: datetime | None = None) -> ParsedWebhook:
    """One update holds at most one message; updates of no interest (chat member changes, ...) parse to nothing,
    and a message that cannot be read parses to one UnreadableItem."""
    key = update_id(payload)  # the envelope: without a numeric update_id the body is not Telegram's (400)
    result = ParsedWebhook()
    try:
        if "message" in payload or "edited_message" in payload:
            edited = "message" not in payload
            message = require_dict(payload["edited_message" if edited else "message"], "message")
            result.messages.append(_parse_message(key, message, edited))
        elif "callback_query" in payload:
            result.messages.append(_parse_callback(key, require_dict(payload["callback_query"], "callback_query"),
                                                   now or utcnow()))
        elif "message_reaction" in payload:
            result.messages.append(_parse_reaction(key, require_dict(payload["message_reaction"],
                                                                     "message_reaction")))
    except PayloadError as exc:
        # A real update whose message cannot be read: kept raw with the reason, answered 200 all the same,
        # because Telegram holds back the chat's next updates until this one is accepted.
        result.unreadable.append(unreadable(KIND, payload, exc.reason, key))
    return result


def _display_name(user: Any) -> str | None:
    if not isinstance(user, dict):
        return None
    name = " ".join(str(p) for p in (user.get("first_name"), user.get("last_name")) if p)
    return name or optional_str(user.get("username"))


def _parse_message(key: str, message: dict, edited: bool) -> InboundMessage:
    chat = require_dict(message.get("chat"), "message.chat")
    common: dict[str, Any] = {
        "channel_kind": KIND,
        "external_id": key,
        "platform_user_id": require_str(chat.get("id"), "message.chat.id"),
        "display_name": _display_name(message.get("from")) or optional_str(chat.get("title")),
        "sent_at": from_unix(message.get("edit_date") if edited and message.get("edit_date") else message.get("date"),
                          "message.date"),
        "media_group_id": optional_str(message.get("media_group_id")),
        "edited": edited,
        "context_id": _replied_to(message),
    }
    caption = optional_str(message.get("caption"))
    if message.get("photo"):
        sizes = message["photo"]
        if not isinstance(sizes, list) or not all(isinstance(s, dict) for s in sizes):
            raise PayloadError("message.photo is not a list of sizes")
        largest = max(sizes, key=lambda s: (_size_number(s.get("width")) * _size_number(s.get("height")),
                                            _size_number(s.get("file_size"))))
        return InboundMessage(kind="photo", text=caption, media=(_media_ref(largest, "image/jpeg", caption),),
                              **common)
    if isinstance(message.get("venue"), dict):  # a venue also carries `location`; the venue has the name
        venue = message["venue"]
        loc = require_dict(venue.get("location"), "venue.location")
        location = make_location(loc.get("latitude"), loc.get("longitude"), venue.get("title"), venue.get("address"))
        return InboundMessage(kind="location", location=location, **common)
    if isinstance(message.get("location"), dict):
        loc = message["location"]
        location = make_location(loc.get("latitude"), loc.get("longitude"))
        if edited:  # a live location moving (only a live location is edited): its first point was the place
            return InboundMessage(kind="quiet", unsupported_type="live_location", location=location, **common)
        return InboundMessage(kind="location", location=location, **common)
    if "sticker" in message:
        return InboundMessage(kind="quiet", unsupported_type="sticker", **common)
    for field in _UNSUPPORTED_FIELDS:
        if field in message:
            return InboundMessage(kind="unsupported", unsupported_type=field, text=caption, **common)
    if isinstance(message.get("document"), dict):
        document = message["document"]
        mime_type = optional_str(document.get("mime_type"))
        if mime_type and mime_type.startswith("image/"):  # a photo sent as a file: HEIC, full size, EXIF kept
            return InboundMessage(kind="photo", text=caption, media=(_media_ref(document, mime_type, caption),),
                                  **common)
        return InboundMessage(kind="unsupported", unsupported_type="document", text=caption, **common)
    if isinstance(message.get("text"), str) and message["text"]:
        return InboundMessage(kind="text", text=message["text"], **common)
    return InboundMessage(kind="unsupported", unsupported_type="unknown", **common)


def _replied_to(message: dict) -> str | None:
    """The message_id (in this chat) of the message this one replies to: `reply_to_message`."""
    replied = message.get("reply_to_message")
    message_id = replied.get("message_id") if isinstance(replied, dict) else None
    if isinstance(message_id, bool) or not isinstance(message_id, int):
        return None
    return str(message_id)


def _parse_reaction(key: str, reaction: dict) -> InboundMessage:
    """A resident's reaction to a message (`message_reaction`, sent when the bot asks for it): quiet; the emoji
    they chose is kept for the inbox (none when they took their reaction back)."""
    chat = require_dict(reaction.get("chat"), "message_reaction.chat")
    emoji: list[str] = [r["emoji"] for r in reaction.get("new_reaction") or () if isinstance(r, dict)
                        and r.get("type") == "emoji" and isinstance(r.get("emoji"), str)]
    return InboundMessage(
        channel_kind=KIND, external_id=key, platform_user_id=require_str(chat.get("id"), "message_reaction.chat.id"),
        display_name=_display_name(reaction.get("user")) or optional_str(chat.get("title")),
        sent_at=from_unix(reaction.get("date"), "message_reaction.date"), kind="quiet",
        unsupported_type="reaction", text="".join(emoji) or None)


def _size_number(value) -> int:
    """A photo size's width, height or file_size; 0 for anything that is not a plain non-negative whole number
    (a list, a string, 1e400), so a malformed size never wins and never fails the message."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 2**53:
        return 0
    return int(value)


def _media_ref(item: dict, mime_type: str | None, caption: str | None) -> MediaRef:
    return MediaRef(
        ref=require_str(item.get("file_id"), "file_id"),
        mime_type=mime_type,
        caption=caption,
        file_size=item.get("file_size") if isinstance(item.get("file_size"), int) else None,
        unique_id=optional_str(item.get("file_unique_id")),
    )


def _parse_callback(key: str, query: dict, now: datetime) -> InboundMessage:
    message = query.get("message") if isinstance(query.get("message"), dict) else {}
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    sender = require_dict(query.get("from"), "callback_query.from")
    data = require_str(query.get("data"), "callback_query.data")
    return InboundMessage(
        channel_kind=KIND,
        external_id=key,
        platform_user_id=require_str(chat.get("id", sender.get("id")), "callback_query chat id"),
        display_name=_display_name(sender),
        sent_at=now,  # a callback carries no date of its own
        kind="reply",
        reply_id=data,
        reply_title=_button_text(message, data),
        context_id=optional_str(message.get("message_id")),
        callback_query_id=require_str(query.get("id"), "callback_query.id"),
    )


def _button_text(message: dict, data: str) -> str | None:
    markup = message.get("reply_markup") if isinstance(message.get("reply_markup"), dict) else {}
    for row in markup.get("inline_keyboard") or ():
        for button in row if isinstance(row, list) else ():
            if isinstance(button, dict) and button.get("callback_data") == data:
                return optional_str(button.get("text"))
    return None


# Outbound: Bot API.


def _method_url(api_url: str, bot_token: str, method: str) -> str:
    return f"{api_url.rstrip('/')}/bot{bot_token}/{method}"


def call(client: httpx.Client, api_url: str, bot_token: str, method: str, payload: dict) -> Any:
    answer = call_json(client, "POST", _method_url(api_url, bot_token, method), platform="Telegram", json=payload)
    if not answer.get("ok"):
        raise PlatformError(f"Telegram {method}: {answer.get('description')}", retryable=False,
                            code=optional_str(answer.get("error_code")))
    return answer.get("result")


def location_keyboard(label: str = "📍 Deel locatie") -> dict:
    """A reply keyboard with one button that shares the location (private chats only)."""
    return {"keyboard": [[{"text": label, "request_location": True}]], "one_time_keyboard": True,
            "resize_keyboard": True}


def inline_keyboard(buttons: Sequence[tuple[str, str]], per_row: int = 1) -> dict:
    """Buttons as (callback data, label); a press arrives as a callback_query with that data."""
    rows = [
        [{"text": label, "callback_data": data[:64]} for data, label in buttons[i:i + per_row]]
        for i in range(0, len(buttons), per_row)
    ]
    return {"inline_keyboard": rows}


REMOVE_KEYBOARD = {"remove_keyboard": True}


def send_message(client, api_url, bot_token, chat_id: str, text: str, reply_markup: dict | None = None) -> str:
    """sendMessage; returns the message_id."""
    payload: dict[str, Any] = {"chat_id": chat_id, "text": text}
    if reply_markup:
        payload["reply_markup"] = reply_markup
    result = call(client, api_url, bot_token, "sendMessage", payload)
    try:
        return str(result["message_id"])
    except (KeyError, TypeError):
        raise PlatformError("Telegram answered without a message_id", retryable=False) from None


def send_location_request(client, api_url, bot_token, chat_id: str, text: str, label: str = "📍 Deel locatie") -> str:
    return send_message(client, api_url, bot_token, chat_id, text, location_keyboard(label))


def send_buttons(client, api_url, bot_token, chat_id: str, text: str, buttons: Sequence[tuple[str, str]]) -> str:
    return send_message(client, api_url, bot_token, chat_id, text, inline_keyboard(buttons))


def answer_callback_query(client, api_url, bot_token, callback_query_id: str, text: str | None = None) -> None:
    payload: dict[str, Any] = {"callback_query_id": callback_query_id}
    if text:
        payload["text"] = text
    call(client, api_url, bot_token, "answerCallbackQuery", payload)


def set_webhook(client, api_url, bot_token, url: str, secret_token: str) -> None:
    call(client, api_url, bot_token, "setWebhook", {
        "url": url, "secret_token": secret_token,
        "allowed_updates": ["message", "edited_message", "callback_query", "message_reaction"],
    })


def fetch_media(client: httpx.Client, api_url: str, bot_token: str, file_id: str, max_bytes: int) -> Download:
    """getFile, then the file from `<api>/file/bot<token>/<path>`. That URL holds the token: never show or log it."""
    info = call(client, api_url, bot_token, "getFile", {"file_id": file_id})
    if not isinstance(info, dict) or not isinstance(info.get("file_path"), str):
        raise PlatformError("Telegram getFile answered without a file_path", retryable=False)
    size = info.get("file_size")
    if isinstance(size, int) and size > max_bytes:
        raise PlatformError(f"Telegram file of {size} bytes is over the limit of {max_bytes}", retryable=False,
                            status_code=413, code="too_large")
    url = f"{api_url.rstrip('/')}/file/bot{bot_token}/{info['file_path'].lstrip('/')}"
    return download(client, url, platform="Telegram", max_bytes=max_bytes, credential_origins=())


# The adapter: Telegram in the shape of every platform (channels/adapter.py).

DEFAULT_LOCATION_LABEL = "📍 Deel locatie"


class TelegramAdapter(ChannelAdapter):
    kind = KIND
    name = "Telegram"
    public_name = "Telegram"
    secret_names = ("bot_token", "secret_token")
    # No receipts for bot messages, no window; inline keyboards take many buttons (100 per message).
    capabilities = Capabilities(buttons=100, location_request=True, max_text_length=4096, pacing_seconds=1.0,
                                concurrency=3)
    webhook = WebhookRoute("/webhooks/telegram", "telegram_update")
    refusal = "missing or wrong X-Telegram-Bot-Api-Secret-Token"

    def default_channel(self, config: Mapping[str, Any]) -> ChannelConfig | None:
        token = config.get("TELEGRAM_BOT_TOKEN")
        if not token:
            return None
        secrets = {"bot_token": token, "secret_token": config.get("TELEGRAM_SECRET_TOKEN")}
        return ChannelConfig(KIND, None, token.split(":", 1)[0], secrets, self.default_api_url(config))

    def default_api_url(self, config: Mapping[str, Any]) -> str:
        return config.get("TELEGRAM_API_URL") or DEFAULT_API_URL

    def verify(self, request: WebhookRequest, channels: Sequence[ChannelConfig]) -> list[ChannelConfig]:
        header = request.header(SECRET_HEADER)
        channel = next((c for c in channels if verify_secret_token(c.secret("secret_token"), header)), None)
        return [channel] if channel is not None else []

    def parse(self, raw: Any) -> ParsedWebhook:
        return parse_webhook(raw)

    def acknowledgement(self) -> WebhookAnswer:
        return WebhookAnswer("{}", content_type="application/json")

    def store(self, delivery: Delivery, parsed: ParsedWebhook, verified: Sequence[ChannelConfig]) -> StoredDelivery:
        from meldingen.channels.inbound import insert_event, record_delivery

        channel, raw = verified[0], delivery.raw
        # update_id counts per bot: the bot id keeps two bots' updates apart.
        bot = channel.address or "default"
        event_ids = record_delivery(
            parsed,
            channel_for=lambda m: channel.channel_id,
            message_key=lambda m: f"{bot}:{m.external_id}",
            raw=raw,
            unreadable_key=lambda u: f"{bot}:{u.event_key}",
        )
        if not parsed.messages and not parsed.unreadable:  # an update of no interest is stored once, for the record
            insert_event(KIND, f"{bot}:{raw['update_id']}", channel.channel_id, {"raw": raw}, state="done")
        return StoredDelivery(event_ids, bot)

    def fetch_media(self, ref: str, channel: ChannelConfig, *, max_bytes: int,
                    client: httpx.Client | None = None) -> Download:
        return fetch_media(client or platform_client(), channel.api_url, channel.secret("bot_token"), ref, max_bytes)

    def answer_button_press(self, message: InboundMessage, channel: ChannelConfig, *,
                            client: httpx.Client | None = None) -> None:
        if message.callback_query_id:  # Telegram keeps a spinner on the button until it is answered
            answer_callback_query(client or platform_client(), channel.api_url, channel.secret("bot_token"),
                                  message.callback_query_id)

    def message_key(self, message: InboundMessage, raw: Mapping[str, Any] | None) -> str:
        # The update id differs for every edit; the message_id in its chat is what an edit shares.
        body = (raw or {}).get("edited_message") or (raw or {}).get("message") or {}
        if isinstance(body, dict) and body.get("message_id") is not None:
            chat = (body.get("chat") or {}).get("id")
            return f"tg:{chat}:{body['message_id']}"
        return super().message_key(message, raw)

    def send(self, message: OutgoingMessage, channel: ChannelConfig, *, now: datetime,
             client: httpx.Client | None = None) -> str:
        args = (client or platform_client(), channel.api_url, channel.secret("bot_token"), message.to)
        if message.location_request:
            return send_location_request(*args, message.text, message.location_label or DEFAULT_LOCATION_LABEL)
        if message.buttons:
            return send_buttons(*args, message.text, message.buttons)
        return send_message(*args, message.text, REMOVE_KEYBOARD)

    def format_reply(self, reply: Reply, text: Callable[[str], str]) -> Reply:
        if not reply.location_request:
            return reply
        # The location button carries its own label, in the resident's language.
        return dataclasses.replace(reply, payload={**reply.payload, "location_label": text("button_share_location")})

    def masked_id(self, platform_id: str | None) -> str | None:
        return f"…{platform_id[-3:]}" if platform_id else None
