"""Category from English and from plain words (issue 21, part 4): a model trained as shipped (written texts and
the usable example sentences), scored on tests/corpora/categories_en_plain.csv, English residents' and plain
Dutch descriptions written for this test and never trained on.

Also scored: tests/corpora/categories_en_heldout.csv, written before the lexicon (meldingen/classify/lexicon.py)
and never looked at while it was written.

Run: .venv/bin/python bench/bench_category_words.py [-v]   (main and sub accuracy per corpus and kind; -v: misses)
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from meldingen.classify.model import (  # noqa: E402
    load_example_sentences,
    load_training_texts,
    train_classifier,
)

DATA = ROOT / "sample_data" / "classifier"
CORPORA = [ROOT / "tests" / "corpora" / "categories_en_plain.csv", ROOT / "tests" / "corpora" / "categories_en_heldout.csv"]


def main() -> None:
    examples, tree = load_training_texts(DATA / "texts.csv")
    examples += load_example_sentences(DATA / "example_report_sentences.csv", set(tree))
    classifier = train_classifier(examples, tree)
    for corpus in CORPORA:
        print(corpus.name)
        score(classifier, corpus)


def score(classifier, corpus: Path) -> None:
    with open(corpus, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    totals: dict[str, list[int]] = {}
    misses = []
    for row in rows:
        (best,) = classifier.suggest(row["text"], k=1)
        right_main, right_sub = best.main_slug == row["main_slug"], best.sub_slug == row["sub_slug"]
        for kind in (row["kind"], "all"):
            counts = totals.setdefault(kind, [0, 0, 0])
            counts[0] += 1
            counts[1] += right_main
            counts[2] += right_sub
        if not right_sub:
            misses.append(f"  {row['text']!r}: {best.sub_slug} ({best.confidence:.2f}), wanted {row['sub_slug']}")
    for kind, (n, main, sub) in sorted(totals.items()):
        print(f"{kind:>5}: {n} texts, main category {main}/{n} ({main / n:.0%}), sub category {sub}/{n} ({sub / n:.0%})")
    if "-v" in sys.argv:
        print("\n".join(misses))


if __name__ == "__main__":
    main()
