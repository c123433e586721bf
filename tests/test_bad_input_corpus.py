"""Bad input to every route gets a 4xx (or a harmless 2xx/3xx), never a 5xx, and stores nothing it should not.

The cases are generated from `app.url_map`, from the OpenAPI document's request bodies and from the parameter
names the code reads, so a new route or field is covered without editing this file: odd path segments (huge
integers, NUL, lone surrogates, 300 characters), odd query parameters (pages and ids of 20 digits, dates in
year 1 and 9999, NUL, infinities), odd bodies (JSON nested 10,000 deep, wrong types, missing fields, NUL or
100,005 characters on every text field), wrong methods, and each platform's own webhook payload with every leaf
made NUL, a lone surrogate, 10,000 characters or the wrong type.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import time
from pathlib import Path
from urllib.parse import parse_qsl, quote

import pytest
from fake_chat_platform import (
    PUBLIC,
    TG_SECRET,
    TW_SID,
    TW_TOKEN,
    WA_PHONE_ID,
    WA_SECRET,
    install_send_routes,
    platform_config,
)
from sqlalchemy import String, Text, select

from meldingen.channels import twilio

SOURCE = Path(__file__).resolve().parent.parent / "meldingen"
HUGE = "9" * 20
DEEP_JSON = "[" * 10_000 + "]" * 10_000
DEEP_OBJECT = '{"a":' * 10_000 + "1" + "}" * 10_000

SURROGATE = "%ED%A0%80"  # a lone surrogate as a client sends it in a URL or form: its UTF-8-style bytes
ODD_SEGMENTS = [HUGE, "-1", "x%00y", SURROGATE, "x" * 300, "..%2F..%2Fetc", "M-%FF%FEabc%C3%28"]
# Already URL-encoded, so that NUL and the surrogate's bytes go out as a client would send them.
ODD_QUERY_VALUES = [HUGE, "-" + HUGE, "0001-01-01T00:00:00%2B14:00", "9999-12-31T23:59:59-14:00", "0001-01-01",
                    "1e400", "a%00b", SURROGATE, "x" * 5000, ""]
# Parameters the code reads anywhere (found in the source) and those every list endpoint has.
COMMON_QUERY = ["page", "page_size", "after", "min_age", "created_after", "created_before", "start_date",
                "end_date", "lat", "lon", "long", "radius", "bbox", "q", "limit", "status", "since",
                "service_request_id", "service_code", "updated_after", "updated_before"]
READS_PARAMETERS = ("/api/", "/open311/", "/chat/api/", "/staff/backlog", "/staff/map", "/staff/inbox")
WRONG_TYPES = [b"[]", b'"text"', b"null", b"{}", b'{"a": NaN, "b": 1e400}']


def names_read_by_the_code() -> list[str]:
    """Every form/query/JSON field name the code reads: `form.get("x")`, `args.get("x")`, `_arg(values, "x")`."""
    pattern = re.compile(r"""(?:form|args|values|files|payload|data|json)\.get(?:list)?\(\s*["']([A-Za-z_]+)["']"""
                         r"""|_arg\(\s*values,\s*["']([A-Za-z_]+)["']""")
    found: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        for match in pattern.finditer(path.read_text(encoding="utf-8")):
            found.add(match.group(1) or match.group(2))
    return sorted(found)


def request_body_fields(spec: dict) -> dict[tuple[str, str], dict]:
    """(path template, METHOD) → the JSON request body's properties, from the OpenAPI document."""
    schemas = spec.get("components", {}).get("schemas", {})

    def resolve(schema):
        while isinstance(schema, dict) and "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
        return schema or {}

    out = {}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            content = operation.get("requestBody", {}).get("content", {})
            schema = resolve(content.get("application/json", {}).get("schema"))
            if schema.get("properties"):
                flask_path = re.sub(r"\{(\w+)\}", r"<\1>", "/api/v1" + path if not path.startswith("/api") else path)
                out[(flask_path, method.upper())] = {k: resolve(v) for k, v in schema["properties"].items()}
    return out


# --- the platforms' own payloads, each leaf spoiled in turn ---------------------------------------------------

def whatsapp_text(now: int) -> dict:
    return {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "31970102512", "phone_number_id": WA_PHONE_ID},
            "contacts": [{"profile": {"name": "Jan"}, "wa_id": "31612345678"}],
            "messages": [{"from": "31612345678", "id": "wamid.CORPUS", "timestamp": str(now), "type": "text",
                          "text": {"body": "Lantaarnpaal kapot Westerdoksdijk 40"}}]}}]}]}


