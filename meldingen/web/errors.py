"""Errors that look like the surface they happen on: HTML pages in plain Dutch (with English) for people on the
staff pages and the website chat; JSON for the APIs, Open311 and the webhooks, as before.

Also the one bound on numbers in URLs: every `<int:…>` path part is at most a 32-bit signed integer, so an id
like 99999999999999999999 is a 404, never a database overflow (a 500)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from flask import Flask, Response, render_template, request
from flask.globals import request_ctx
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed
from werkzeug.routing import IntegerConverter

from meldingen.web.security import refusal_with_reason

log = logging.getLogger(__name__)

MAX_DB_INT = 2_147_483_647
# Machine surfaces: their clients read JSON (Open311 answers in its own XML/JSON error format).
MACHINE_PREFIXES = ("/api/", "/open311/", "/webhooks/", "/chat/api", "/healthz", "/media/")

# status → (title, explanation, English title, English explanation). Plain language (B1).
PAGES: dict[int, tuple[str, str, str, str]] = {
    400: ("Dit klopt niet", "De pagina kan niets met wat er in het adres of het formulier staat. Ga terug en "
          "probeer het opnieuw.", "Bad request", "The page cannot use what is in the address or the form."),
    403: ("Geen toegang", "U mag deze pagina niet zien of dit niet doen. Denkt u dat dit niet klopt? Vraag het "
          "aan de beheerder van uw organisatie.", "Forbidden", "You may not see this page or do this."),
    404: ("Pagina niet gevonden", "Deze pagina of melding bestaat niet, of u mag hem niet zien. Kijk of het adres "
          "klopt.", "Not found", "This page or report does not exist, or you may not see it."),
    405: ("Dit kan zo niet", "Deze pagina kan dit verzoek niet verwerken. Ga terug en gebruik de knoppen op de "
          "pagina.", "Method not allowed", "This page cannot handle this request."),
    413: ("Te groot", "Het bestand of de tekst is te groot. Kies een kleiner bestand.", "Too large",
          "The file or text is too large."),
    429: ("Even wachten", "U heeft in korte tijd te veel gedaan. Wacht een minuut en probeer het dan opnieuw.",
          "Too many requests", "Please wait a minute and try again."),
    500: ("Er ging iets mis", "Er ging bij ons iets mis. Probeer het over een paar minuten opnieuw. Blijft het "
          "misgaan? Neem contact op met de gemeente.", "Something went wrong",
          "Something went wrong on our side. Please try again in a few minutes."),
}


class BoundedIntegerConverter(IntegerConverter):
    """`<int:…>` that matches only what a database integer can hold (larger: no route, so a 404)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_DB_INT)
        super().__init__(map, *args, **kwargs)


def is_machine_surface() -> bool:
    """The one place that decides between a machine's answer and a person's page."""
    return request.path.startswith(MACHINE_PREFIXES)


def error_page(code: int, description: str | None = None):
    title, text, title_en, text_en = PAGES.get(code) or PAGES[500 if code >= 500 else 400]
    home = "/chat" if request.path.startswith("/chat") else "/staff"
    return render_template("errors/error.html", code=code, title=title, text=text, title_en=title_en,
                           text_en=text_en, detail=description, home=home), code


def bound_url_integers(app: Flask) -> None:
    """Before any route is added (rules compile their converters when added)."""
    app.url_map.converters["int"] = BoundedIntegerConverter


def register_error_pages(app: Flask, method_not_allowed: Mapping[str, Callable[[MethodNotAllowed], Response]]) -> None:
    """Registered last, as the app's only HTTP error handlers (Flask keeps one per exception class, so every status
    is decided here): machine surfaces get their own answer, people on staff and chat pages the Dutch page.

    `method_not_allowed` maps a path prefix to the answer of that surface to a method it does not allow (refused by
    routing, so no blueprint handler runs); the longest matching prefix wins, "" is every other machine path. The
    surfaces bring their own format (the app factory passes them), so this module depends on none of them."""
    prefixes = sorted(method_not_allowed, key=len, reverse=True)
    json_handler = app.error_handler_spec.get(None, {}).get(None, {}).get(HTTPException)  # the API's (smorest)
    # The API's handler may say it words 413 and 429 itself on its paths (problem details under /api/v1).
    answers_refusals = getattr(json_handler, "answers_refusals", None) or (lambda: False)

    def machine_answer(exc: HTTPException):
        if isinstance(exc, MethodNotAllowed):  # refused by routing, so no blueprint handler ran
            prefix = next((p for p in prefixes if request.path.startswith(p)), None)
            if prefix is not None:
                return method_not_allowed[prefix](exc)  # the surface's own format, with `Allow`
        if exc.code in (413, 429) and not answers_refusals():
            return refusal_with_reason(exc)  # with the reason (and Retry-After)
        return json_handler(exc) if json_handler is not None else exc

    def handle_http(exc: HTTPException):
        if request_ctx.url_adapter is None:  # a Host we do not serve: no page of ours can be built for it
            return Response(f"{exc.code} {exc.name}: {exc.description}\n", status=exc.code or 400,
                            mimetype="text/plain")
        if is_machine_surface():
            return machine_answer(exc)
        if exc.code in (413, 429) and request.endpoint == "staff.login":
            return refusal_with_reason(exc)  # the sign-in form itself says why
        if exc.code is None or exc.code < 400:
            return exc
        # Only texts we wrote in Dutch for people are shown (flask's own descriptions are English and generic).
        detail = getattr(exc, "dutch", None)
        return _with_headers(error_page(exc.code, detail), exc.get_response().headers)

    def handle_500(exc):
        original = getattr(exc, "original_exception", None) or exc
        log.error("unhandled error on %s %s", request.method, request.path, exc_info=original)
        if is_machine_surface():
            if json_handler is not None:
                return json_handler(InternalServerError())
            return {"code": 500, "status": "Internal Server Error"}, 500
        return error_page(500)

    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(InternalServerError, handle_500)


def _with_headers(response, headers):
    from flask import make_response

    made = make_response(response)
    for name in ("Allow", "Retry-After", "WWW-Authenticate"):
        if name in headers:
            made.headers[name] = headers[name]
    return made


class DutchBadRequest(HTTPException):
    """A 400 whose `dutch` text is shown on the error page (e.g. which number in the address is wrong)."""

    code = 400
    description = "Bad request"

    def __init__(self, dutch: str):
        super().__init__(description=dutch)
        self.dutch = dutch


def db_int(text, *, low: int = 0, high: int = MAX_DB_INT) -> int:
    """A whole number from a form or URL that a database integer column can hold; 400 otherwise."""
    value = str(text if text is not None else "").strip()
    if not (value.isascii() and value.lstrip("-").isdigit()) or not low <= int(value) <= high:
        raise DutchBadRequest(f"Hier hoort een heel getal van {low} tot {high}.")
    return int(value)
