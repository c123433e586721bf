"""`make run`'s web server: waitress in front of the app, set from the app's own configuration.

Two settings waitress must be told and the app cannot do for itself:
- how large a body it may read at all (the largest any address of the app accepts; each address then refuses
  what exceeds its own limit by the announced length, before anything parses it: `meldingen.web.security`);
- which proxies it trusts: without `trusted_proxy` waitress drops `X-Forwarded-For` and `-Proto` before the app
  sees them, so `MELDINGEN_PROXY_FIX` would change nothing and every resident behind the proxy would share the
  proxy's address (one rate-limit bucket, one address in the audit log).
"""

from __future__ import annotations

import argparse
import os

from flask import Flask


def waitress_options(app: Flask, threads: int = 8) -> dict:
    from meldingen.web.security import largest_body

    options: dict = {"threads": threads, "max_request_body_size": largest_body(app.config),
                     "ident": "meldingen"}
    proxies = int(app.config.get("PROXY_FIX") or 0)
    if proxies > 0:
        # Trust the last `proxies` hops' X-Forwarded-For/-Proto (as ProxyFix does in the app, which then reads
        # the same values again); the host always comes from MELDINGEN_PUBLIC_URL.
        options.update(trusted_proxy=app.config.get("TRUSTED_PROXY") or "*", trusted_proxy_count=proxies,
                       trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto"},
                       clear_untrusted_proxy_headers=True)
    return options


def main(argv: list[str] | None = None) -> None:
    import waitress

    from meldingen import create_app

    parser = argparse.ArgumentParser(prog="python -m meldingen.serve", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args(argv)
    app = create_app()
    waitress.serve(app, host=args.host, port=args.port, **waitress_options(app, args.threads))


if __name__ == "__main__":
    main()
