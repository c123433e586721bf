"""The classifier in the application: suggestions over the categories in the database, learning from staff."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from meldingen.categories.models import Category
from meldingen.classify import services
from meldingen.classify.models import TrainingExample
from meldingen.extensions import db
from tests.factories import make_report


@pytest.fixture(scope="session")
def shipped_model(tmp_path_factory):
    """A model trained once on the shipped data; each test gets its own copy of the file."""
    from meldingen.classify.model import train_classifier

    examples, tree = services.shipped_examples()
    path = tmp_path_factory.mktemp("classifier") / "model.joblib"
    train_classifier(examples, tree).save(path)
    return path


@pytest.fixture
def app_config(tmp_path, shipped_model):
    import shutil

    path = tmp_path / "classifier" / "model.joblib"
    path.parent.mkdir()
    shutil.copyfile(shipped_model, path)
    return {"CLASSIFIER_MODEL_PATH": str(path)}


def sub_category(slug: str) -> Category:
    return db.session.scalar(select(Category).where(Category.slug == slug, Category.parent_id.is_not(None)))


def test_suggestions_name_main_and_sub_category_best_first(app):
    suggestions = services.suggest_categories("De lantaarnpaal voor mijn deur doet het niet")
    assert suggestions[0] == {"main_slug": "wegen-verkeer-straatmeubilair",
                              "sub_slug": "straatverlichting-openbare-klok",
                              "confidence": suggestions[0]["confidence"]}
    confidences = [s["confidence"] for s in suggestions]
    assert confidences == sorted(confidences, reverse=True) and sum(confidences) <= 1.0 + 1e-6


def test_empty_text_gets_no_suggestions(app):
    assert services.suggest_categories("   ") == []


def test_deactivated_category_is_never_suggested(app):
    sub_category("straatverlichting-openbare-klok").active = False
    db.session.commit()
    suggestions = services.suggest_categories("De lantaarnpaal voor mijn deur doet het niet", k=10)
    assert "straatverlichting-openbare-klok" not in {s["sub_slug"] for s in suggestions}


def test_sub_categories_of_a_deactivated_main_category_are_never_suggested(app):
    main = db.session.scalar(select(Category).where(Category.slug == "afval", Category.parent_id.is_(None)))
    main.active = False
    db.session.commit()
    for text in ["container vol", "prullenbak kapot", "grofvuil op de stoep"]:
        assert all(s["main_slug"] != "afval" for s in services.suggest_categories(text, k=10))


def test_a_moved_sub_category_is_reported_under_its_new_main_category(app):
    sub = sub_category("gladheid")
    sub.parent = db.session.scalar(select(Category).where(Category.slug == "overig", Category.parent_id.is_(None)))
    db.session.commit()
    top = services.suggest_categories("Het fietspad is spiegelglad, er is niet gestrooid")[0]
    assert top == {"main_slug": "overig", "sub_slug": "gladheid", "confidence": top["confidence"]}


def test_without_a_model_file_a_first_model_is_trained_from_the_shipped_texts_before_serving(app, tmp_path):
    app.config["CLASSIFIER_MODEL_PATH"] = str(tmp_path / "fresh" / "model.joblib")
    assert services.suggest_categories("Er ligt een dode kat op straat") == []  # a request never trains
    services.load_before_serving(app)  # what the app factory does before the process serves
    assert services.suggest_categories("Er ligt een dode kat op straat")[0]["sub_slug"] == "dode-dieren"
    assert (tmp_path / "fresh" / "model.joblib").exists()
    assert (tmp_path / "fresh" / "model.json").exists()


def test_staff_correction_is_kept_once_per_report_with_the_last_category(app, make_staff):
    staff, _ = make_staff("agent")
    report = make_report("Blauwe bak bij de school staat vol met oude kleren", category="container-is-vol")
    services.record_category_correction(report, sub_category("veeg-zwerfvuil"), staff)
    services.record_category_correction(report, sub_category("overig-afval"), staff)
    db.session.commit()
    examples = db.session.scalars(select(TrainingExample)).all()
    assert [(e.text, e.category.slug, e.report_id, e.created_by_id) for e in examples] == [
        ("Blauwe bak bij de school staat vol met oude kleren", "overig-afval", report.id, staff.id)]


def test_a_staff_correction_changes_the_next_training_run(app, make_staff):
    staff, _ = make_staff("agent")
    text = "De blauwe bak bij de school staat vol met oude kleren"
    assert services.suggest_categories(text)[0]["sub_slug"] != "overig-afval"
    for description in [text, "De blauwe bak bij het buurthuis staat vol met oude kleren",
                        "blauwe bak met oude kleren vol bij de kerk"]:
        report = make_report(description, category="container-is-vol")
        services.record_category_correction(report, sub_category("overig-afval"), staff)
    db.session.commit()
    model = services.train_and_save(app, folds=0)
    assert model.metadata["sources"]["corrections"] == 3
    assert services.suggest_categories(text)[0]["sub_slug"] == "overig-afval"


def test_a_category_added_by_an_administrator_is_trained_from_its_first_examples(app, make_staff):
    staff, _ = make_staff("agent")
    main = db.session.scalar(select(Category).where(Category.slug == "overlast-van-en-door-personen-of-groepen",
                                                    Category.parent_id.is_(None)))
    new = Category(slug="hennepteelt", name="Hennepteelt", parent=main, active=True)
    db.session.add(new)
    db.session.flush()
    for description in ["Volgens mij zit er een hennepkwekerij op de zolder, dichtgeplakte ramen en warmte",
                        "Wietplantage in de garage van nummer 4, lampen branden dag en nacht",
                        "hennepkwekerij in het pand naast ons, het ruikt naar wiet"]:
        report = make_report(description, category="overige-overlast-door-personen")
        services.record_category_correction(report, new, staff)
    db.session.commit()
    services.train_and_save(app, folds=0)
    top = services.suggest_categories("ik denk dat de buren een hennepkwekerij hebben")[0]
    assert (top["main_slug"], top["sub_slug"]) == ("overlast-van-en-door-personen-of-groepen", "hennepteelt")


def test_training_leaves_out_deactivated_categories_and_records_its_evaluation(app, tmp_path):
    sub_category("klok").active = False
    db.session.commit()
    model = services.train_and_save(app, folds=2)
    assert "klok" not in model.classes
    saved = json.loads((tmp_path / "classifier" / "model.json").read_text())
    assert saved["evaluation"]["folds"] == 2
    assert set(saved["evaluation"]) >= {"main", "sub", "confusion_by_main"}


def test_cli_train_and_evaluate(runner, tmp_path):
    result = runner.invoke(args=["classifier", "train", "--folds", "0"])
    assert result.exit_code == 0, result.output
    assert "saved to" in result.output
    result = runner.invoke(args=["classifier", "evaluate", str(services.EXAMPLE_SENTENCES_CSV)])
    assert result.exit_code == 0, result.output
    assert "macro-F1" in result.output and "confusion by main category" in result.output


def test_cli_evaluate_refuses_a_csv_without_labels(runner, tmp_path):
    path = tmp_path / "unlabelled.csv"
    path.write_text("text\nlamp kapot\n")
    result = runner.invoke(args=["classifier", "evaluate", str(path)])
    assert result.exit_code != 0
    assert "sub_slug" in result.output


def test_api_classify_answers_suggestions_best_first(client, make_staff, auth):
    _, token = make_staff("agent")
    response = client.post("/api/v1/classify", json={"text": "kontainer vol"}, headers=auth(token))
    assert response.status_code == 200
    suggestions = response.get_json()["suggestions"]
    assert suggestions[0]["sub_slug"] == "container-is-vol" and len(suggestions) == 3


def test_api_classify_answers_empty_and_huge_texts_sanely(client, make_staff, auth):
    _, token = make_staff("agent")
    assert client.post("/api/v1/classify", json={"text": ""}, headers=auth(token)).get_json() == {"suggestions": []}
    huge = ("Er ligt een boom over het fietspad. " + "x" * 100_000)[:100_000]
    response = client.post("/api/v1/classify", json={"text": huge}, headers=auth(token))
    assert response.status_code == 200
    assert response.get_json()["suggestions"][0]["sub_slug"] == "boom"


def test_api_classify_needs_a_token(client):
    assert client.post("/api/v1/classify", json={"text": "lamp kapot"}).status_code == 401


def test_a_category_switched_off_is_never_suggested_from_the_next_report_on(app):
    """The category tree is cached per process; a change committed here is seen at once, also a bulk UPDATE."""
    from sqlalchemy import update

    from meldingen.categories.models import Category
    from meldingen.classify.services import active_sub_categories

    tree = active_sub_categories()
    slug = next(iter(tree))
    db.session.execute(update(Category).where(Category.slug == slug).values(active=False))
    db.session.commit()
    assert slug not in active_sub_categories()
    category = db.session.scalar(select(Category).where(Category.slug == slug))
    category.active = True
    db.session.commit()
    assert slug in active_sub_categories()
