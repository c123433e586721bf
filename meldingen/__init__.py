"""Meldingen: residents' chat reports about public space, turned into structured, routed reports."""

from __future__ import annotations

import logging

from flask import Flask

from meldingen.config import load_config


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    load_config(app, test_config)
    # What the caller set, for processes of this app's own (the background child re-creates the app from it).
    app.extensions["meldingen_config_overrides"] = _picklable(test_config or {})
    configure_logging(app)
    install_input_guards(app)
    register_extensions(app)
    register_reactions(app)
    bound_url_integers(app)
    register_blueprints(app)
    register_error_pages(app)
    register_commands(app)
    load_classifier(app)
    return app


def _picklable(config: dict) -> dict:
    import pickle

    kept = {}
    for key, value in config.items():
        try:
            pickle.dumps(value)
        except Exception:
            continue
        kept[key] = value
    return kept


def configure_logging(app: Flask) -> None:
    if not app.debug and not app.testing and not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("meldingen").setLevel(logging.INFO)


def install_input_guards(app: Flask) -> None:
    """Bad input is refused at the door: bounded converters, cleaned parameters, depth-limited JSON."""
    from meldingen.inputs.guards import install_input_guards as install

    install(app)


def register_extensions(app: Flask) -> None:
    from meldingen.db import check_database, engine_options, install_spatialite
    from meldingen.extensions import compress, csrf, db, limiter, login_manager, migrate
    from meldingen.migrations_support import migrate_options, migrations_dir
    from meldingen.web import security

    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config["SQLALCHEMY_DATABASE_URI"])
    import meldingen.models

    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            install_spatialite(db.engine)
        if not app.testing:  # a wrong or unreachable database is said at start, in one line
            check_database(db.engine, app.config["SQLALCHEMY_DATABASE_URI"])
    migrate.init_app(app, db, directory=str(migrations_dir()), **migrate_options())
    csrf.init_app(app)
    login_manager.init_app(app)
    import meldingen.staff.login  # noqa: F401  (registers the user loader)
    login_manager.login_view = "staff.login"
    from meldingen.web.limits import retry_after_only_when_refused

    retry_after_only_when_refused(app)  # before the limiter: its header hook must run first
    limiter.init_app(app)
    compress.init_app(app)
    security.init_app(app)
    register_jobs(app)
    from meldingen.audit.services import init_app as init_audit

    init_audit(app)  # staff actions and reads of residents' data go to the audit log


def register_jobs(app: Flask) -> None:
    """Background work: every task by name (`meldingen/tasks.py`), and the backend that runs them; the embedded
    background process makes its own app with this factory and starts with the worker entry's first work."""
    from meldingen.jobs import APP_FACTORY
    from meldingen.jobs.backends import init_app
    from meldingen.tasks import register_tasks
    from meldingen.worker import start_background_process

    register_tasks(app)
    app.extensions[APP_FACTORY] = create_app  # `meldingen worker` makes its processes' apps with it
    init_app(app, app_factory=create_app, on_start=start_background_process)


def register_reactions(app: Flask) -> None:
    """Who reacts to what happens in the domain (`meldingen/signals.py`): connected here and nowhere else.

    Receivers are module functions held strongly (weak=False), so blinker connects each once per process however
    many apps the process makes (tests make many); they work in the sender's session and transaction.
    """
    from meldingen import signals
    from meldingen.api import events
    from meldingen.classify.services import prepare_after_sample_data
    from meldingen.intake.services import receive_message
    from meldingen.notify.delivery import record_receipt
    from meldingen.notify.hooks import tell_subscribers
    from meldingen.notify.receipts import queue_read_receipt

    # A status change: every subscribed resident is told (when the status table says so, or staff wrote to them).
    signals.status_changed.connect(tell_subscribers, weak=False)
    # A resident's message, stored and its media fetched by `channels`, goes to the intake; a message it took in
    # is marked read through the outbox.
    signals.message_received.connect(receive_message, weak=False)
    signals.message_processed.connect(queue_read_receipt, weak=False)
    # What a platform reports of a message we sent moves its outbox row forward (and settles an unknown send).
    signals.delivery_reported.connect(record_receipt, weak=False)
    # Report events go to the systems that subscribed to them (Standard Webhooks), in the API's words.
    signals.report_created.connect(events.on_report_created, weak=False)
    signals.status_changed.connect(events.on_status_changed, weak=False)
    signals.report_merged.connect(events.on_report_merged, weak=False)
    signals.category_changed.connect(events.on_category_changed, weak=False)
    # The sample data is in: the classifier's first model is made now, not by the first resident's report.
    signals.sample_data_loaded.connect(prepare_after_sample_data, weak=False)


def load_classifier(app: Flask) -> None:
    """The classifier's model is made (once, when missing) and loaded before the process serves anyone (a WSGI
    server's app, the background process). A command line run serves no one: the commands that classify (`worker`,
    `load-sample-data`, `classifier evaluate`) make or load it themselves."""
    import click

    from meldingen.classify.services import load_before_serving

    if click.get_current_context(silent=True) is None:
        load_before_serving(app)


def register_blueprints(app: Flask) -> None:
    from meldingen.api import register_api
    from meldingen.open311.views import bp as open311_bp
    from meldingen.staff.views import bp as staff_bp
    from meldingen.staff.views.audit import bp as audit_bp
    from meldingen.staff.views.photos import bp as media_bp
    from meldingen.staff.views.privacy import bp as privacy_bp
    from meldingen.web.chat import bp as chat_bp
    from meldingen.web.front import bp as front_bp
    from meldingen.web.health import bp as health_bp
    from meldingen.web.webhooks import bp as webhooks_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(chat_bp)
    register_api(app)
    for blueprint in (webhooks_bp, staff_bp, open311_bp, media_bp, privacy_bp, audit_bp, front_bp):
        app.register_blueprint(blueprint)


def bound_url_integers(app: Flask) -> None:
    from meldingen.web.errors import bound_url_integers as bound

    bound(app)


def register_error_pages(app: Flask) -> None:
    from meldingen.api.contract import method_not_allowed_json
    from meldingen.open311.views import method_not_allowed
    from meldingen.web.errors import register_error_pages as register

    # Each machine surface answers a method it does not allow in its own format (Open311's error list, JSON).
    register(app, method_not_allowed={"/open311/": method_not_allowed, "": method_not_allowed_json})


def register_commands(app: Flask) -> None:
    from meldingen.cli import register_cli

    register_cli(app)

