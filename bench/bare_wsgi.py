"""The app of wsgi.py plus a bare endpoint that only answers 200: the ceiling a webhook's acknowledgement is
compared with, served by the same server in the same run (`gunicorn -c deploy/gunicorn.conf.py bench.bare_wsgi:app`)."""

from flask import Response

from meldingen.extensions import csrf
from wsgi import app


def bench_bare():
    return Response("", status=200)


csrf.exempt(bench_bare)
app.add_url_rule("/bench/bare", "bench_bare", bench_bare, methods=["POST"])
