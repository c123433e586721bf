"""How staff pages name a resident: the channel, a shortened name and a masked number, never the full number.

"Jan de Vries" on WhatsApp from 31612345678 reads "Jan V. · WhatsApp · +31 6 •••• 5678": enough for an agent to
tell two residents apart and to recognise one who calls, not enough to copy a number off a screen.
"""

from __future__ import annotations

import re

from meldingen.channels.adapter import MASK
from meldingen.channels.adapters import find_adapter

__all__ = ["MASK", "OTHER_CHANNEL_NAMES", "channel_name", "masked_number", "resident_label", "short_name"]

# Where a report can come from besides the chat platforms (whose adapters name themselves).
OTHER_CHANNEL_NAMES = {"open311": "Open311", "staff": "medewerker"}


def channel_name(kind: str, platform_id: str | None = None) -> str:
    """The platform as staff know it ("WhatsApp", "sms", "WhatsApp (Twilio)"), or the report's other source."""
    adapter = find_adapter(kind)
    if adapter is not None:
        return adapter.display_name(platform_id)
    return OTHER_CHANNEL_NAMES.get(kind, kind)


def short_name(display_name: str | None) -> str | None:
    """First name and the initial of the last word: "Jan de Vries" → "Jan V."; one word stays as it is."""
    words = [w for w in re.split(r"\s+", (display_name or "").strip()) if w]
    if not words:
        return None
    if len(words) == 1:
        return words[0][:30]
    return f"{words[0][:30]} {words[-1][0].upper()}."


def masked_number(kind: str, platform_id: str | None) -> str | None:
    """The resident's number or id as their platform masks it: "+31 6 •••• 5678" (all but the country, the first
    digit and the last four hidden), a Telegram id by its end; None where nothing is shown."""
    adapter = find_adapter(kind)
    return adapter.masked_id(platform_id) if adapter is not None else None


def resident_label(reporter, kind: str | None = None) -> str:
    """"Jan V. · WhatsApp · +31 6 •••• 5678", or "Melder · website-chat" when nothing more is known."""
    if reporter is None:
        return "Onbekende melder"
    kind = kind or reporter.channel_kind
    parts = [short_name(reporter.display_name) or "Melder", channel_name(kind, reporter.platform_id)]
    number = masked_number(kind, reporter.platform_id)
    if number:
        parts.append(number)
    return " · ".join(parts)
