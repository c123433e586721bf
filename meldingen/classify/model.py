"""The category classifier: training, suggestions, evaluation and storage, over plain data (no Flask, no DB).

scikit-learn is imported inside the functions that need it, so importing this module costs nothing and
the web process pays for scikit-learn only when it first asks for a suggestion.
"""

from __future__ import annotations

import csv
import json
import os
import re
import tempfile
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from meldingen.classify.lexicon import with_dutch_words

# Residents paste whole e-mails; the category is decided in the first lines, and 100 kB of text must not
# cost a second of CPU.
MAX_TEXT_CHARS = 5000

# Calibration folds; a class needs at least this many examples, so rarer ones are repeated (see _balance).
CALIBRATION_FOLDS = 3

_REPEATED_LETTERS = re.compile(r"(\w)\1{2,}")
_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")

# example_report_sentences.csv uses newer Signalen slugs than the default tree; mapped by name.
# Rows whose category has no counterpart in the tree are left out (listed in sample_data/classifier/README.md).
EXAMPLE_SLUG_MAP: dict[tuple[str, str], str] = {
    ("schoon", "veegzwerfvuil"): "veeg-zwerfvuil",
    ("schoon", "graffitiwildplak"): "graffiti-wildplak",
    ("civiele-constructies", "bruggen"): "brug",
    ("wegen-verkeer-straatmeubilair", "lantaarnpaal-straatverlichting"): "straatverlichting-openbare-klok",
}


@dataclass(frozen=True)
class Suggestion:
    """One category the text may belong to, with the model's calibrated probability."""

    main_slug: str
    sub_slug: str
    confidence: float


