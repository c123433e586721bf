"""Short public references for reports: M- followed by six unambiguous characters, and how a reference is
recognised in what people type.

Two readings. Where a reference is what is typed (a staff search box, the merge target field) the dash may be
left out whatever the six are: `find_reference`, `REFERENCE_PATTERN`. Inside a resident's chat message a word
must stay a word ("staan er al maanden" is not M-AANDEN, "sinds maandag" not M-AANDAG): `reference_in_message`
reads a reference only where it is written as one:

- `M-4K7P2Q`, `m-4k7p2q`, `M- 4K7P2Q`, `M–4K7P2Q` (a dash of any kind): always, in any case;
- `M4K7P2Q`, `m4k7p2q` (no dash): only when the six hold a digit, which no word does;
- `M 4K7P2Q` (a space): only with a capital M and a digit among the six ("heb m 3weken geleden gemeld" is chat
  for "hem").

In every form the reference stands apart: no letter or digit directly before the M or after the six.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read out over the phone
REFERENCE_PATTERN = re.compile(r"\bM-?([2-9A-HJ-NP-Z]{6})\b", re.IGNORECASE)

_SIX = "[2-9a-hj-np-z]"
_DIGIT_AMONG_SIX = "(?=[a-hj-np-z]{0,5}[2-9])"
_LETTER_OR_DIGIT = r"\w\u00c0-\u024f"  # ASCII word characters and accented Latin letters ("één", "café")
MESSAGE_REFERENCE_PATTERN = re.compile(
    rf"(?<![{_LETTER_OR_DIGIT}])"
    r"(?:"
    r"m[-\u2010-\u2015\u2212] ?"  # M-4K7P2Q, m-4k7p2q, M- 4K7P2Q, M–4K7P2Q
    rf"|m{_DIGIT_AMONG_SIX}"  # M4K7P2Q, m4k7p2q
    rf"|(?-i:M)[ \u00a0]{_DIGIT_AMONG_SIX}"  # M 4K7P2Q
    r")"
    rf"({_SIX}{{6}})"
    rf"(?![{_LETTER_OR_DIGIT}])",
    re.IGNORECASE | re.ASCII,
)


def new_reference() -> str:
    return "M-" + "".join(secrets.choice(ALPHABET) for _ in range(6))


def find_reference(text: str) -> str | None:
    """A reference typed where a reference is expected ('m-7k3q9x', 'M7K3Q9X', 'Mabcdef'), normalised."""
    match = REFERENCE_PATTERN.search(text or "")
    return f"M-{match.group(1).upper()}" if match else None


def reference_in_message(text: str | None) -> str | None:
    """The first reference a resident wrote in a chat message, normalised; words are never read as one."""
    match = MESSAGE_REFERENCE_PATTERN.search(text or "")
    return f"M-{match.group(1).upper()}" if match else None
