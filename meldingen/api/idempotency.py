"""Safe retries: an `Idempotency-Key` header on a create (API report, API photo, Open311 request).

The same key with the same body, by the same token or key, within 24 hours answers the first result again (its
status and body, with `Idempotent-Replayed: true`) and makes nothing new; the same key with another body is a
422. The key is claimed in the database before the create runs (a unique row per owner and key), so it holds
across processes and restarts, and of two identical requests at the same instant one makes the report while the
other waits for its answer (409 if it does not come within `IDEMPOTENCY_WAIT_SECONDS`). Only a success is kept:
a refused or failed first attempt releases the key, so the retry runs again. A claim whose request died with its
process is taken over after `IDEMPOTENCY_LEASE_SECONDS`.

Each surface words the refusals in its own error format (`refuse`), so Open311 keeps its error list.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import timedelta

from flask import Response, current_app, request
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from meldingen.accounts.models import IdempotencyKey, hash_token
from meldingen.extensions import db
from meldingen.timeutil import as_aware_utc, utcnow

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
KEEP = timedelta(hours=24)
DEFAULT_WAIT_SECONDS = 10.0
DEFAULT_LEASE_SECONDS = 120.0

# refuse(status, detail, problem type) -> the surface's error response
Refuse = Callable[[int, str, str], Response]


def header_key() -> str | None:
    """The request's Idempotency-Key, or None without one (the header sent empty counts as a key: refused)."""
    value = request.headers.get(HEADER)
    return None if value is None else value.strip()


def key_problem(key: str) -> str | None:
    if not key:
        return f"{HEADER} is empty: send 1 to {MAX_KEY_LENGTH} visible characters, e.g. a UUID"
    if len(key) > MAX_KEY_LENGTH:
        return f"{HEADER} is longer than {MAX_KEY_LENGTH} characters"
    if not key.isascii() or not key.isprintable():
        return f"{HEADER} must be visible ASCII characters, e.g. a UUID"
    return None


def owner_of(secret: str) -> str:
    """Keys are per token or Open311 key: the owner is its hash, never the secret itself."""
    return hash_token(secret.strip())


def fingerprint(ignore: tuple[str, ...] = ()) -> str:
    """The request as a retry would repeat it: method, path, query and body. JSON is compared as data (key order
    and spacing do not matter), forms by their fields, files by their content (a multipart boundary differs
    between two sends of the same photo); parameters named in `ignore` (a key sent as a parameter) are left out."""
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}\n".encode())
    pairs = sorted((k, v) for k, values in request.args.lists() for v in values if k not in ignore)
    digest.update(json.dumps(pairs, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    if request.is_json:
        data = request.get_json(silent=True)
        body = json.dumps(data, sort_keys=True, ensure_ascii=False) if data is not None else \
            request.get_data(cache=True).decode("utf-8", "replace")
        digest.update(body.encode("utf-8", "surrogatepass"))
    elif request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        fields = sorted((str(k), str(v)) for k, values in request.form.lists() for v in values if k not in ignore)
        digest.update(json.dumps(fields, ensure_ascii=False).encode("utf-8", "surrogatepass"))
        for name, upload in sorted(request.files.items(multi=True), key=lambda item: str(item[0])):
            content = upload.stream.read()
            upload.stream.seek(0)
            digest.update(f"\n{name}:{upload.filename}:".encode("utf-8", "surrogatepass"))
            digest.update(hashlib.sha256(content).digest())
    else:
        digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def replay(row: IdempotencyKey) -> Response:
    response = current_app.response_class(row.body or "", status=row.status, content_type=row.content_type)
    response.headers[REPLAYED] = "true"
    return response


def _claim(owner: str, key: str, print_: str) -> IdempotencyKey | None:
    """Claim the key in a transaction of its own (committed at once): None when this request now holds it, else
    the row another request holds or finished."""
    now = utcnow()
    db.session.commit()  # end what the request read so far: the claim is its own transaction
    db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < now - KEEP))
    db.session.add(IdempotencyKey(owner=owner, key=key, fingerprint=print_, created_at=now))
    try:
        db.session.commit()
        return None
    except IntegrityError:
        db.session.rollback()
    return db.session.scalar(select(IdempotencyKey).where(IdempotencyKey.owner == owner, IdempotencyKey.key == key))


def _release(owner: str, key: str) -> None:
    db.session.rollback()
    db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.owner == owner, IdempotencyKey.key == key,
                                                    IdempotencyKey.status.is_(None)))
    db.session.commit()


def _keep(owner: str, key: str, response: Response) -> None:
    row = db.session.scalar(select(IdempotencyKey).where(IdempotencyKey.owner == owner, IdempotencyKey.key == key))
    if row is None:  # taken over after the lease by a retry; that one's answer counts
        return
    row.status = response.status_code
    row.content_type = response.content_type
    row.body = response.get_data(as_text=True)
    row.completed_at = utcnow()
    db.session.commit()


def idempotent(owner: str, key: str, run: Callable[[], Response], refuse: Refuse,
               ignore: tuple[str, ...] = ()) -> Response:
    """Run the create once per owner and key (see the module's docstring); `run` makes and commits it."""
    from meldingen.api.problems import IDEMPOTENCY_KEY_IN_USE, IDEMPOTENCY_KEY_REUSED

    problem = key_problem(key)
    if problem:
        return refuse(400, problem, "about:blank")
    print_ = fingerprint(ignore)
    config = current_app.config
    wait = float(config.get("IDEMPOTENCY_WAIT_SECONDS", DEFAULT_WAIT_SECONDS))
    lease = timedelta(seconds=float(config.get("IDEMPOTENCY_LEASE_SECONDS", DEFAULT_LEASE_SECONDS)))
    deadline = time.monotonic() + wait
    while True:
        held = _claim(owner, key, print_)
        if held is None:
            break
        if held.fingerprint != print_:
            return refuse(422, f"this {HEADER} was used for another request (another body or address) in the last "
                               "24 hours; use a new key for a new request", IDEMPOTENCY_KEY_REUSED)
        if held.status is not None:
            return replay(held)
        if utcnow() - (as_aware_utc(held.created_at) or utcnow()) > lease:  # its request died with its process: take over
            _release(owner, key)
            continue
        if time.monotonic() >= deadline:
            return refuse(409, f"a request with this {HEADER} is still being handled; retry in a moment with the "
                               "same key to get its answer", IDEMPOTENCY_KEY_IN_USE)
        db.session.rollback()
        time.sleep(0.05)
    try:
        response = run()
    except BaseException:
        _release(owner, key)
        raise
    if 200 <= response.status_code < 300:
        _keep(owner, key, response)
    else:
        _release(owner, key)
    return response


def problem_refusal(status: int, detail: str, type_: str) -> Response:
    from meldingen.api.problems import problem_response

    errors = [{"field": HEADER, "message": detail}] if status == 422 else None
    return problem_response(status, detail, errors=errors, type_=type_)


def honours_idempotency_key(view):
    """An API create (under `token_required`, which checked the bearer token) honours an Idempotency-Key."""
    from functools import wraps

    from flask import make_response

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = header_key()
        if key is None:
            return view(*args, **kwargs)
        token = request.headers.get("Authorization", "").partition(" ")[2]
        return idempotent(owner_of(token), key, lambda: make_response(view(*args, **kwargs)), problem_refusal)

    return wrapper