def normalise_text(text: str) -> str:
    """Lower case, no accents, digits as 0, 'heeeel' as 'heel', single spaces; English and plain words followed
    by the Dutch words of the written texts they stand for (`lexicon.with_dutch_words`)."""
    text = unicodedata.normalize("NFKD", text[:MAX_TEXT_CHARS].lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _REPEATED_LETTERS.sub(r"\1\1", text)
    text = _DIGITS.sub("0", text)
    return with_dutch_words(_SPACES.sub(" ", text).strip())


@dataclass
class CategoryClassifier:
    """A fitted pipeline over sub categories, with the tree it was trained on and how it scored."""

    pipeline: object
    sub_to_main: dict[str, str]
    metadata: dict = field(default_factory=dict)

    @property
    def classes(self) -> list[str]:
        return [str(c) for c in self.pipeline.classes_]

    def probabilities(self, texts: list[str]):
        """Calibrated probabilities, one row per text, columns in the order of `classes`."""
        texts = [t[:MAX_TEXT_CHARS] for t in texts]
        fast = self._fast_path()
        if fast is None:
            return self.pipeline.predict_proba(texts)
        return fast(texts)

    def _fast_path(self):
        """The pipeline's own arithmetic in a few array operations, or None for a shape it does not know.

        scikit-learn's calibrated classifier validates its input once per class (86 times per text), which
        costs three quarters of a suggestion; the sums are the same: features of each vectorizer side by
        side, the SVM's decision function, each class's sigmoid, rows normalised to one. A test holds the
        two paths equal on every shipped text.
        """
        cached = self.__dict__.get("_fast")
        if cached is not None or "_fast" in self.__dict__:
            return cached
        self.__dict__["_fast"] = None
        try:
            self.__dict__["_fast"] = _compile_fast_path(self.pipeline)
        except (AttributeError, KeyError, TypeError, ValueError):
            pass
        return self.__dict__["_fast"]

    def suggest(self, text: str, allowed_sub_slugs: set[str] | None = None, k: int = 3) -> list[Suggestion]:
        """The k most likely sub categories, best first; categories not allowed are never suggested.

        Probabilities of classes that are not allowed (deactivated, unknown to the caller) are removed and
        the rest renormalised, so the confidence stays a probability over what can actually be chosen.
        """
        if not text or not text.strip() or k <= 0:
            return []
        row = self.probabilities([text])[0]
        scored = [
            (float(p), sub)
            for sub, p in zip(self.classes, row)
            if allowed_sub_slugs is None or sub in allowed_sub_slugs
        ]
        total = sum(p for p, _ in scored)
        if total <= 0:
            return []
        scored.sort(key=lambda item: (-item[0], item[1]))
        return [
            Suggestion(self.sub_to_main.get(sub, ""), sub, round(p / total, 4))
            for p, sub in scored[:k]
        ]

    def save(self, path: str | Path) -> Path:
        """Write the model (compressed joblib) and its metadata as JSON beside it; returns the model path."""
        import joblib

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"pipeline": self.pipeline, "sub_to_main": self.sub_to_main, "metadata": self.metadata}
        _write_atomically(path, lambda tmp: joblib.dump(data, tmp, compress=("zlib", 6)))
        text = json.dumps({**self.metadata, "classes": self.classes, "sub_to_main": self.sub_to_main},
                          indent=2, ensure_ascii=False)
        _write_atomically(metadata_path(path), lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
        return path

    @classmethod
    def load(cls, path: str | Path) -> CategoryClassifier:
        import joblib

        data = joblib.load(Path(path))
        return cls(pipeline=data["pipeline"], sub_to_main=data["sub_to_main"], metadata=data["metadata"])


def _write_atomically(path: Path, write) -> None:
    """`write(temporary path)`, then the file takes `path`'s place in one step: readers see the old file or the
    new one, never half of one. The temporary file has a name of its own (several processes may write at once:
    a shared `model.joblib.tmp` was renamed away under another writer) in the same directory (so the rename is
    atomic), and is gone whatever happens."""
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would keep the model from a web server running as another user
        with open(tmp, "rb") as written:
            os.fsync(written.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _compile_fast_path(pipeline):
    """A function texts -> probabilities equal to `pipeline.predict_proba`, for the pipeline `_build_pipeline`
    makes (a FeatureUnion of vectorizers into a sigmoid-calibrated linear model, one calibrated classifier)."""
    import numpy as np
    import scipy.sparse as sp
    from scipy.special import expit

    union = pipeline.named_steps["features"]
    model = pipeline.named_steps["model"]
    if getattr(union, "transformer_weights", None) or model.method != "sigmoid":
        return None
    if len(model.calibrated_classifiers_) != 1:
        return None
    calibrated = model.calibrated_classifiers_[0]
    estimator = calibrated.estimator
    classes = np.asarray(model.classes_)
    if len(classes) < 3 or list(estimator.classes_) != list(classes):
        return None  # binary models keep scikit-learn's own path
    vectorizers = [v for _, v in union.transformer_list if v not in ("drop", "passthrough")]
    coef_t = np.asarray(estimator.coef_).T
    intercept = np.asarray(estimator.intercept_)
    a = np.array([c.a_ for c in calibrated.calibrators], dtype=np.float64)
    b = np.array([c.b_ for c in calibrated.calibrators], dtype=np.float64)
    n_classes = len(classes)

    def predict_proba(texts: list[str]):
        features = sp.hstack([v.transform(texts) for v in vectorizers]).tocsr()
        scores = np.asarray(features @ coef_t) + intercept
        proba = expit(-(a * scores.astype(np.float64) + b))
        denominator = proba.sum(axis=1)[:, np.newaxis]
        uniform = np.full_like(proba, 1 / n_classes)
        proba = np.divide(proba, denominator, out=uniform, where=denominator != 0)
        proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
        return proba

    return predict_proba


def metadata_path(model_path: str | Path) -> Path:
    """model.joblib -> model.json"""
    return Path(model_path).with_suffix(".json")


def _build_pipeline(n_classes_small: bool = False):
    """Word and character n-gram TF-IDF into a linear SVM whose scores are calibrated to probabilities."""
    import numpy as np
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.svm import LinearSVC

    words = TfidfVectorizer(
        preprocessor=normalise_text, analyzer="word", ngram_range=(1, 2), sublinear_tf=True,
        min_df=2, max_features=12000, token_pattern=r"(?u)\b\w\w+\b", dtype=np.float32,
    )
    chars = TfidfVectorizer(
        preprocessor=normalise_text, analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True,
        min_df=2, max_features=20000, dtype=np.float32,
    )
    svm = LinearSVC(C=0.5)
    model = CalibratedClassifierCV(svm, method="sigmoid", cv=CALIBRATION_FOLDS, ensemble=False)
    return Pipeline([("features", FeatureUnion([("words", words), ("chars", chars)])), ("model", model)])


def _balance(texts: list[str], labels: list[str]) -> tuple[list[str], list[str]]:
    """Repeat the examples of classes rarer than the calibration folds, so a category can be trained
    from its first one or two examples (e.g. a category an administrator just added)."""
    counts = Counter(labels)
    texts, labels = list(texts), list(labels)
    for label, n in counts.items():
        if n < CALIBRATION_FOLDS:
            own = [t for t, lab in zip(texts, labels) if lab == label]
            for i in range(CALIBRATION_FOLDS - n):
                texts.append(own[i % n])
                labels.append(label)
    return texts, labels


def _shrink(pipeline) -> None:
    """Drop what prediction does not need and store weights as float32: a smaller file, faster load."""
    import numpy as np

    for _, vectorizer in pipeline.named_steps["features"].transformer_list:
        if hasattr(vectorizer, "stop_words_"):
            del vectorizer.stop_words_  # every pruned n-gram; only useful for introspection
    for calibrated in pipeline.named_steps["model"].calibrated_classifiers_:
        estimator = calibrated.estimator
        estimator.coef_ = estimator.coef_.astype(np.float32)
        estimator.intercept_ = estimator.intercept_.astype(np.float32)


def train_classifier(examples: list[tuple[str, str]], sub_to_main: dict[str, str]) -> CategoryClassifier:
    """Fit a classifier on (text, sub_slug) pairs; sub_to_main gives each sub category's main category."""
    examples = [(t, s) for t, s in examples if t and t.strip() and s]
    labels = sorted({s for _, s in examples})
    if len(labels) < 2:
        raise ValueError("training needs examples of at least two categories")
    unknown = [s for s in labels if s not in sub_to_main]
    if unknown:
        raise ValueError(f"examples for categories missing from the tree: {', '.join(unknown)}")
    texts, subs = _balance([t for t, _ in examples], [s for _, s in examples])
    started = time.perf_counter()
    pipeline = _build_pipeline()
    pipeline.fit(texts, subs)
    _shrink(pipeline)
    metadata = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "n_examples": len(examples),
        "examples_per_class": dict(sorted(Counter(s for _, s in examples).items())),
        "training_seconds": round(time.perf_counter() - started, 2),
        "sklearn_version": _sklearn_version(),
    }
    return CategoryClassifier(pipeline=pipeline, sub_to_main=dict(sub_to_main), metadata=metadata)


def _sklearn_version() -> str:
    import sklearn

    return sklearn.__version__


def _scores(true_subs: list[str], pred_subs: list[str], confidences: list[float],
            sub_to_main: dict[str, str]) -> dict:
    """Accuracy and macro-F1 on sub and main level, confusion by main category, calibration of top-1."""
    from sklearn.metrics import accuracy_score, f1_score

    true_main = [sub_to_main.get(s, "?") for s in true_subs]
    pred_main = [sub_to_main.get(s, "?") for s in pred_subs]
    confusion: dict[str, dict[str, int]] = {}
    for t, p in zip(true_main, pred_main):
        confusion.setdefault(t, {}).setdefault(p, 0)
        confusion[t][p] += 1
    correct = [t == p for t, p in zip(true_subs, pred_subs)]
    n = len(true_subs)
    # Expected calibration error of the top suggestion over ten confidence bins.
    ece = 0.0
    for low in [i / 10 for i in range(10)]:
        idx = [i for i, c in enumerate(confidences) if low < c <= low + 0.1 or (low == 0 and c == 0)]
        if idx:
            ece += len(idx) / n * abs(sum(correct[i] for i in idx) / len(idx)
                                      - sum(confidences[i] for i in idx) / len(idx))
    sub_labels = sorted(set(true_subs))
    main_labels = sorted(set(true_main))
    return {
        "n": n,
        "sub": {"accuracy": round(accuracy_score(true_subs, pred_subs), 4),
                "macro_f1": round(f1_score(true_subs, pred_subs, labels=sub_labels, average="macro",
                                           zero_division=0), 4)},
        "main": {"accuracy": round(accuracy_score(true_main, pred_main), 4),
                 "macro_f1": round(f1_score(true_main, pred_main, labels=main_labels, average="macro",
                                            zero_division=0), 4)},
        "calibration": {"mean_top1_confidence": round(sum(confidences) / n, 4),
                        "top1_accuracy": round(sum(correct) / n, 4),
                        "expected_calibration_error": round(ece, 4)},
        "confusion_by_main": {t: dict(sorted(row.items())) for t, row in sorted(confusion.items())},
    }


def evaluate(classifier: CategoryClassifier, examples: list[tuple[str, str]]) -> dict:
    """Score a trained classifier on (text, sub_slug) pairs; a label it does not know counts as wrong."""
    examples = [(t, s) for t, s in examples if t and t.strip()]
    if not examples:
        raise ValueError("nothing to evaluate")
    proba = classifier.probabilities([t for t, _ in examples])
    classes = classifier.classes
    best = proba.argmax(axis=1)
    preds = [classes[i] for i in best]
    confidences = [float(proba[r, i]) for r, i in enumerate(best)]
    tree = {**classifier.sub_to_main}
    return _scores([s for _, s in examples], preds, confidences, tree)


def cross_validate(examples: list[tuple[str, str]], sub_to_main: dict[str, str], folds: int = 5,
                   seed: int = 0) -> dict:
    """Stratified k-fold: train on k-1 folds, score the held-out fold, pool all held-out predictions."""
    from sklearn.model_selection import StratifiedKFold

    texts = [t for t, _ in examples]
    subs = [s for _, s in examples]
    preds: list[str] = [""] * len(examples)
    confidences: list[float] = [0.0] * len(examples)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_idx, test_idx in splitter.split(texts, subs):
        model = train_classifier([examples[i] for i in train_idx], sub_to_main)
        proba = model.probabilities([texts[i] for i in test_idx])
        classes = model.classes
        for row, i in enumerate(test_idx):
            j = int(proba[row].argmax())
            preds[i] = classes[j]
            confidences[i] = float(proba[row, j])
    result = _scores(subs, preds, confidences, sub_to_main)
    result["folds"] = folds
    return result


def load_training_texts(path: str | Path) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """Read texts.csv (text, main_slug, sub_slug): the examples and the sub -> main mapping they imply."""
    examples, sub_to_main = [], {}
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            text, main, sub = row["text"].strip(), row["main_slug"].strip(), row["sub_slug"].strip()
            if text and sub:
                examples.append((text, sub))
                sub_to_main[sub] = main
    return examples, sub_to_main


def load_example_sentences(path: str | Path, known_subs: set[str] | None = None) -> list[tuple[str, str]]:
    """The usable rows of example_report_sentences.csv, their slugs mapped onto the default tree.

    Rows marked usable_label=no, and rows whose category has no counterpart in the tree (or in
    `known_subs` when given), are left out.
    """
    examples = []
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row.get("usable_label", "yes").strip().lower() != "yes":
                continue
            main, sub = row.get("main_slug", "").strip(), row.get("sub_slug", "").strip()
            sub = EXAMPLE_SLUG_MAP.get((main, sub), sub)
            if not sub or (known_subs is not None and sub not in known_subs):
                continue
            examples.append((row["text"].strip(), sub))
    return examples


def load_labelled_csv(path: str | Path, known_subs: set[str] | None = None) -> list[tuple[str, str]]:
    """Any CSV with a `text` and a `sub_slug` column (as texts.csv); example-sentence files are mapped,
    and their rows without a counterpart in `known_subs` left out."""
    with open(path, newline="", encoding="utf-8") as f:
        columns = csv.DictReader(f).fieldnames or []
    if "usable_label" in columns:
        return load_example_sentences(path, known_subs)
    if "text" not in columns or "sub_slug" not in columns:
        raise ValueError(f"{path}: needs the columns text and sub_slug (has: {', '.join(columns)})")
    with open(path, newline="", encoding="utf-8") as f:
        return [(r["text"].strip(), r["sub_slug"].strip()) for r in csv.DictReader(f)
                if r["text"].strip() and r["sub_slug"].strip()]
