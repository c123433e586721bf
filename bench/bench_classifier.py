"""Classifier bench: cross-validated scores on the written texts, the example sentences, size and speed.

Run: .venv/bin/python bench/bench_classifier.py   (writes docs/perf/classifier.md)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import machine  # noqa: E402
from meldingen.classify.model import (  # noqa: E402
    CategoryClassifier,
    _scores,
    cross_validate,
    evaluate,
    load_example_sentences,
    load_training_texts,
    train_classifier,
)

DATA = ROOT / "sample_data" / "classifier"
OUT = ROOT / "docs" / "perf" / "classifier.md"
FOLDS = 5


def baseline_cv(examples, tree, kind: str) -> dict:
    """The same folds with a trivial model: most frequent class, or word counts with multinomial naive Bayes."""
    from sklearn.dummy import DummyClassifier
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.model_selection import StratifiedKFold
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import make_pipeline

    texts = [t for t, _ in examples]
    subs = [s for _, s in examples]
    preds, confidences = [""] * len(texts), [0.0] * len(texts)
    for train, test in StratifiedKFold(FOLDS, shuffle=True, random_state=0).split(texts, subs):
        model = (make_pipeline(CountVectorizer(), DummyClassifier(strategy="most_frequent")) if kind == "dummy"
                 else make_pipeline(CountVectorizer(), MultinomialNB()))
        model.fit([texts[i] for i in train], [subs[i] for i in train])
        proba = model.predict_proba([texts[i] for i in test])
        for row, i in enumerate(test):
            j = int(proba[row].argmax())
            preds[i], confidences[i] = str(model.classes_[j]), float(proba[row, j])
    return _scores(subs, preds, confidences, tree)


def load_in_fresh_process(path: Path) -> tuple[float, float]:
    """(seconds to import the model module, seconds to load the model incl. scikit-learn) in a new interpreter."""
    code = (
        "import time; t=time.perf_counter(); import meldingen.classify.model as m; a=time.perf_counter()-t; "
        f"t=time.perf_counter(); c=m.CategoryClassifier.load({str(path)!r}); c.suggest('lamp kapot'); "
        "print(a, time.perf_counter()-t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    a, b = out.stdout.split()
    return float(a), float(b)


def row(name: str, r: dict) -> str:
    return (f"| {name} | {r['main']['accuracy']:.3f} | {r['main']['macro_f1']:.3f} | "
            f"{r['sub']['accuracy']:.3f} | {r['sub']['macro_f1']:.3f} |")


def main() -> None:
    examples, tree = load_training_texts(DATA / "texts.csv")
    usable = load_example_sentences(DATA / "example_report_sentences.csv", set(tree))

    started = time.perf_counter()
    cv = cross_validate(examples, tree, folds=FOLDS)
    cv_seconds = time.perf_counter() - started
    nb = baseline_cv(examples, tree, "nb")
    dummy = baseline_cv(examples, tree, "dummy")

    started = time.perf_counter()
    model = train_classifier(examples, tree)
    train_seconds = time.perf_counter() - started
    on_examples = evaluate(model, usable)

    with tempfile.TemporaryDirectory() as tmp:
        path = model.save(Path(tmp) / "model.joblib")
        size = path.stat().st_size
        import_seconds, load_seconds = load_in_fresh_process(path)
        loaded = CategoryClassifier.load(path)

    texts = [t for t, _ in examples][:1000]
    loaded.suggest(texts[0])
    started = time.perf_counter()
    for text in texts:
        loaded.suggest(text)
    single_per_s = len(texts) / (time.perf_counter() - started)
    started = time.perf_counter()
    loaded.probabilities(texts)
    batch_per_s = len(texts) / (time.perf_counter() - started)
    huge = "De lantaarnpaal is kapot. " + "x" * 100_000
    started = time.perf_counter()
    loaded.suggest(huge)
    huge_ms = (time.perf_counter() - started) * 1000

    calib = cv["calibration"]
    lines = [
        "## Category classifier",
        "",
        f"Machine: {machine()}. Measured {time.strftime('%Y-%m-%d')} with `.venv/bin/python bench/bench_classifier.py`.",
        "",
        "Method: word (1–2 gram) and character (`char_wb`, 3–5 gram) TF-IDF on normalised text, a linear SVM "
        "(`LinearSVC`, C=0.5) whose scores are calibrated to probabilities with `CalibratedClassifierCV` "
        "(sigmoid, 3 folds). Trained on the project's written texts (`sample_data/classifier/texts.csv`, "
        f"{len(examples)} texts, 77 sub categories, 9 main categories). Scores are {FOLDS}-fold stratified "
        "cross-validation on those texts (seed 0); main category = the main category of the top sub category. "
        "Baselines use the same folds. The texts were written by one author, so these figures are an optimistic "
        "upper bound for real residents' reports; near-synonym sub categories (e.g. *vuurwerkoverlast* vs "
        "*overlast door afsteken vuurwerk*, *stankoverlast* vs *stank horeca/bedrijven*) cost most of the sub-level errors.",
        "",
        "| model (5-fold CV on written texts) | main accuracy | main macro-F1 | sub accuracy | sub macro-F1 |",
        "|---|---|---|---|---|",
        row("TF-IDF words+chars, calibrated linear SVM", cv),
        row("baseline: word counts + multinomial naive Bayes", nb),
        row("baseline: most frequent class", dummy),
        "",
        f"Ratio to the naive Bayes baseline: main macro-F1 ×{cv['main']['macro_f1'] / nb['main']['macro_f1']:.2f}, "
        f"sub macro-F1 ×{cv['sub']['macro_f1'] / nb['sub']['macro_f1']:.2f}.",
        "",
        f"Calibration (CV, top suggestion): mean confidence {calib['mean_top1_confidence']:.3f} against accuracy "
        f"{calib['top1_accuracy']:.3f}; expected calibration error {calib['expected_calibration_error']:.3f} "
        "(the model is slightly under-confident, so the 0.45 threshold is on the safe side).",
        "",
        f"Example sentences (`example_report_sentences.csv`, {len(usable)} usable rows mapped onto the tree, "
        "model trained on the written texts only): "
        f"main accuracy {on_examples['main']['accuracy']:.3f} (macro-F1 {on_examples['main']['macro_f1']:.3f}), "
        f"sub accuracy {on_examples['sub']['accuracy']:.3f} (macro-F1 {on_examples['sub']['macro_f1']:.3f}).",
        "",
        "| size and speed | |",
        "|---|---|",
        f"| training on all {len(examples)} texts | {train_seconds:.1f} s ({FOLDS}-fold CV: {cv_seconds:.0f} s) |",
        f"| model file (joblib, zlib) | {size / 1e6:.2f} MB |",
        f"| `import meldingen.classify.model` (no scikit-learn) | {import_seconds * 1000:.0f} ms |",
        f"| first load in a fresh process (imports scikit-learn, unpickles, one suggestion) | {load_seconds:.2f} s |",
        f"| suggestions, one text per call | {single_per_s:.0f} /s |",
        f"| probabilities, batch of {len(texts)} | {batch_per_s:.0f} texts/s |",
        f"| one 100 kB text (cut to 5,000 characters) | {huge_ms:.1f} ms |",
        "",
    ]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
