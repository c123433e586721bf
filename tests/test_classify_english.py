"""Category from English and from plain words (issue 21, part 4): the bilingual lexicon (written here) puts the
Dutch words of the written texts next to an English resident's words and plain Dutch ones, so both reach the
categories Dutch reports reach. Scored on corpora written for this (tests/corpora/categories_en_*.csv), never
trained on."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from meldingen.classify.lexicon import with_dutch_words
from meldingen.classify.model import normalise_text, train_classifier
from meldingen.classify.services import shipped_examples

CORPORA = Path(__file__).parent / "corpora"


@pytest.fixture(scope="module")
def classifier():
    examples, tree = shipped_examples()
    return train_classifier(examples, tree)


def corpus(name: str) -> list[dict]:
    with open(CORPORA / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize(("words", "dutch"), [
    ("a huge pothole on the cycle path", ["gat", "fietspad"]),
    ("the street light is out", ["lantaarnpaal", "straatverlichting"]),
    ("bin is overflowing", ["prullenbak", "vol"]),
    ("trottoir ligt open, geen hekken eromheen", ["stoep", "opengebroken", "afgezet"]),
])
def test_english_and_plain_words_are_followed_by_the_dutch_ones(words, dutch):
    extended = normalise_text(words).split()
    assert all(word in extended for word in dutch)


def test_a_longer_phrase_is_one_thing():
    """"street light" is a street light, not a street and a light."""
    assert with_dutch_words("street light") == "street light lantaarnpaal straatverlichting"


def test_dutch_words_of_the_written_texts_are_left_as_they_are():
    assert with_dutch_words("lantaarnpaal kapot bij de kerk") == "lantaarnpaal kapot bij de kerk"
    assert with_dutch_words("outdoor") == "outdoor"  # a key matches whole words only ("out")


@pytest.mark.parametrize(("words", "category"), [
    ("a huge pothole on the cycle path", "onderhoud-stoep-straat-en-fietspad"),
    ("trottoir ligt open, geen hekken eromheen", "onderhoud-stoep-straat-en-fietspad"),
    ("The streetlamp outside my house has been out for a week", "straatverlichting-openbare-klok"),
    ("someone dumped an old fridge on the pavement", "grofvuil"),
])
def test_the_examples_of_the_issue_reach_their_category(classifier, words, category):
    (best,) = classifier.suggest(words, k=1)
    assert best.sub_slug == category


@pytest.mark.parametrize("name", ["categories_en_plain.csv", "categories_en_heldout.csv"])
def test_english_and_plain_descriptions_reach_the_right_main_category(classifier, name):
    rows = corpus(name)
    right = [r["text"] for r in rows if classifier.suggest(r["text"], k=1)[0].main_slug == r["main_slug"]]
    assert len(right) >= 0.9 * len(rows), {r["text"] for r in rows} - set(right)


def test_the_corpora_cover_the_main_categories_in_english():
    rows = corpus("categories_en_plain.csv") + corpus("categories_en_heldout.csv")
    english = [r for r in rows if r["kind"] == "en"]
    assert len(rows) >= 60 and len(english) >= 60
    assert len({r["main_slug"] for r in english}) >= 8
    texts = [r["text"].lower() for r in rows]
    written = {text.lower() for text, _ in shipped_examples()[0]}
    assert not written & set(texts)  # never trained on
