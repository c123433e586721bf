"""The category classifier as plain functions: trained once on the project's written texts."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from meldingen.classify.model import (
    CategoryClassifier,
    Suggestion,
    evaluate,
    load_example_sentences,
    load_training_texts,
    train_classifier,
)

DATA = Path(__file__).resolve().parent.parent / "sample_data" / "classifier"

CLEAR_TEXTS = {
    "afval": "De ondergrondse container bij de flat zit propvol, de vuilniszakken staan ernaast",
    "wegen-verkeer-straatmeubilair": "De lantaarnpaal voor mijn deur doet het al een week niet, het is aardedonker",
    "overlast-in-de-openbare-ruimte": "Al maanden staat er een fietswrak zonder wielen vast aan het hek bij het station",
    "openbaar-groen-en-water": "Door de storm is een grote boom omgewaaid en die ligt nu over het fietspad",
    "overlast-van-dieren": "Bij de containers lopen elke avond ratten rond, het is een rattenplaag",
    "overlast-van-en-door-personen-of-groepen": "Elke avond hangt een groep jongeren bij de speeltuin te blowen en te schreeuwen",
    "overlast-bedrijven-en-horeca": "Het café naast ons draait tot 3 uur 's nachts keiharde muziek, de bassen dreunen door",
    "overlast-op-het-water": "Een speedboot vaart met een enorme snelheid door de gracht en de golven slaan tegen de woonboten",
    "overig": "Ik wil graag weten hoe laat het gemeentehuis open is voor een paspoort",
}


@pytest.fixture(scope="module")
def training():
    return load_training_texts(DATA / "texts.csv")


@pytest.fixture(scope="module")
def classifier(training) -> CategoryClassifier:
    examples, tree = training
    return train_classifier(examples, tree)


def test_written_set_covers_every_sub_category_of_the_default_tree_at_least_thirty_times(training):
    examples, sub_to_main = training
    counts: dict[str, int] = {}
    for _, sub in examples:
        counts[sub] = counts.get(sub, 0) + 1
    assert len(counts) == 77
    assert min(counts.values()) >= 30
    assert len(set(sub_to_main.values())) == 9


@pytest.mark.parametrize("main_slug", sorted(CLEAR_TEXTS))
def test_clear_text_of_each_main_category_is_suggested_first(classifier, main_slug):
    suggestions = classifier.suggest(CLEAR_TEXTS[main_slug])
    assert suggestions[0].main_slug == main_slug


def test_suggestions_are_best_first_with_confidences_that_sum_to_at_most_one(classifier):
    suggestions = classifier.suggest("kontainer vol", k=5)
    assert len(suggestions) == 5
    assert all(isinstance(s, Suggestion) for s in suggestions)
    confidences = [s.confidence for s in suggestions]
    assert confidences == sorted(confidences, reverse=True)
    assert all(0.0 <= c <= 1.0 for c in confidences)
    assert sum(confidences) <= 1.0 + 1e-6
    assert suggestions[0].sub_slug == "container-is-vol"


def test_misspelt_informal_text_is_understood(classifier):
    assert classifier.suggest("lantarepaal doet t niet")[0].sub_slug == "straatverlichting-openbare-klok"


def test_deactivated_category_is_never_suggested_and_the_rest_is_renormalised(classifier):
    text = "De lantaarnpaal voor mijn deur is kapot"
    assert classifier.suggest(text)[0].sub_slug == "straatverlichting-openbare-klok"
    allowed = set(classifier.classes) - {"straatverlichting-openbare-klok"}
    suggestions = classifier.suggest(text, allowed_sub_slugs=allowed, k=len(allowed))
    assert "straatverlichting-openbare-klok" not in {s.sub_slug for s in suggestions}
    assert sum(s.confidence for s in suggestions) == pytest.approx(1.0, abs=0.01)


def test_whole_main_category_deactivated_is_never_suggested(classifier):
    allowed = {c for c in classifier.classes if classifier.sub_to_main[c] != "afval"}
    for text in ["container vol", "prullenbak kapot", "grofvuil op de stoep", "asbest gedumpt"]:
        assert all(s.main_slug != "afval" for s in classifier.suggest(text, allowed_sub_slugs=allowed, k=10))


def test_nothing_allowed_means_no_suggestions(classifier):
    assert classifier.suggest("lamp kapot", allowed_sub_slugs=set()) == []


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_gets_no_suggestions(classifier, text):
    assert classifier.suggest(text) == []


def test_huge_text_is_answered_quickly(classifier):
    text = ("De prullenbak in het park zit vol. " + "bla " * 30000)[:100_000]
    assert len(text) == 100_000
    started = time.perf_counter()
    suggestions = classifier.suggest(text)
    assert time.perf_counter() - started < 1.0
    assert suggestions and suggestions[0].sub_slug == "prullenbak-is-vol"


def test_english_text_gets_a_sensible_suggestion(classifier):
    assert classifier.suggest("The street light outside my house is broken")[0].main_slug == \
        "wegen-verkeer-straatmeubilair"


@pytest.mark.parametrize("text", ["asdkjh qwe zxcvb", "1234567890", "🙂🙂🙂", "Это не голландский текст", "???"])
def test_gibberish_and_other_scripts_are_answered_with_low_confidence(classifier, text):
    suggestions = classifier.suggest(text)
    assert len(suggestions) <= 3
    assert all(s.confidence < 0.45 for s in suggestions)  # below the intake's threshold: staff decide


def test_a_new_category_is_trained_from_its_first_examples(training):
    examples, tree = training
    new = [  # an administrator adds "hennepteelt"; staff file the first three reports under it
        ("Volgens mij zit er een hennepkwekerij op de zolder, dichtgeplakte ramen en warmte", "hennepteelt"),
        ("Wietplantage in de garage van nummer 4, lampen branden dag en nacht", "hennepteelt"),
        ("hennepkwekerij in het pand naast ons, het ruikt naar wiet", "hennepteelt"),
    ]
    model = train_classifier(examples + new, {**tree, "hennepteelt": "overlast-van-en-door-personen-of-groepen"})
    assert "hennepteelt" in model.classes
    top = model.suggest("ik denk dat de buren een hennepkwekerij hebben")[0]
    assert (top.main_slug, top.sub_slug) == ("overlast-van-en-door-personen-of-groepen", "hennepteelt")


def test_staff_corrections_change_the_next_training_run(training, classifier):
    examples, tree = training
    text = "De blauwe bak bij de school staat vol met oude kleren"
    assert classifier.suggest(text)[0].sub_slug != "overig-afval"
    # Staff moved this kind of report to "overig afval" a few times; the next run learns from that.
    corrections = [
        (text, "overig-afval"),
        ("De blauwe bak bij het buurthuis staat vol met oude kleren", "overig-afval"),
        ("blauwe bak met oude kleren vol bij de kerk", "overig-afval"),
    ]
    retrained = train_classifier(examples + corrections, tree)
    assert retrained.suggest(text)[0].sub_slug == "overig-afval"


def test_saved_model_is_small_and_loads_to_the_same_answers(classifier, tmp_path):
    path = classifier.save(tmp_path / "model.joblib")
    assert path.stat().st_size < 8_000_000
    assert (tmp_path / "model.json").exists()
    loaded = CategoryClassifier.load(path)
    text = "Er ligt een dode kat op straat"
    assert loaded.suggest(text) == classifier.suggest(text)


def test_evaluation_reports_accuracy_macro_f1_and_confusion_by_main(classifier, training):
    examples, tree = training
    usable = load_example_sentences(DATA / "example_report_sentences.csv", set(tree))
    assert len(usable) >= 25
    result = evaluate(classifier, usable)
    assert set(result) >= {"sub", "main", "confusion_by_main", "calibration"}
    assert result["main"]["accuracy"] >= 0.8
    assert sum(sum(row.values()) for row in result["confusion_by_main"].values()) == len(usable)


def test_importing_the_model_module_does_not_import_scikit_learn():
    code = "import sys, meldingen.classify.model; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent)
    assert out.stdout.strip() == "False"


def test_fast_probabilities_equal_scikit_learns_on_every_shipped_text(classifier, training):
    """The array path that skips scikit-learn's per-class input checks must give the very same numbers."""
    import numpy as np

    examples, _ = training
    texts = [t for t, _ in examples] + ["", "x" * 6000, "🙂🙂🙂", "Lantaarnpaal kapot bij nummer 12"]
    fast = classifier._fast_path()
    assert fast is not None
    np.testing.assert_allclose(fast(texts), classifier.pipeline.predict_proba(texts), rtol=0, atol=1e-12)


def test_a_model_of_two_categories_keeps_scikit_learns_own_path(training):
    examples, sub_to_main = training
    two = sorted({s for _, s in examples})[:2]
    small = train_classifier([(t, s) for t, s in examples if s in two], {s: sub_to_main[s] for s in two})
    assert small._fast_path() is None
    assert small.suggest("kapotte lantaarnpaal", k=1)