def telegram_photo(now: int) -> dict:
    return {"update_id": 1, "message": {
        "message_id": 7, "date": now, "from": {"id": 4242, "is_bot": False, "first_name": "Els"},
        "chat": {"id": 4242, "type": "private", "first_name": "Els"}, "caption": "Grofvuil op de stoep",
        "photo": [{"file_id": "AgAC-small", "file_unique_id": "u1", "width": 90, "height": 60, "file_size": 1200},
                  {"file_id": "AgAC-large", "file_unique_id": "u2", "width": 1280, "height": 853,
                   "file_size": 80000}]}}


def twilio_form() -> dict:
    return {"MessageSid": "SM" + "c" * 32, "AccountSid": TW_SID, "From": "whatsapp:+31612345678",
            "To": "whatsapp:+3197010251234", "Body": "Afval naast de container", "NumMedia": "0",
            "ProfileName": "Piet"}


def leaves(value, path=()):
    if isinstance(value, dict):
        for key, child in value.items():
            yield from leaves(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from leaves(child, (*path, index))
    else:
        yield path, value


def spoiled(base, path, replacement):
    body = copy.deepcopy(base)
    target = body
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = replacement
    return body


def leaf_spoilers(value) -> list:
    """Text leaves get NUL with a lone surrogate, and 10,000 characters; other leaves the wrong type."""
    if isinstance(value, str):
        return [f"{value}\x00\ud800", "7" * 10_000]
    return [[value]]


# --- the corpus -------------------------------------------------------------------------------------------------

@pytest.fixture
def app_config(fake):
    install_send_routes(fake)
    return {**platform_config(fake), "INTAKE_QUIET_SECONDS": 0}


@pytest.fixture
def world(app, client, make_staff):
    """An admin signed in (session) with a token, a report, and the ids every path argument can take."""
    from meldingen.categories.models import Category
    from meldingen.channels import webchat
    from meldingen.extensions import db
    from meldingen.routing.models import RoutingRule

    admin, token = make_staff("admin", "GM0363")
    colleague, _ = make_staff("agent", "GM0363")
    response = client.post("/staff/login", data={"email": admin.email, "password": "correct horse battery"})
    assert response.status_code == 302
    created = client.post("/api/v1/reports", json={"description": "Lantaarnpaal kapot",
                                                   "location": {"lat": 52.3849, "lon": 4.8924}},
                          headers={"Authorization": f"Bearer {token}"})
    assert created.status_code == 201, created.get_json()
    reference = created.get_json()["reference"]
    rule_id = db.session.scalar(select(RoutingRule.id).limit(1)) or 1
    category = db.session.scalar(select(Category).where(Category.parent_id.is_not(None)).limit(1))
    session_token = webchat.issue_session_token(app.config["SECRET_KEY"], "corpus-session-0001")
    headers = {"Authorization": f"Bearer {token}", "X-Chat-Session": session_token,
               "X-Telegram-Bot-Api-Secret-Token": TG_SECRET}
    valid = {"reference": reference, "service_request_id": reference, "token": reference, "rule_id": rule_id,
             "user_id": colleague.id, "category_id": category.id, "code": category.slug, "fmt": "json",
             "conversation_id": 1, "channel_id": 1, "filename": "nothing.css", "rest": "x"}
    return {"headers": headers, "valid": valid}


def path_for(rule, values: dict) -> str:
    path = rule.rule
    for name in rule.arguments:
        path = re.sub(rf"<(?:[^:<>]+:)?{name}>", str(values.get(name, "x")), path)
    return path


def build_cases(app, world, spec) -> list[tuple[str, str, dict]]:
    """(method, url, request keyword arguments) for every bad input we can think of, per route."""
    cases: list[tuple[str, str, dict]] = []
    field_names = names_read_by_the_code()
    query_names = sorted(set(COMMON_QUERY) | set(field_names))
    bodies = request_body_fields(spec)
    for rule in app.url_map.iter_rules():
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        valid_path = path_for(rule, world["valid"])
        for name in rule.arguments:
            for segment in ODD_SEGMENTS:
                url = path_for(rule, {**world["valid"], name: segment})
                cases.extend((method, url, {}) for method in methods)
        for wrong in ("PUT", "DELETE", "PATCH"):
            if wrong not in rule.methods:
                cases.append((wrong, valid_path, {}))
                break
        if "GET" in methods and not rule.rule.startswith("/static"):
            # One at a time where parameters are read: a first refusal must not hide a second parameter's 500.
            for name in (COMMON_QUERY if rule.rule.startswith(READS_PARAMETERS) else ()):
                value = "0001-01-01T00:00:00%2B14:00" if "date" in name or "_after" in name or "_before" in name \
                    else HUGE
                cases.append(("GET", valid_path, {"query_string": f"{name}={value}"}))
            for value in ODD_QUERY_VALUES:
                query = "&".join(f"{name}={value}" for name in query_names)
                cases.append(("GET", valid_path, {"query_string": query}))
        if "GET" in methods:
            # An attacker's Host (PUBLIC_URL is set: only its host is served) and a header split in a redirect.
            cases.append(("GET", valid_path, {"headers": {"Host": "evil.example"}}))
            cases.append(("GET", valid_path, {"query_string": "next=/staff/%0d%0aX:1"}))
        for method in set(methods) & {"POST", "PUT", "PATCH"}:
            # Thousands of multipart parts; a body one byte past the most this route accepts; next= split.
            parts = "".join(f'--b\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\nx\r\n' for i in range(3000))
            cases.append((method, valid_path, {"data": (parts + "--b--\r\n").encode(),
                                               "content_type": "multipart/form-data; boundary=b"}))
            cases.append((method, valid_path, {"data": b"x" * (over_limit(app, rule.endpoint)),
                                               "content_type": "application/x-www-form-urlencoded"}))
            cases.append((method, valid_path, {"query_string": "next=/staff/%0d%0aX:1", "data": b"a=b",
                                               "content_type": "application/x-www-form-urlencoded"}))
            cases.append((method, valid_path, {"data": DEEP_JSON, "content_type": "application/json"}))
            cases.append((method, valid_path, {"data": DEEP_OBJECT, "content_type": "application/json"}))
            for body in WRONG_TYPES:
                cases.append((method, valid_path, {"data": body, "content_type": "application/json"}))
            properties = bodies.get((rule.rule, method), {})
            json_fields = list(properties) or field_names
            for spoil in ("Kapotte\x00 lamp \ud800", "x" * 100_005, 10**30):
                cases.append((method, valid_path, {"json": dict.fromkeys(json_fields, spoil)}))
            for name in properties:
                cases.append((method, valid_path, {"json": {name: "\x00"}}))
            for spoil in ("jan%00@gm0363.test", "a" * 100_005 + "@x.nl", HUGE, SURROGATE):
                form = "&".join(f"{name}={spoil}" for name in field_names)
                cases.append((method, valid_path, {"data": form.encode(),
                                                   "content_type": "application/x-www-form-urlencoded"}))
    # Signing out and switching accounts off go last: the cases before them run signed in.
    return sorted(cases, key=lambda case: "/logout" in case[1] or "/active" in case[1])


def over_limit(app, endpoint: str) -> int:
    """One byte more than the route accepts (photo and import routes: the small default instead, which their
    form parts still must survive, so that a case costs megabytes, not hundreds)."""
    from meldingen.web.security import DEFAULT_BODY_LIMIT, body_limit

    with app.test_request_context():
        limit = body_limit(endpoint)
    return (limit if limit <= 4 * 1024 * 1024 else DEFAULT_BODY_LIMIT) + 1


def platform_cases() -> list[tuple[str, str, dict]]:
    now = int(time.time())
    cases = []
    for base, url in ((whatsapp_text(now), "/webhooks/whatsapp"), (telegram_photo(now), "/webhooks/telegram")):
        for number, (path, value) in enumerate(leaves(base)):
            for spoil_index, spoil in enumerate(leaf_spoilers(value)):
                body = spoiled(base, path, spoil)
                if url.endswith("whatsapp"):  # a new message id per case: each must be stored and handled
                    body["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = f"wamid.C{number}-{spoil_index}"
                else:
                    body["update_id"] = 1000 + number * 10 + spoil_index
                cases.append(("POST", url, {"data": json.dumps(body), "content_type": "application/json"}))
    telegram = telegram_photo(now)
    for width in ([1], 1e308, "1e400", -1, None, {"w": 1}):
        body = copy.deepcopy(telegram)
        body["update_id"] = hash(repr(width)) % 10**6
        body["message"]["photo"][1]["width"] = width
        cases.append(("POST", "/webhooks/telegram", {"data": json.dumps(body), "content_type": "application/json"}))
    cases.append(("POST", "/webhooks/telegram", {"data": json.dumps(telegram)[:-1] + ', "w": 1e400}',
                                                 "content_type": "application/json"}))
    form = twilio_form()
    for number, name in enumerate(form):
        for spoil_index, spoil in enumerate(("%00" + SURROGATE, "7" * 10_000)):
            body = {**form, "MessageSid": f"SM{number:02d}{spoil_index:02d}" + "d" * 28}
            body[name] = quote(body[name]) + spoil if spoil_index == 0 else spoil
            raw = "&".join(f"{key}={value}" for key, value in body.items())
            cases.append(("POST", "/webhooks/twilio", {"data": raw.encode(),
                                                       "content_type": "application/x-www-form-urlencoded"}))
    return cases


def sign(method: str, url: str, kwargs: dict, client) -> dict:
    """The platform's signature where the route checks one, so bad content reaches the parser."""
    headers = {}
    if url == "/webhooks/whatsapp" and method == "POST":
        body = kwargs.get("data", b"")
        body = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
        if isinstance(body, bytes):
            kwargs["data"] = body
            digest = hmac.new(WA_SECRET.encode(), body, hashlib.sha256).hexdigest()
            headers["X-Hub-Signature-256"] = f"sha256={digest}"
    if url == "/webhooks/twilio" and method == "POST" and isinstance(kwargs.get("data"), bytes):
        from meldingen.inputs.text import clean_text

        params = [(k, clean_text(v)) for k, v in parse_qsl(kwargs["data"].decode(), errors="replace")]
        headers[twilio.SIGNATURE_HEADER] = twilio.compute_signature(TW_TOKEN, PUBLIC + url, params)
    return headers


def run_case(client, headers, method, url, kwargs) -> tuple[int, str]:
    kwargs = dict(kwargs)
    extra = sign(method, url, kwargs, client)
    if isinstance(kwargs.get("data"), str):
        kwargs["data"] = kwargs["data"].encode("utf-8", "surrogatepass")
    if "json" in kwargs:
        kwargs["data"] = json.dumps(kwargs.pop("json")).encode()
        kwargs["content_type"] = "application/json"
    headers = {**headers, **extra, **kwargs.pop("headers", {})}
    try:
        response = client.open(url, method=method, headers=headers, **kwargs)
    except Exception as exc:
        return 500, f"{type(exc).__name__}: {str(exc)[:200]}"
    return response.status_code, response.get_data(as_text=True)[:200]


def stored_strings_that_should_not_be(db) -> list[str]:
    """Text columns holding NUL, lone surrogates or more than 20,000 characters, in any table."""
    problems = []
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, (String, Text))]
        if not columns:
            continue
        for row in db.session.execute(select(*columns)):
            for column, value in zip(columns, row):
                if isinstance(value, str) and (len(value) > 20_000 or re.search("[\x00\ud800-\udfff]", value)
                                               or (column.name.endswith("_id") and "\ufffd" in value)):
                    problems.append(f"{table.name}.{column.name}: {value[:40]!r}… ({len(value)} chars)")
    return problems


