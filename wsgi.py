"""WSGI entry point: `waitress-serve --call wsgi:create_app` or `gunicorn wsgi:app`."""

from meldingen import create_app

app = create_app()
