"""One normalisation of text for every door (webhooks, website chat, JSON API, Open311, staff forms).

Text that a database cannot store or that no person typed is removed: NUL (PostgreSQL refuses it) and lone
UTF-16 surrogates (no UTF-8 encoding exists for them), and the other C0 control characters except tab, line feed
and carriage return. Lengths are bounded per kind of field (`LIMITS`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# NUL and the other C0 controls except \t \n \r, DEL, and every surrogate code point. A decoded Python str holds a
# surrogate only when it was lone (a valid pair decodes to one code point), so all of them can go.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")

# Longest accepted value per kind of field, in characters.
LIMITS: dict[str, int] = {
    "description": 5000,  # a report's description, a chat message
    "note": 5000,
    "name": 200,  # people's and things' names
    "email": 254,  # RFC 5321's longest usable address
    "platform_id": 200,  # wa_id, Telegram chat id, Twilio From, message ids
    "reference": 64,
    "address": 300,
    "url": 2000,
    "query": 300,  # a search box
}


class TextRefused(ValueError):
    """A value that is refused rather than repaired; `field` names it, `reason` says why (for a 4xx)."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def has_unstorable(value: str) -> bool:
    return _UNSTORABLE.search(value) is not None


def clean_text(value: str) -> str:
    """`value` without NUL, lone surrogates and other control characters (tab and line breaks stay)."""
    if not value or _UNSTORABLE.search(value) is None:
        return value
    return _UNSTORABLE.sub("", value)


def bounded_text(value: str, field: str, kind: str | None = None, *, truncate: bool = False) -> str:
    """Cleaned `value` within the limit of its kind: cut (with an ellipsis) when `truncate`, else refused."""
    value = clean_text(value)
    limit = LIMITS[kind or field]
    if len(value) <= limit:
        return value
    if truncate:
        return value[: limit - 1] + "…"
    raise TextRefused(field, f"is longer than {limit} characters")


def clean_pairs(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Form or query parameters with keys and values cleaned (see `clean_text`)."""
    return [(clean_text(key), clean_text(value) if isinstance(value, str) else value) for key, value in pairs]
