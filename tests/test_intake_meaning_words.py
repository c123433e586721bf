"""What a message means, issue 21's second kind, decided without the web or the database: a reply to the
service's message that named a report, a cancel inside a sentence, a number corrected in other words, and two
problems in one message; Dutch, chat spelling, typos and English."""

from __future__ import annotations

import pytest

from meldingen.intake.problems import split_at_also, two_problems
from meldingen.intake.understanding import ConversationState, house_number_only, understand

FRESH = ConversationState()
MID_DRAFT = ConversationState(collecting=True, has_draft=True, has_location=True, has_description=True)
AFTER_REPORT = ConversationState(collecting=False, recently_reported=True, has_open_report=True)
REPLYING = ConversationState(collecting=False, has_open_report=True, replying_to_report=True)
NOT_REPLYING = ConversationState(collecting=False, has_open_report=True)

NUDGES = ["en?", "en? nog steeds niks", "??", "nog niks?", "en nu?", "en nu", "still nothing?", "any news?",
          "nothing yet?", "hallo??", "en inmiddels?", "update pls?", "nog steeds niks", "nou?", "and?",
          "hoe staat t ervoor", "al nieuws?", "ligt er nog steeds", "it's still broken", "nog stees niks gehoord"]


@pytest.mark.parametrize("words", NUDGES)
def test_a_nudge_in_reply_to_the_reference_asks_about_that_report(words):
    assert understand(words, REPLYING).intent == "status"


@pytest.mark.parametrize("words", ["en?", "??", "en nu?", "nou?", "and?", "hallo??"])
def test_the_same_nudge_without_a_reply_is_no_status_question(words):
    assert understand(words, NOT_REPLYING).intent != "status"


@pytest.mark.parametrize("words", ["top, dank je", "👍", "bedankt!"])
def test_thanks_in_reply_to_the_reference_stays_thanks(words):
    assert understand(words, REPLYING).intent == "thanks"


def test_a_reply_with_a_new_problem_is_a_problem():
    assert understand("er ligt nu ook glas op het fietspad", REPLYING).intent == "problem"


CANCELS = [
    "laat maar, is al opgeruimd zie ik", "ach hoeft niet meer, iemand heeft t al gedaan",
    "never mind, someone fixed it", "laat ook maar, de buurman heeft het al opgeveegd",
    "vergeet het maar, ze zijn al geweest", "o wacht is al opgehaald", "niet meer nodig, de tak is al weg",
    "iemand heeft t al opgeruimd", "oh it's already fixed, sorry", "no need anymore, they emptied it",
    "forget it, it's gone", "laat maar hoor, doet t weer", "hebben het al opgeruimd, bedankt",
    "someone already took it away", "nou laat maar, ligt er niet meer", "Laat maar!!", "laat maar zitten",
    "het is al opgelost zie ik", "nevermind, problem solved", "ach laat maar", "hoeft al niet meer hoor",
    "cancel that, it has been fixed", "Het is al weggehaald", "de container is al geleegd, laat maar",
]


@pytest.mark.parametrize("words", CANCELS)
@pytest.mark.parametrize("state", [MID_DRAFT, FRESH, AFTER_REPORT], ids=["mid-draft", "fresh", "after-report"])
def test_a_cancel_inside_a_sentence_is_a_cancel(words, state):
    assert understand(words, state).intent == "cancel"


NOT_CANCELS = [
    ("laat maar weten wanneer het klaar is", FRESH), ("Laat maar horen als jullie komen", AFTER_REPORT),
    ("is het al opgeruimd?", AFTER_REPORT), ("De lamp doet het niet meer", FRESH),
    ("hij brandt al weken niet meer", FRESH), ("Is it fixed yet?", AFTER_REPORT),
    ("Er ligt al weken afval, niemand ruimt het op", FRESH), ("has it been fixed?", AFTER_REPORT),
    ("wanneer is het opgelost", AFTER_REPORT), ("stoeptegel ligt nog steeds los", AFTER_REPORT),
    ("Het verkeersbord staat er niet meer", FRESH), ("het putdeksel ligt er niet meer op", MID_DRAFT),
    ("het hek is er niet meer, kinderen kunnen zo het water in", FRESH),
]


@pytest.mark.parametrize(("words", "state"), NOT_CANCELS)
def test_words_like_a_cancel_that_are_none(words, state):
    assert understand(words, state).intent != "cancel"


NUMBER_CORRECTIONS = [
    ("sorry moet nummer 12 zijn", "12"), ("oh wacht, het is nr 12", "12"), ("ik bedoel 12", "12"),
    ("nummer 12 bedoel ik", "12"), ("foutje, huisnummer 12", "12"), ("oeps 12 moet het zijn", "12"),
    ("verkeerd nummer, het is 12", "12"), ("nee 12", "12"), ("sorry, I meant no. 12", "12"),
    ("it should be number 12", "12"), ("wait, it's 12", "12"), ("srry moet nr 12 zijn", "12"),
    ("nee, bij nummer 12a", "12A"), ("sorry het moet 14-2 zijn", "14-2"), ("oops, number 7 I meant", "7"),
    ("correctie: nr 3", "3"), ("het moet 12 zijn", "12"), ("my bad, it's 21", "21"),
]


