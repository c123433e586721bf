"""How staff pages name a resident: the channel, a shortened name and a masked number, never the full number.

"Jan de Vries" on WhatsApp from 31612345678 reads "Jan V. · WhatsApp · +31 6 •••• 5678": enough for an agent to
tell two residents apart and to recognise one who calls, not enough to copy a number off a screen.
"""

from __future__ import annotations

import re

CHANNEL_NAMES = {"whatsapp": "WhatsApp", "telegram": "Telegram", "twilio": "sms", "webchat": "website-chat",
                 "open311": "Open311", "staff": "medewerker"}
MASK = "••••"


def channel_name(kind: str, platform_id: str | None = None) -> str:
    if kind == "twilio" and (platform_id or "").startswith("whatsapp:"):
        return "WhatsApp (Twilio)"
    return CHANNEL_NAMES.get(kind, kind)


def short_name(display_name: str | None) -> str | None:
    """First name and the initial of the last word: "Jan de Vries" → "Jan V."; one word stays as it is."""
    words = [w for w in re.split(r"\s+", (display_name or "").strip()) if w]
    if not words:
        return None
    if len(words) == 1:
        return words[0][:30]
    return f"{words[0][:30]} {words[-1][0].upper()}."


def masked_number(kind: str, platform_id: str | None) -> str | None:
    """A phone number with all but the country, the first digit and the last four hidden; other ids by their end."""
    value = (platform_id or "").removeprefix("whatsapp:")
    digits = re.sub(r"\D", "", value)
    if kind in ("whatsapp", "twilio") and len(digits) >= 9:
        if digits.startswith("31"):
            return f"+31 {digits[2]} {MASK} {digits[-4:]}"
        return f"+{digits[:2]} {MASK} {digits[-4:]}"
    if kind == "telegram" and value:
        return f"…{value[-3:]}"
    return None


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
