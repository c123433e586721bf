"""The public text of a report: what identifies a person is taken out, what describes the problem stays.

The corpus (tests/corpora/redaction_nl.txt) holds what residents type, with the personal data marked; every
line is one specification.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from meldingen.privacy.corpus import load_corpus
from meldingen.privacy.redaction import MARKERS, redact

pytestmark = pytest.mark.rolled_back  # one shared database, rolled back after each test

CORPUS = load_corpus(Path(__file__).parent / "corpora" / "redaction_nl.txt")
# Round two (issue 26): BSNs, sign-offs, relatives, written-out e-mail, initials; streets, dates and groups that stay.
ROUND_TWO = load_corpus(Path(__file__).parent / "corpora" / "redaction_round2.txt")


def test_corpus_has_at_least_a_hundred_messages_of_every_kind_and_of_numbers_that_stay():
    assert len(CORPUS) >= 100
    kinds = {kind for line in CORPUS + ROUND_TWO for kind, _, _ in line.spans}
    assert kinds == set(MARKERS)
    assert sum(1 for line in CORPUS if not line.spans) >= 30


@pytest.mark.parametrize("line", CORPUS + ROUND_TWO,
                         ids=[f"line{line.number}" for line in CORPUS] + [f"round2-{line.number}" for line in ROUND_TWO])
def test_each_corpus_message_loses_exactly_its_personal_data(line):
    result = redact(line.text, person_related=line.person_related)
    assert result.text == line.expected
    assert [(f.kind, f.start, f.end) for f in result.findings] == list(line.spans)


def test_house_numbers_stay_where_the_category_is_not_about_a_person():
    assert redact("Jongeren hangen bij Kalverstraat 12a rond").text == "Jongeren hangen bij Kalverstraat 12a rond"
    assert redact("Jongeren hangen bij Kalverstraat 12a rond", person_related=True).text == (
        "Jongeren hangen bij Kalverstraat [huisnummer] rond")


def test_empty_and_missing_text_give_an_empty_public_text():
    assert redact(None).text == ""
    assert redact("").findings == []


def test_a_postcode_without_dashes_is_not_a_licence_plate_unless_named_one():
    assert redact("bij 1013AE is de stoep kapot").text == "bij 1013AE is de stoep kapot"
    assert redact("kenteken 1234AB").text == "kenteken [kenteken]"
