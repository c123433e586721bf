"""The classifier inside the application: the live model, suggestions over the active tree, learning from staff."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import aliased

from meldingen import cache
from meldingen.categories.models import Category
from meldingen.classify.models import TrainingExample
from meldingen.extensions import db

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent.parent.parent / "sample_data" / "classifier"
TEXTS_CSV = DATA_DIR / "texts.csv"
EXAMPLE_SENTENCES_CSV = DATA_DIR / "example_report_sentences.csv"

# One model per process, loaded before the process serves (`load_before_serving`), reloaded when the file on disk
# changes (a `meldingen classifier train` in another process replaces it atomically). Never trained on a request.
_cache: dict[str, tuple[float, object]] = {}
_lock = threading.Lock()


class NoModel(LookupError):
    """No classifier model at the configured path (and none may be trained here: a request is waiting)."""


def model_path() -> Path:
    """CLASSIFIER_MODEL_PATH when configured, else instance/classifier/model.joblib."""
    configured = current_app.config.get("CLASSIFIER_MODEL_PATH")
    return Path(configured) if configured else Path(current_app.instance_path) / "classifier" / "model.joblib"


def shipped_examples() -> tuple[list[tuple[str, str]], dict[str, str]]:
    """The project's written texts plus the usable example sentences, with the default tree they use."""
    from meldingen.classify.model import load_example_sentences, load_training_texts

    examples, sub_to_main = load_training_texts(TEXTS_CSV)
    if EXAMPLE_SENTENCES_CSV.exists():
        examples += load_example_sentences(EXAMPLE_SENTENCES_CSV, set(sub_to_main))
    return examples, sub_to_main


def get_classifier():
    """The current model (loaded once per process, again when the file changed). Raises NoModel when there is
    none: a model is made by `load-sample-data`, `classifier train` or a process's start, never on a request."""
    from meldingen.classify.model import CategoryClassifier

    path = model_path()
    key = str(path)
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        raise NoModel(f"no classifier model at {path}") from None
    cached = _cache.get(key)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    with _lock:
        cached = _cache.get(key)
        if cached is None or cached[0] != mtime:
            _cache[key] = (mtime, CategoryClassifier.load(path))
        return _cache[key][1]


def ensure_model(path: Path | None = None) -> bool:
    """A first model from the shipped texts when there is none yet; True when one was trained here.

    Processes that start together (gunicorn's workers, `meldingen worker` processes) take turns on a lock file
    beside the model, so one trains and the others load its result."""
    from meldingen.classify.model import train_classifier

    path = path or model_path()
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "a") as lock_file:
        _lock_file(lock_file)
        if path.exists():
            return False
        log.info("no classifier at %s: training one from the shipped texts", path)
        examples, sub_to_main = shipped_examples()
        classifier = train_classifier(examples, sub_to_main)
        classifier.metadata["sources"] = {"shipped": len(examples), "corrections": 0}
        classifier.save(path)
        return True


def _lock_file(handle) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: the atomic write still keeps the file whole
        return
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # released when the file is closed


def load_before_serving(app) -> None:
    """At a process's start (the app factory): the model is in place and in memory before the first resident.
    A model that cannot be made (a read-only instance folder) is logged, not fatal: reports then wait for staff's
    category, as when the classifier has no suggestion."""
    if str(app.config.get("CLASSIFIER_PRELOAD", True)).lower() in ("0", "false", "no", "off"):
        return
    prepare_model(app)


def prepare_model(app) -> None:
    """The model made when missing and loaded into this process (workers, the background process: at their start,
    before their first job)."""
    with app.app_context():
        try:
            ensure_model()
            get_classifier()
        except Exception:
            log.exception("classifier not loaded at start")


def prepare_after_sample_data(app) -> None:
    """`load-sample-data` leaves a model in place (signals.sample_data_loaded)."""
    ensure_model()


cache.watch(Category)


def active_sub_categories() -> dict[str, str]:
    """sub slug -> main slug of every sub category that is active under an active main category (read on every
    report: kept per process for a few seconds, dropped at once when this process changes a category)."""
    return dict(cache.cached("active_sub_categories", _load_active_sub_categories))


def _load_active_sub_categories() -> dict[str, str]:
    parent = aliased(Category)
    rows = db.session.execute(
        select(Category.slug, parent.slug)
        .join(parent, Category.parent_id == parent.id)
        .where(Category.active.is_(True), parent.active.is_(True))
        .order_by(Category.id)
    ).all()
    tree: dict[str, str] = {}
    for sub, main in rows:
        tree.setdefault(sub, main)
    return tree


def suggest_categories(text: str, k: int = 3) -> list[dict]:
    """Best-first {"main_slug", "sub_slug", "confidence"} over the active categories only.

    The main slug comes from the database, so a sub category an administrator moved is reported where it
    is now; a deactivated category is never suggested.
    """
    if not text or not text.strip():
        return []
    tree = active_sub_categories()
    try:
        classifier = get_classifier()
    except NoModel:
        log.error("no classifier model: no category suggested (run `meldingen classifier train`)")
        return []
    suggestions = classifier.suggest(text, allowed_sub_slugs=set(tree), k=k)
    return [{"main_slug": tree[s.sub_slug], "sub_slug": s.sub_slug, "confidence": s.confidence}
            for s in suggestions]


def record_category_correction(report, new_category, staff_user=None) -> TrainingExample | None:
    """Keep the report's text with the category staff chose, for the next training run.

    One example per report: when staff change the category again, the example follows the last choice.
    Added to the session; the caller commits it together with the category change.
    """
    text = (report.description or "").strip()
    if not text or new_category is None or new_category.parent_id is None:
        return None
    example = None
    if report.id is not None:
        example = db.session.scalar(
            select(TrainingExample).where(TrainingExample.report_id == report.id,
                                          TrainingExample.source == "correction")
        )
    if example is None:
        example = TrainingExample(text=text, report_id=report.id, source="correction")
        db.session.add(example)
    example.text = text
    example.category = new_category
    example.created_by_id = staff_user.id if staff_user is not None else None
    db.session.flush()
    return example


def staff_examples(tree: dict[str, str]) -> list[tuple[str, str]]:
    """(text, sub slug) of every kept training example whose category is active now."""
    rows = db.session.execute(
        select(TrainingExample.text, Category.slug)
        .join(Category, TrainingExample.category_id == Category.id)
        .order_by(TrainingExample.id)
    ).all()
    return [(text, slug) for text, slug in rows if slug in tree and text and text.strip()]


def train_and_save(app=None, folds: int = 5):
    """Retrain from the written texts, the example sentences and staff's corrections; save; return the model.

    Only active categories are trained, with the main category they have in the database now; a category
    known only from staff's examples is trained too. With folds > 1 the combined set is cross-validated
    first and the result stored as the model's evaluation.
    """
    from meldingen.classify.model import cross_validate, train_classifier

    app = app or current_app
    with app.app_context():
        tree = active_sub_categories()
        shipped, _ = shipped_examples()
        shipped = [(t, s) for t, s in shipped if s in tree]
        corrections = staff_examples(tree)
        examples = shipped + corrections
        trained_tree = {s: tree[s] for _, s in examples}
        evaluation = cross_validate(examples, trained_tree, folds=folds) if folds > 1 else None
        classifier = train_classifier(examples, trained_tree)
        classifier.metadata["sources"] = {"shipped": len(shipped), "corrections": len(corrections)}
        if evaluation is not None:
            classifier.metadata["evaluation"] = evaluation
        classifier.save(model_path())
        return classifier
