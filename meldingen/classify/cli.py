"""`meldingen classifier train|evaluate`: retrain the category classifier and score it on labelled texts."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import with_appcontext


@click.group("classifier")
def classifier_cli():
    """Train and evaluate the category classifier."""


def _print_scores(result: dict) -> None:
    click.echo(f"texts: {result['n']}")
    for level in ("main", "sub"):
        scores = result[level]
        click.echo(f"{level:>4}: accuracy {scores['accuracy']:.3f}  macro-F1 {scores['macro_f1']:.3f}")
    calibration = result["calibration"]
    click.echo(f"top-1 confidence {calibration['mean_top1_confidence']:.3f} vs accuracy "
               f"{calibration['top1_accuracy']:.3f} (ECE {calibration['expected_calibration_error']:.3f})")
    click.echo("confusion by main category (true -> predicted: count):")
    for true, row in result["confusion_by_main"].items():
        cells = ", ".join(f"{pred} {n}" for pred, n in sorted(row.items(), key=lambda kv: -kv[1]))
        click.echo(f"  {true}: {cells}")


@classifier_cli.command("train")
@click.option("--folds", default=5, show_default=True, help="cross-validation folds for the evaluation; 0 skips it")
@with_appcontext
def train_command(folds: int):
    """Retrain from the written texts, the example sentences and staff's category corrections."""
    from meldingen.classify.services import model_path, train_and_save

    classifier = train_and_save(current_app._get_current_object(), folds=folds)
    sources = classifier.metadata["sources"]
    click.echo(f"trained on {classifier.metadata['n_examples']} texts ({sources['shipped']} written, "
               f"{sources['corrections']} from staff) over {len(classifier.classes)} categories "
               f"in {classifier.metadata['training_seconds']} s")
    if "evaluation" in classifier.metadata:
        click.echo(f"{folds}-fold cross-validation:")
        _print_scores(classifier.metadata["evaluation"])
    click.echo(f"saved to {model_path()}")


@classifier_cli.command("evaluate")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="print the full result as JSON")
@with_appcontext
def evaluate_command(csv_file: str, as_json: bool):
    """Score the current model on a labelled CSV (columns text and sub_slug)."""
    from meldingen.classify.model import evaluate, load_labelled_csv
    from meldingen.classify.services import ensure_model, get_classifier

    try:
        ensure_model()
        classifier = get_classifier()
        examples = load_labelled_csv(csv_file, known_subs=set(classifier.sub_to_main))
        result = evaluate(classifier, examples)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        _print_scores(result)
