"""A reference is `M-` plus six characters of the reference alphabet, written as one; a word is a word.

Residents' chat (Dutch and English, chat spelling, typos) is full of words that start with an m and go on with
six letters of the alphabet ("maanden", "maandag", "melden", "morgen", "meteen"): none of them may be read as a
reference, neither by `reference_in_message` nor by the intake's understanding (which would answer "we find no
report M-AANDEN of yours"). References as residents really type them (copied, in lower case, without the
dash, with a space, with a phone's long dash) must still be read.
"""

from __future__ import annotations

import re

import pytest

from meldingen.intake.understanding import ConversationState, understand
from meldingen.reports.references import ALPHABET, find_reference, new_reference, reference_in_message

FRESH = ConversationState()
MID_DRAFT = ConversationState(collecting=True, has_draft=True, has_location=True)
AFTER_REPORT = ConversationState(collecting=False, recently_reported=True, has_open_report=True)

# Sentences with words that look like "m" + six characters of the alphabet, or like a reference with a space
# or a dash in the wrong place. None of them holds a reference.
NOT_REFERENCES = [
    "de lantaarnpalen staan er al maanden zo bij",
    "sinds maandag ligt er een matras op de stoep",
    "Sinds Maandag ligt er glas op het fietspad",
    "SINDS MAANDAG LIGT ER VUIL NAAST DE CONTAINER",
    "al MAANDEN kapot!!!",
    "ik wil iets melden over de stoep",
    "kan ik hier melden dat de lamp kapot is",
    "meldde het vorige week al maar niks gebeurd",
    "mn melding van gister is nog niet opgepakt",
    "kunnen jullie morgen langs komen?",
    "morgenvroeg wordt het grofvuil opgehaald toch",
    "graag meteen iemand sturen, gevaarlijk",
    "meteeen komen aub er ligt een boom over de weg",
    "stuur me maar een mail",
    "mailen mag ook: jan@example.nl",
    "heb m 3weken terug gemeld maar hij brandt nog steeds niet",
    "heb m 2dagen geleden gemeld",
    "ik heb m netjes gemeld vorige week",
    "de paal staat m 2 weken scheef",
    "mAANDAG al gemeld",
    "Maandagochtend lag er weer troep",
    "matrassen en meubels bij de container",
    "mensen parkeren op de stoep, maanden al",
    "meneer van nr 5 zet zijn afval steeds buiten",
    "de vuilnisman komt maandags niet meer",
    "een mazzel dat er niemand gevallen is",
    "met m'n fiets gevallen door een gat in de weg",
    "ik meld m even hoor",
    "been waiting for months now, the light is still out",
    "Since Monday there is rubbish on the sidewalk",
    "my neighbour reported it on monday",
    "could you send me an email",
    "the street lamp has been broken for months",
    "manhole cover missing on the main road",
    "market stall left behind, mess everywhere",
    "er staat een bord: M-NUMMERS VERBODEN",  # a dash, but one letter too many
    "M-4K7P2QX is niet goed",  # seven characters after the dash
    "XM-4K7P2Q",  # glued to a word in front
    "M-4K7P20",  # a zero is not in the alphabet
    "M-1K7P2Q",  # a one is not in the alphabet
    "m-4k7p",  # too short
    "paal nr M4K7P2Q9 scheef",  # eight characters: a serial number, not a reference
    "kenteken 4K7P2Q parkeert op de stoep",  # no M at all
    "de m2 prijs van de tegels",
    "een m3 grond op de stoep gestort",
    "500 m verderop ligt nog meer",
    "maaaandenlang al kapot",
    "die paal staat er al maaanden zo",
    "het is nu al maandn zo",
    "melding gedaan op maandag, nu is het donderdag",
]

# A resident typing a reference: (what they typed, the reference read).
REFERENCES = [
    ("M-4K7P2Q", "M-4K7P2Q"),
    ("m-4k7p2q", "M-4K7P2Q"),
    ("status M-ABCDEF", "M-ABCDEF"),  # six letters: read with the dash
    ("m-aanden", "M-AANDEN"),  # written as a reference, so read as one
    ("hoe staat het met M-4K7P2Q?", "M-4K7P2Q"),
    ("M4K7P2Q", "M-4K7P2Q"),
    ("m4k7p2q", "M-4K7P2Q"),
    ("Mabc23d", "M-ABC23D"),
    ("M 4K7P2Q", "M-4K7P2Q"),
    ("M 4k7p2q nog niks gehoord", "M-4K7P2Q"),
    ("M- 4K7P2Q", "M-4K7P2Q"),
    ("M–4K7P2Q", "M-4K7P2Q"),  # en dash, as a phone's keyboard may make it
    ("M—4K7P2Q", "M-4K7P2Q"),  # em dash
    ("(M-4K7P2Q)", "M-4K7P2Q"),
    ("melding M-4K7P2Q.", "M-4K7P2Q"),
    ("referentie: m-7k3q9x", "M-7K3Q9X"),
    ("#M-7K3Q9X", "M-7K3Q9X"),
    ("al maanden wachten op M-7K3Q9X!!", "M-7K3Q9X"),  # the word is skipped, the reference found
    ("sinds maandag niks gehoord over m7k3q9x", "M-7K3Q9X"),
    ("any news on M-7K3Q9X?", "M-7K3Q9X"),
    ("my report m-zzzzzz", "M-ZZZZZZ"),
    ("M-222222", "M-222222"),
    ("M\u00a04K7P2Q", "M-4K7P2Q"),  # a no-break space, pasted
]


@pytest.mark.parametrize("said", NOT_REFERENCES)
def test_words_are_not_references(said):
    assert reference_in_message(said) is None
    for state in (FRESH, MID_DRAFT, AFTER_REPORT):
        assert understand(said, state).reference is None


@pytest.mark.parametrize(("typed", "reference"), REFERENCES, ids=[r[0] for r in REFERENCES])
def test_references_as_residents_type_them_are_read(typed, reference):
    assert reference_in_message(typed) == reference
    meaning = understand(typed, AFTER_REPORT)
    assert meaning.intent == "status" and meaning.reference == reference


def test_the_words_that_were_read_as_references_now_describe_a_problem():
    for said in ("De lantaarnpalen staan er al maanden zo bij", "sinds maandag ligt er grofvuil naast de bak"):
        meaning = understand(said, FRESH)
        assert meaning.intent == "problem" and meaning.reference is None


def test_every_reference_the_service_makes_is_read_back_as_it_is_sent():
    for _ in range(500):
        reference = new_reference()
        assert re.fullmatch(f"M-[{ALPHABET}]{{6}}", reference)
        assert reference_in_message(f"Uw melding heeft nummer {reference}.") == reference
        assert reference_in_message(reference.lower()) == reference
        assert find_reference(reference) == reference


def test_a_field_for_a_reference_still_takes_it_without_the_dash():
    """Staff typing a reference in a search box or the merge field: any six, with or without the dash."""
    assert find_reference("Mabcdef") == "M-ABCDEF"
    assert find_reference("m-7k3q9x") == "M-7K3Q9X"


def test_the_corpora_are_the_size_the_issue_asks():
    assert len(NOT_REFERENCES) >= 40 and len(REFERENCES) >= 20
