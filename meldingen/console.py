"""The `meldingen` console script: Flask's command group around the app factory, with our own `--version`.

The commands themselves are registered on each app by `create_app` (`cli.register_cli`); this module only makes
the group that loads the app, so the app factory is imported here, at the top, and nowhere below it.
"""

from __future__ import annotations

import sys
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


def _create_app_or_exit():
    """The app; a setting that cannot work ends the command with its one line (Flask would print a traceback
    while it lists the commands)."""
    from meldingen.config import ConfigError

    try:
        return create_app()
    except ConfigError as exc:
        sys.exit(f"meldingen: {exc}")


def make_cli() -> FlaskGroup:
    # Flask's own --version names Python, Flask and Werkzeug; operators asking `meldingen --version` want ours.
    cli = FlaskGroup(create_app=_create_app_or_exit, help="Meldingen: public-space reports by chat.",
                     add_version_option=False)
    return click.version_option(meldingen_version(), "--version", prog_name="meldingen",
                                message="%(prog)s %(version)s")(cli)


def main() -> None:
    """The command line; a setting that cannot work (a wrong or unreachable database, a placeholder secret) is
    one line on stderr and exit status 1, not a traceback."""
    from sqlalchemy.exc import DBAPIError

    from meldingen.config import ConfigError
    from meldingen.db import database_error_line

    try:
        make_cli().main()
    except ConfigError as exc:
        sys.exit(f"meldingen: {exc}")
    except DBAPIError as exc:  # the database went away after the start, or a command's first use found it so
        import os

        sys.exit(f"meldingen: {database_error_line(os.environ.get('MELDINGEN_DATABASE_URL', ''), exc)}")
