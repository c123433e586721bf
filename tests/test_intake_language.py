"""Which language a resident writes in: words decide, a report reference never does."""

from __future__ import annotations

import pytest

from meldingen.intake.language import detect_language
from meldingen.reports.references import ALPHABET


@pytest.mark.parametrize("reference", ["M-AN9EMK", "m-an9emk", "M-THE234", "M-ISAREY", "MAN9EMK"])
def test_a_reference_holding_an_english_word_does_not_make_a_dutch_resident_english(reference):
    assert detect_language(f"status {reference}", current="nl") == "nl"
    assert detect_language(f"hoe staat het met {reference}", current="en") == "nl"


def test_every_reference_the_service_can_make_of_english_words_is_ignored():
    # "an", "is", "be", "it", "my", "no", "on", "of"… spelled with the alphabet's letters
    for word in ("AN", "IS", "BE", "IT", "MY", "NO", "ON", "OF"):
        if all(c in ALPHABET for c in word):
            assert detect_language(f"status M-{word}2345", current="nl") == "nl"


def test_words_still_decide():
    assert detect_language("the street light is broken", current="nl") == "en"
    assert detect_language("de lantaarnpaal is kapot", current="en") == "nl"
    assert detect_language("de melding van maanden geleden", current="en") == "nl"
