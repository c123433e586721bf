"""Gunicorn settings for Meldingen's web processes: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

Web processes are stateless: sessions are signed cookies checked against the database, rate limits and jobs live
in Redis, everything else in the database, so any number can run behind a load balancer. Each process answers a
webhook by storing the event and handing the work to the job queue; nothing slow runs in a request.
Every setting can be changed by the environment variable named beside it.
"""

import os

bind = os.environ.get("MELDINGEN_BIND", "127.0.0.1:8000")
# Processes × threads: threads let a process wait on the database for one request while it serves another.
workers = int(os.environ.get("MELDINGEN_WEB_WORKERS", str(max(2, os.cpu_count() or 2))))
worker_class = "gthread"
threads = int(os.environ.get("MELDINGEN_WEB_THREADS", "4"))
# A request that takes longer than this is a bug or a stuck connection: the process is replaced.
timeout = int(os.environ.get("MELDINGEN_WEB_TIMEOUT", "30"))
# On SIGTERM or SIGHUP (graceful restart, new code), requests in flight get this long to finish.
graceful_timeout = int(os.environ.get("MELDINGEN_WEB_GRACEFUL_TIMEOUT", "20"))
keepalive = 5
# Replace a process now and then, so no slow growth of memory can build up (jitter: not all at once).
max_requests = int(os.environ.get("MELDINGEN_WEB_MAX_REQUESTS", "10000"))
max_requests_jitter = max_requests // 10
# Each process opens its own database and Redis connections after the fork.
preload_app = False
# No runtime control socket (gunicorn 26 makes one in a shared per-user path; two servers on one machine would
# take each other's): restarts go through signals (HUP: graceful reload, TERM: graceful stop).
control_socket_disable = True

# The access log carries no personal data: no client address, no query string (Open311 api_key, search words),
# no user agent or referrer; the path of a report names only its reference.
accesslog = os.environ.get("MELDINGEN_ACCESS_LOG", "-")
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
errorlog = "-"
loglevel = os.environ.get("MELDINGEN_LOG_LEVEL", "info")
