"""Ready before the first resident: a classifier model is in place after `load-sample-data` and loaded when the
app is made; a request never trains one; writers at the same moment never leave a broken file."""

from __future__ import annotations

import multiprocessing
import threading

import pytest
from sqlalchemy import func, select

from meldingen.classify import model as classifier_model
from meldingen.classify import services
from meldingen.extensions import db
from meldingen.reports.models import Report


@pytest.fixture
def fresh_model_path(tmp_path):
    return tmp_path / "fresh" / "model.joblib"


@pytest.fixture
def trainings(monkeypatch):
    """Every training run in this process, recorded (and still done)."""
    calls: list[int] = []
    real = classifier_model.train_classifier

    def recording(*args, **kwargs):
        calls.append(threading.get_ident())
        return real(*args, **kwargs)

    monkeypatch.setattr(classifier_model, "train_classifier", recording)
    return calls


@pytest.mark.parametrize("app_config", [{"CLASSIFIER_PRELOAD": False}], indirect=True)
def test_load_sample_data_leaves_a_model_in_place(app, runner, fresh_model_path):
    app.config["CLASSIFIER_MODEL_PATH"] = str(fresh_model_path)
    assert not fresh_model_path.exists()
    result = runner.invoke(args=["load-sample-data"])
    assert result.exit_code == 0, result.output
    assert fresh_model_path.exists()
    assert services.get_classifier().classes


def test_the_app_has_its_model_in_memory_before_its_first_request(tmp_path, database_url, fresh_model_path,
                                                                    trainings):
    from tests.conftest import make_app

    application = make_app(tmp_path, database_url, CLASSIFIER_MODEL_PATH=str(fresh_model_path))
    assert fresh_model_path.exists() and len(trainings) == 1  # made when the app was made, not later
    assert str(fresh_model_path) in services._cache
    with application.app_context():
        assert services.get_classifier() is services._cache[str(fresh_model_path)][1]


def report_by_webchat(client) -> None:
    token = client.post("/chat/api/sessions").json["session"]
    headers = {"X-Chat-Session": token}
    for body in ({"id": "ready-0001", "text": "De lantaarnpaal voor mijn deur doet het niet meer"},
                 {"id": "ready-0002", "location": {"lat": 52.3877221, "lon": 4.8925727}}):
        assert client.post("/chat/api/messages", json=body, headers=headers).status_code == 200


@pytest.mark.parametrize("app_config", [{"CLASSIFIER_PRELOAD": False}], indirect=True)
def test_a_request_never_trains_even_without_a_model(app, client, fresh_model_path, trainings, make_staff, auth):
    app.config["CLASSIFIER_MODEL_PATH"] = str(fresh_model_path)
    _, token = make_staff("head")
    response = client.post("/api/v1/classify", json={"text": "de lantaarnpaal doet het niet"}, headers=auth(token))
    assert response.status_code == 200
    report_by_webchat(client)
    assert trainings == []
    assert not fresh_model_path.exists()
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Report)) == 1  # made, its category left to staff


def test_a_request_never_trains_with_a_model_in_place(app, client, trainings):
    report_by_webchat(client)
    assert trainings == []
    report = db.session.scalar(select(Report))
    assert report is not None and report.category is not None


def _small_classifier():
    examples, tree = services.shipped_examples()
    two = sorted({s for _, s in examples})[:2]
    return classifier_model.train_classifier([(t, s) for t, s in examples if s in two],
                                             {s: tree[s] for s in two})


def _write_many(path: str, classifier, times: int, errors) -> None:
    for _ in range(times):
        try:
            classifier.save(path)
        except Exception as exc:  # pragma: no cover - shown by the assertion
            errors.put(repr(exc))


def test_writers_at_the_same_moment_never_leave_a_broken_or_half_file(tmp_path):
    path = tmp_path / "model.joblib"
    classifier = _small_classifier()
    classifier.save(path)
    context = multiprocessing.get_context("fork")
    errors = context.Queue()
    writers = [context.Process(target=_write_many, args=(str(path), classifier, 15, errors)) for _ in range(4)]
    for writer in writers:
        writer.start()
    read_errors = []
    while any(writer.is_alive() for writer in writers):
        try:
            assert classifier_model.CategoryClassifier.load(path).classes == classifier.classes
        except Exception as exc:  # a half-written file: zlib or unpickling errors
            read_errors.append(repr(exc))
    for writer in writers:
        writer.join(60)
    written = []
    while not errors.empty():
        written.append(errors.get())
    assert written == [] and read_errors == []
    assert [writer.exitcode for writer in writers] == [0, 0, 0, 0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.joblib", "model.json"]  # no temporary left


def _ensure(path: str, results) -> None:
    results.put(services.ensure_model(__import__("pathlib").Path(path)))


def test_processes_starting_together_make_one_model(tmp_path):
    path = tmp_path / "classifier" / "model.joblib"
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    starting = [context.Process(target=_ensure, args=(str(path), results)) for _ in range(3)]
    for process in starting:
        process.start()
    for process in starting:
        process.join(300)
    trained = sorted(results.get(timeout=10) for _ in starting)
    assert trained == [False, False, True]  # one trained, the others waited and found its model
    assert classifier_model.CategoryClassifier.load(path).classes
