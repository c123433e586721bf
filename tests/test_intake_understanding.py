"""What a message means and which slots it fills, decided without the web or the database: the phrases
residents really type (Dutch, English, typos, emoji) and the conversation's state."""

from __future__ import annotations

import pytest

from meldingen.intake.slots import address_in_text
from meldingen.intake.understanding import ConversationState, house_number_only, normalise, understand

AFTER_REPORT = ConversationState(collecting=False, recently_reported=True, has_open_report=True)
MID_DRAFT = ConversationState(collecting=True, has_draft=True, has_location=True)
FRESH = ConversationState()

SAID = [
    # (what the resident typed, the state, the meaning)
    ("Hoe staat het met mijn melding?", AFTER_REPORT, "status"),
    ("Is het al opgelost?", AFTER_REPORT, "status"),
    ("is het al opgelost", FRESH, "status"),
    ("hoe staat het met mijn meling", AFTER_REPORT, "status"),
    ("Wanneer komen jullie nou eens?", AFTER_REPORT, "status"),
    ("Al iets bekend?", AFTER_REPORT, "status"),
    ("What is the status of my report?", AFTER_REPORT, "status"),
    ("Is it fixed yet?", AFTER_REPORT, "status"),
    ("any update?", AFTER_REPORT, "status"),
    ("status M-ABC234", FRESH, "status"),
    ("m-abc234", FRESH, "status"),
    ("Top, dank je wel!", AFTER_REPORT, "thanks"),
    ("bedankt", AFTER_REPORT, "thanks"),
    ("bedamkt!!", AFTER_REPORT, "thanks"),
    ("Dankjewel voor de snelle reactie", AFTER_REPORT, "thanks"),
    ("👍", AFTER_REPORT, "thanks"),
    ("🙏🙏", AFTER_REPORT, "thanks"),
    ("Thanks a lot!", AFTER_REPORT, "thanks"),
    ("cheers", AFTER_REPORT, "thanks"),
    ("super, bedankt hoor", AFTER_REPORT, "thanks"),
    ("hallo", FRESH, "greeting"),
    ("Goedemorgen", FRESH, "greeting"),
    ("Goede morgen!", FRESH, "greeting"),
    ("hallooo", FRESH, "greeting"),
    ("Hi there", FRESH, "greeting"),
    ("/start", FRESH, "greeting"),
    ("stop", MID_DRAFT, "cancel"),
    ("laat maar", MID_DRAFT, "cancel"),
    ("annuleeren", MID_DRAFT, "cancel"),
    ("never mind", MID_DRAFT, "cancel"),
    ("nieuwe melding", AFTER_REPORT, "start_over"),
    ("nee, het is bij nummer 12", MID_DRAFT, "correction"),
    ("sorry ik bedoel de lantaarnpaal", MID_DRAFT, "correction"),
    ("oeps, Van Diemenkade 5A", MID_DRAFT, "correction"),
    ("sorry I meant number 12", MID_DRAFT, "correction"),
    ("nee, het is bij nummer 12", AFTER_REPORT, "correction"),
    ("De lamp is nog steeds kapot", AFTER_REPORT, "about_existing"),
    ("The bin is full again", AFTER_REPORT, "about_existing"),
    ("Ik wil graag een medewerker spreken", FRESH, "person"),
    ("Lantaarnpaal kapot bij Westerdoksdijk 40A", FRESH, "problem"),
    ("Er ligt glas op het fietspad", AFTER_REPORT, "problem"),
    ("stoptegel los", FRESH, "problem"),  # "stop" is not in it
    ("Stoep is kapot", FRESH, "problem"),
    ("top", AFTER_REPORT, "thanks"),
    ("nee", FRESH, "problem"),  # a bare "no" with nothing to correct is not a correction
    ("De lamp is nog steeds kapot", FRESH, "problem"),  # nothing reported yet: a new problem
]


@pytest.mark.parametrize(("said", "state", "meaning"), SAID, ids=[s[0] for s in SAID])
def test_what_a_message_means(said, state, meaning):
    assert understand(said, state).intent == meaning


def test_courtesy_words_in_front_are_not_the_description():
    meaning = understand("Goedemorgen, er ligt een boom op de weg", FRESH)
    assert meaning.intent == "problem" and meaning.text == "er ligt een boom op de weg"


def test_a_correction_carries_the_corrected_words():
    assert understand("nee, het is bij nummer 12", MID_DRAFT).text == "bij nummer 12"
    assert house_number_only("bij nummer 12") == "12"
    assert house_number_only("het is nr 14a") == "14A"
    assert house_number_only("een losse stoeptegel") is None


def test_normalised_text_has_no_accents_or_punctuation():
    assert normalise("  Café   Één, TOP!! ") == "cafe een top"


def fake_search(known):
    def search(text):
        for street, result in known.items():
            if street.lower() in text.lower():
                return result
        return None

    return search


WESTERDOKSDIJK = {"lat": 52.3877, "lon": 4.8925, "match": "address",
                  "address": {"street": "Westerdoksdijk", "number": "40A", "city": "Amsterdam"}}


@pytest.mark.parametrize(("typed", "description", "address"), [
    ("Lantaarnpaal kapot bij Westerdoksdijk 40A", "Lantaarnpaal kapot", "Westerdoksdijk 40A"),
    ("Westerdoksdijk 40A: lantaarnpaal kapot", "lantaarnpaal kapot", "Westerdoksdijk 40A"),
    ("Op de Westerdoksdijk 40 a ligt glas", "ligt glas", "Westerdoksdijk 40 a"),
    ("Lamp kapot, Westerdoksdijk 40A, 1013 AE Amsterdam", "Lamp kapot", "Westerdoksdijk 40A, 1013 AE Amsterdam"),
    ("Westerdoksdijk 40A", "", "Westerdoksdijk 40A"),
    ("Broken street light near Westerdoksdijk 40A", "Broken street light", "Westerdoksdijk 40A"),
])
def test_an_address_inside_a_sentence_is_the_place_and_the_rest_the_description(typed, description, address):
    found = address_in_text(typed, fake_search({"westerdoksdijk": WESTERDOKSDIJK}))
    assert found is not None and found.found is WESTERDOKSDIJK
    assert found.description == description and found.address_text == address


def test_words_with_a_number_that_is_no_address_are_the_description():
    assert address_in_text("Al 3 weken een gat in de weg", fake_search({})) is None
    assert address_in_text("Er staan 4 fietswrakken", fake_search({})) is None


def test_an_unknown_address_alone_is_kept_to_ask_about():
    found = address_in_text("Kerkstraat 12, Emmen", fake_search({}))
    assert found is not None and found.found is None and found.address_text == "Kerkstraat 12, Emmen"
