"""The app of wsgi.py plus a bare endpoint that reads the request and answers 200: the ceiling a webhook's
acknowledgement (or an API create) is compared with, served by the same server in the same run
(`gunicorn -c deploy/gunicorn.conf.py bench.bare_wsgi:app`)."""

from flask import Response, request

from meldingen.extensions import csrf
from wsgi import app


def bench_bare():
    # The body is read, as every real view reads it. Gunicorn's gthread worker drains an unread body after the
    # response, and the drain can take in the start of the client's next request on that keep-alive connection,
    # which then waits for the keep-alive timeout (5 s) before the connection is closed and the client retries.
    request.get_data()
    return Response("", status=200)


csrf.exempt(bench_bare)
app.add_url_rule("/bench/bare", "bench_bare", bench_bare, methods=["POST"])