@pytest.mark.parametrize(("words", "number"), NUMBER_CORRECTIONS)
def test_a_number_corrected_in_other_words_is_the_number(words, number):
    meaning = understand(words, MID_DRAFT)
    assert meaning.intent == "correction"
    assert house_number_only(meaning.text) == number


@pytest.mark.parametrize("words", ["12", "nr 14", "huisnummer 7"])
def test_a_number_alone_is_no_correction(words):
    """A number with nothing that says "I was wrong" is the follow-up of an address (the address code's)."""
    assert understand(words, MID_DRAFT).intent != "correction"


SPLITS = [
    ("lantaarnpaal kapot en er ligt ook een stoeptegel los", ("lantaarnpaal kapot", "er ligt ook een stoeptegel los")),
    ("De lamp is kapot. Ook ligt er glas op de weg", ("De lamp is kapot", "Ook ligt er glas op de weg")),
    ("Streetlight broken and there is also a loose tile", ("Streetlight broken", "there is also a loose tile")),
    ("container vol, daarnaast staat er grofvuil", ("container vol", "daarnaast staat er grofvuil")),
    ("Er ligt ook glas", None), ("ook nog een foto", None), ("Losse stoeptegel", None),
]


@pytest.mark.parametrize(("words", "halves"), SPLITS)
def test_where_the_words_of_a_second_problem_start(words, halves):
    assert split_at_also(words) == halves


def fake_suggest(known: dict[str, list[tuple[str, str, float]]]):
    """Suggestions by the first word of a half (the classifier is tested on its own)."""
    def suggest(text: str) -> list[dict]:
        for key, rows in known.items():
            if key in text.lower():
                return [{"main_slug": m, "sub_slug": s, "confidence": c} for m, s, c in rows]
        return []
    return suggest


LIGHT = [("wegen", "straatverlichting", 0.8)]
TILE = [("wegen", "stoep", 0.75)]


def test_two_different_problems_are_found():
    suggest = fake_suggest({"lantaarnpaal": LIGHT, "stoeptegel": TILE})
    found = two_problems("lantaarnpaal kapot en er ligt ook een stoeptegel los", suggest)
    assert (found.first, found.second) == ("lantaarnpaal kapot", "er ligt ook een stoeptegel los")


def test_the_same_kind_of_problem_twice_is_one():
    suggest = fake_suggest({"ernaast": LIGHT, "lamp": LIGHT})
    assert two_problems("De lamp is kapot en de lamp ernaast is ook kapot", suggest) is None


def test_a_half_the_classifier_is_unsure_of_is_no_second_problem():
    suggest = fake_suggest({"stoeptegel": TILE, "weken": [("water", "scheepvaart", 0.2), ("afval", "veeg", 0.1)]})
    assert two_problems("Losse stoeptegel, ligt er ook al weken zo", suggest) is None


def test_a_place_after_also_is_no_second_problem():
    suggest = fake_suggest({"stoep": [("overlast", "object", 0.9)], "afval": [("afval", "huisafval", 0.9)]})
    assert two_problems("Er ligt afval naast de container en ook op de stoep", suggest) is None


def test_a_second_problem_among_the_firsts_suggestions_is_the_same_kind():
    suggest = fake_suggest({"one next": [("afval", "container-vol", 0.42), ("afval", "prullenbak-vol", 0.3)],
                            "bin": [("afval", "prullenbak-vol", 0.39), ("afval", "container-vol", 0.23)]})
    assert two_problems("Bin is full and the one next to it is also full", suggest) is None


# --- on main from an earlier session, checked against the examples and more of their kind ---

NO_REFERENCE = ["Losse tegels, staan er al maanden", "kapotte lamp sinds maandag", "de container is al maanden kapot",
                "sinds maandagochtend ligt er glas", "Al maandenlang rommel", "mmm-aandacht graag", "stoep ligt er al maanden zo bij"]


@pytest.mark.parametrize("words", NO_REFERENCE)
def test_a_word_is_never_read_as_a_reference(words):
    meaning = understand(words, FRESH)
    assert meaning.reference is None and meaning.intent == "problem"


CHAT_STATUS = ["en hoe staat t ervoor met die melding van mij", "al nieuws over mn melding?", "hoe staat t ermee",
               "al nieuws over m'n melding", "is er al wat gebeurd met me melding", "nog nix gehoord", "hoe staat t",
               "en? al wa gebeurd?"]


@pytest.mark.parametrize("words", CHAT_STATUS)
@pytest.mark.parametrize("state", [AFTER_REPORT, NOT_REPLYING], ids=["just-reported", "open-report"])
def test_a_status_question_in_chat_spelling_is_a_status_question(words, state):
    assert understand(words, state).intent == "status"
