"""WSGI entry point: `waitress-serve --call wsgi:create_app` or `gunicorn wsgi:app`."""

import sys

from meldingen import create_app
from meldingen.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:  # one line saying what is wrong (a wrong database URL, a placeholder secret)
    sys.exit(f"meldingen: {exc}")
