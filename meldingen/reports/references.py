"""Short public references for reports: M- followed by six unambiguous characters."""

from __future__ import annotations

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read out over the phone
REFERENCE_PATTERN = re.compile(r"\bM-?([2-9A-HJ-NP-Z]{6})\b", re.IGNORECASE)


def new_reference() -> str:
    return "M-" + "".join(secrets.choice(ALPHABET) for _ in range(6))


def find_reference(text: str) -> str | None:
    """A reference mentioned in a resident's text ('status m-7k3q9x', 'M7K3Q9X'), normalised."""
    match = REFERENCE_PATTERN.search(text or "")
    return f"M-{match.group(1).upper()}" if match else None
