"""The `meldingen` console script: Flask's command group around the app factory, with our own `--version`.

The commands themselves are registered on each app by `create_app` (`cli.register_cli`); this module only makes
the group that loads the app, so the app factory is imported here, at the top, and nowhere below it.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import click
from flask.cli import FlaskGroup

from meldingen import create_app


def meldingen_version() -> str:
    """The installed version of Meldingen (pyproject's `version`)."""

    try:
        return version("meldingen")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def make_cli() -> FlaskGroup:
    # Flask's own --version names Python, Flask and Werkzeug; operators asking `meldingen --version` want ours.
    cli = FlaskGroup(create_app=create_app, help="Meldingen: public-space reports by chat.", add_version_option=False)
    return click.version_option(meldingen_version(), "--version", prog_name="meldingen",
                                message="%(prog)s %(version)s")(cli)


def main() -> None:
    make_cli().main()
