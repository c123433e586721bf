"""Category from English and from plain words (issue 21, part 4): the classifier trained as shipped (written texts
and the usable example sentences) with the bilingual lexicon (meldingen/classify/lexicon.py), against the same
model without it (the baseline, same run), scored on descriptions written for this test and never trained on:
tests/corpora/categories_en_plain.csv (English and plain Dutch; its misses without the lexicon were seen while
the lexicon was written) and tests/corpora/categories_en_heldout.csv (written before the lexicon, its texts not
looked at while the lexicon was written); and 5-fold cross-validation of both on the written Dutch texts.

Run: .venv/bin/python bench/bench_category_words.py [--quick] [-v]   (writes docs/perf/category_words.md, about 3
minutes on 2 cores; --quick: the corpora only, nothing written; -v: the misses)
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import meldingen.classify.model as model  # noqa: E402
from bench.common import machine  # noqa: E402

DATA = ROOT / "sample_data" / "classifier"
CORPORA = [ROOT / "tests" / "corpora" / "categories_en_plain.csv",
           ROOT / "tests" / "corpora" / "categories_en_heldout.csv"]
OUT = ROOT / "docs" / "perf" / "category_words.md"
FOLDS = 5


def train(lexicon: bool):
    """A model as shipped; without the lexicon, the preprocessor leaves the words as they are."""
    if not lexicon:
        model.with_dutch_words = lambda text: text
    try:
        examples, tree = model.load_training_texts(DATA / "texts.csv")
        examples += model.load_example_sentences(DATA / "example_report_sentences.csv", set(tree))
        classifier = model.train_classifier(examples, tree)
        cv = None if QUICK else model.cross_validate(examples, tree, folds=FOLDS)
        # the texts are scored with the same preprocessor the model was trained with
        return classifier, cv, {c.name: score(classifier, c) for c in CORPORA}
    finally:
        model.with_dutch_words = _with_dutch_words


def score(classifier, corpus: Path) -> dict:
    with open(corpus, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    totals: dict[str, list[int]] = {}
    misses = []
    for row in rows:
        (best,) = classifier.suggest(row["text"], k=1)
        right_main, right_sub = best.main_slug == row["main_slug"], best.sub_slug == row["sub_slug"]
        sure = right_sub and best.confidence >= 0.45  # the pipeline's threshold for a confirmed category
        for kind in (row["kind"], "all"):
            counts = totals.setdefault(kind, [0, 0, 0, 0])
            for i, value in enumerate((1, right_main, right_sub, sure)):
                counts[i] += value
        if not right_sub:
            misses.append(f"  {row['text']!r}: {best.sub_slug} ({best.confidence:.2f}), wanted {row['sub_slug']}")
    return {"totals": totals, "misses": misses}


def main() -> None:
    results = {"without the lexicon (baseline)": train(False), "with the lexicon": train(True)}
    lines = ["<!-- written by bench/bench_category_words.py -->", "",
             "## Category from English and plain words", "",
             f"Machine: {machine()}. Measured with `.venv/bin/python bench/bench_category_words.py`.", "",
             "Method: the classifier trained as shipped, once without and once with the bilingual lexicon "
             "(`meldingen/classify/lexicon.py`, written here: English and plain Dutch words followed by the Dutch "
             "words of the written texts), scored on descriptions written for this and never trained on. "
             "`categories_en_plain.csv`: 63 English and 32 plain Dutch texts over the eight main categories (its "
             "misses without the lexicon were seen while the lexicon was written); `categories_en_heldout.csv`: "
             "32 texts written before the lexicon and not looked at while it was written. Right = the top "
             "suggestion; *confirmed* = right and at least 0.45 sure (the pipeline's threshold).", "",
             "| corpus | texts | model | main category | sub category | sub, confirmed |", "|---|---|---|---|---|---|"]
    for corpus in CORPORA:
        for name, (_, _, scores) in results.items():
            for kind, (n, main, sub, sure) in sorted(scores[corpus.name]["totals"].items()):
                lines.append(f"| {corpus.name} ({kind}) | {n} | {name} | {main / n:.0%} ({main}) | "
                             f"{sub / n:.0%} ({sub}) | {sure / n:.0%} ({sure}) |")
    if not QUICK:
        lines += ["", f"{FOLDS}-fold cross-validation on the written (Dutch) texts, same folds:", "",
                  "| model | main accuracy | main macro-F1 | sub accuracy | sub macro-F1 |", "|---|---|---|---|---|"]
        for name, (_, cv, _) in results.items():
            lines.append(f"| {name} | {cv['main']['accuracy']:.3f} | {cv['main']['macro_f1']:.3f} | "
                         f"{cv['sub']['accuracy']:.3f} | {cv['sub']['macro_f1']:.3f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if "-v" in sys.argv:
        for name, (_, _, scores) in results.items():
            for corpus, found in scores.items():
                print(f"{name}, {corpus}:", *found["misses"], sep="\n")
    if not QUICK:  # the page is written by a full run only
        OUT.write_text(text, encoding="utf-8")


_with_dutch_words = model.with_dutch_words
QUICK = "--quick" in sys.argv

if __name__ == "__main__":
    main()
