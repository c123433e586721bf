"""Why a photo was refused, as a code, and what to tell a resident about it in their own language.

Code decides (media/images.py, channels/tasks.py); this table only words it. A reason is never an English
message pasted into a Dutch sentence: every code has a plain Dutch (B1) and an English text, written to stand
inside the reply "Deze foto kunnen we niet gebruiken: {reason}."
"""

from __future__ import annotations

from collections.abc import Iterable

NOT_IMAGE = "not_image"
FORMAT_NOT_ACCEPTED = "format_not_accepted"
EMPTY = "empty"
TOO_LARGE = "too_large"  # more bytes than MAX_PHOTO_BYTES
TOO_MANY_PIXELS = "too_many_pixels"  # a decompression bomb: more pixels than even reduced decoding allows
MALFORMED = "malformed"
NOT_FETCHED = "not_fetched"  # the platform would not hand the file over (expired, removed, refused)
UNKNOWN = "unknown"

REASONS: dict[str, dict[str, str]] = {
    NOT_IMAGE: {"nl": "het bestand is geen foto", "en": "the file is not a photo"},
    FORMAT_NOT_ACCEPTED: {"nl": "dit soort afbeelding kunnen we niet openen",
                          "en": "we cannot open this kind of image"},
    EMPTY: {"nl": "het bestand is leeg", "en": "the file is empty"},
    TOO_LARGE: {"nl": "het bestand is te groot", "en": "the file is too large"},
    TOO_MANY_PIXELS: {"nl": "de foto is te groot om te openen", "en": "the photo is too big to open"},
    MALFORMED: {"nl": "het bestand is beschadigd of niet helemaal aangekomen",
                "en": "the file is damaged or did not arrive completely"},
    NOT_FETCHED: {"nl": "we konden de foto niet ophalen", "en": "we could not fetch the photo"},
    UNKNOWN: {"nl": "er ging iets mis met de foto", "en": "something went wrong with the photo"},
}


def refusal_text(codes: Iterable[str], language: str = "nl") -> str:
    """The reasons for `codes` in `language` (Dutch when unknown), each once, joined plainly."""
    language = language if language in ("nl", "en") else "nl"
    texts: list[str] = []
    for code in codes:
        text = REASONS.get(code, REASONS[UNKNOWN])[language]
        if text not in texts:
            texts.append(text)
    if not texts:
        texts.append(REASONS[UNKNOWN][language])
    joiner = " en " if language == "nl" else " and "
    return joiner.join(texts)