def test_no_bad_input_to_any_route_gets_a_5xx_or_stores_what_it_should_not(app, client, world):
    from meldingen.accounts.models import StaffUser
    from meldingen.channels.models import InboundEvent
    from meldingen.extensions import db

    spec = client.get("/api/v1/openapi.json").get_json()
    cases = platform_cases() + build_cases(app, world, spec)
    assert len(cases) >= 500
    failures = []
    for method, url, kwargs in cases:
        status, body = run_case(client, world["headers"], method, url, kwargs)
        if status >= 500:
            failures.append(f"{method} {url[:80]} {str(kwargs)[:120]} -> {status} {body}")
        db.session.rollback()
    assert not failures, f"{len(failures)} of {len(cases)} cases answered 5xx:\n" + "\n".join(failures[:40])

    db.session.rollback()
    assert stored_strings_that_should_not_be(db) == []
    assert all(len(email) <= 254 for email in db.session.scalars(select(StaffUser.email)))
    # "unreadable": an item of a valid delivery that could not be read, kept raw with its reason (issue 12).
    stuck = db.session.scalars(select(InboundEvent.external_key)
                               .where(InboundEvent.state.not_in(("done", "unreadable")))).all()
    assert stuck == [], "acknowledged messages whose processing died"
    assert client.get("/healthz").status_code == 200
