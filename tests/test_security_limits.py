"""Abuse limits hit the abuser, not the office; bodies are measured before they are read; every page carries its
security headers; the Host header is never trusted.

Limits are small here so that a few requests reach them; each test's app has its own memory storage, so no
limit outlives its test (and RATELIMIT_ENABLED stays False everywhere else)."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.factories import AMSTERDAM
from tests.test_staff_access import PASSWORD

pytestmark = pytest.mark.rolled_back  # one shared database, rolled back after each test

LIMITED = {
    "RATELIMIT_ENABLED": True,
    "LIMIT_LOGIN_ACCOUNT": "3 per minute",
    "LIMIT_LOGIN_IP": "5 per minute",
    "LIMIT_CHAT_SESSION": "3 per minute",
    "LIMIT_CHAT_IP": "5 per minute",
    "LIMIT_CHAT_NEW_SESSION_IP": "4 per minute",
    "LIMIT_OPEN311_POST_KEY": "2 per minute",
    "LIMIT_OPEN311_POST_IP": "3 per minute",
    "LIMIT_WEBHOOK_UNVERIFIED_IP": "2 per minute",
    "LIMIT_WEBHOOK_CHANNEL": "1 per minute",
}
OFFICE = {"REMOTE_ADDR": "198.51.100.7"}
TELEGRAM_TEXT = json.loads((Path(__file__).parent / "payloads" / "telegram" / "text.json").read_text())


def _login(client, email, password="wrong password", environ=OFFICE, headers=None):
    return client.post("/staff/login", data={"email": email, "password": password}, environ_base=environ,
                       headers=headers or {})


# --- sign-in ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("app_config", [LIMITED])
def test_one_colleagues_typos_lock_out_only_that_account_not_the_office(client, make_staff):
    typist, _ = make_staff("head")
    colleague, _ = make_staff("head")
    assert [_login(client, typist.email).status_code for _ in range(4)] == [401, 401, 401, 429]
    assert "Te veel mislukte pogingen" in _login(client, typist.email, PASSWORD).get_data(as_text=True)
    assert _login(client, colleague.email, PASSWORD).status_code == 302  # same address, other account


@pytest.mark.parametrize("app_config", [LIMITED])
def test_one_address_trying_many_accounts_is_stopped(client):
    codes = [_login(client, f"guess{i}@example.org").status_code for i in range(6)]
    assert codes == [401] * 5 + [429]
    assert _login(client, "guess9@example.org", environ={"REMOTE_ADDR": "203.0.113.9"}).status_code == 401


@pytest.mark.parametrize("app_config", [{**LIMITED, "PROXY_FIX": 1}])
def test_behind_a_trusted_proxy_each_client_address_counts_apart(client):
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    first = [_login(client, f"a{i}@example.org", environ=proxy, headers={"X-Forwarded-For": "198.51.100.1"})
             .status_code for i in range(6)]
    assert first[-1] == 429
    other = _login(client, "b@example.org", environ=proxy, headers={"X-Forwarded-For": "198.51.100.2"})
    assert other.status_code == 401


@pytest.mark.parametrize("app_config", [LIMITED])
def test_without_proxy_fix_a_forged_forwarded_for_changes_nothing(client):
    codes = [_login(client, f"a{i}@example.org", headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code
             for i in range(6)]
    assert codes[-1] == 429


# --- website chat ---------------------------------------------------------------------------------------------

def _chat_session(client, environ=OFFICE):
    response = client.post("/chat/api/sessions", environ_base=environ)
    assert response.status_code == 201
    return {"X-Chat-Session": response.get_json()["session"]}


@pytest.mark.parametrize("app_config", [LIMITED])
def test_a_chat_session_that_floods_is_slowed_with_a_plain_dutch_answer_and_others_go_on(client):
    flooding = _chat_session(client)
    codes = [client.post("/chat/api/messages", json={"id": f"msg-flood-{i:04d}", "text": "spam"},
                         headers=flooding, environ_base=OFFICE).status_code for i in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = client.post("/chat/api/messages", json={"id": "msg-flood-9999", "text": "spam"}, headers=flooding,
                          environ_base=OFFICE)
    assert "Wacht een minuut" in refused.get_data(as_text=True)
    neighbour = _chat_session(client)
    assert client.post("/chat/api/messages", json={"id": "msg-neigh-0001", "text": "Kuil in de weg"},
                       headers=neighbour, environ_base=OFFICE).status_code == 200


@pytest.mark.parametrize("app_config", [LIMITED])
def test_one_address_cannot_open_endless_chat_sessions(client):
    codes = [client.post("/chat/api/sessions", environ_base=OFFICE).status_code for _ in range(5)]
    assert codes == [201] * 4 + [429]


# --- Open311 POST -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("app_config", [LIMITED])
def test_open311_posts_are_limited_per_key_in_open311_error_format(client, runner):
    key = runner.invoke(args=["open311", "key", "Buurt-app", "--organisation", "GM0363"]).output.strip()
    data = {"api_key": key, "service_code": "onderhoud-stoep-straat-en-fietspad", "lat": AMSTERDAM[0],
            "long": AMSTERDAM[1], "description": "Losse tegel"}
    codes = [client.post("/open311/v2/requests.json", data=data).status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    body = client.post("/open311/v2/requests.json", data=data).get_json()
    assert body[0]["code"] == 429 and body[0]["description"]


# --- webhooks: verified deliveries are never refused ------------------------------------------------------------

def _telegram(client, update_id: int, secret="tg_secret-1"):
    update = copy.deepcopy(TELEGRAM_TEXT)
    update["update_id"] = update_id
    update["message"]["message_id"] = update_id
    return client.post("/webhooks/telegram", data=json.dumps(update), content_type="application/json",
                       headers={"X-Telegram-Bot-Api-Secret-Token": secret}, environ_base=OFFICE)


@pytest.fixture
def telegram_limited(fake):
    return {**LIMITED, "TELEGRAM_BOT_TOKEN": "123456:ABC-def", "TELEGRAM_SECRET_TOKEN": "tg_secret-1",
            "TELEGRAM_API_URL": fake.url}


@pytest.fixture
def app_config(request):
    return request.getfixturevalue("telegram_limited") if "telegram" in request.node.name else {}


def test_telegram_unverified_traffic_gets_429_but_the_platforms_deliveries_are_all_stored(app, client):
    from meldingen.channels.models import InboundEvent
    from meldingen.extensions import db

    assert [_telegram(client, 1000 + i, secret="guessed").status_code for i in range(3)] == [403, 403, 429]
    assert [_telegram(client, 2000 + i).status_code for i in range(3)] == [200, 200, 200]  # same address
    stored = db.session.scalars(select(InboundEvent.external_key)).all()
    assert sorted(stored) == ["123456:2000", "123456:2001", "123456:2002"]
    # above the channel's limit the work waits instead of being refused
    delayed = app.extensions["meldingen_jobs_delayed"]
    assert [name for _, name, _ in delayed] == ["channels.process_event", "channels.process_event"]


# --- body sizes -------------------------------------------------------------------------------------------------

class UnreadableBody(io.RawIOBase):
    """A body that must never be read: reading it fails the test."""

    def readable(self):
        return True

    def seekable(self):
        return True

    def seek(self, offset, whence=0):
        return 0

    def tell(self):
        return 0

    def readinto(self, buffer):
        raise AssertionError("the body was read")


def test_each_route_has_its_own_body_limit_checked_before_the_body_is_read(client, make_staff):
    huge = client.post("/webhooks/whatsapp", input_stream=UnreadableBody(), content_type="application/json",
                       environ_overrides={"CONTENT_LENGTH": str(200 * 1024 * 1024)})
    assert huge.status_code == 413
    assert "larger than" in huge.get_data(as_text=True)
    _, token = make_staff("head")
    big_json = {"description": "x" * 300_000, "location": {"lat": AMSTERDAM[0], "lon": AMSTERDAM[1]}}
    response = client.post("/api/v1/reports", json=big_json, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 413 and "larger than" in response.get_json()["message"]
    photo_sized = client.post("/chat/api/messages", data=b"x" * 300_000, content_type="multipart/form-data; b=x")
    assert photo_sized.status_code == 403  # photos may be this large: refused for the missing chat session


def test_a_telegram_body_without_length_is_cut_off_at_the_limit_while_reading(client):
    from meldingen.channels.models import InboundEvent
    from meldingen.extensions import db

    response = client.post("/webhooks/telegram", input_stream=io.BytesIO(b"[" + b" " * 4_000_000 + b"]"),
                           headers={"Transfer-Encoding": "chunked", "X-Telegram-Bot-Api-Secret-Token": "tg_secret-1"},
                           content_type="application/json",
                           environ_overrides={"wsgi.input_terminated": True})  # as a server passes a chunked body
    assert response.status_code == 413
    assert db.session.scalars(select(InboundEvent)).all() == []


# --- headers and hosts ------------------------------------------------------------------------------------------

def test_every_html_page_carries_the_security_headers_and_json_is_not_sniffed(client):
    for path in ("/chat", "/staff/login"):
        response = client.get(path)
        assert response.status_code == 200
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert "img-src 'self'" in csp  # the tile host is added where a base map is set (test_staff_maps)
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in response.headers  # not without an https public URL
    assert client.get("/healthz").headers["X-Content-Type-Options"] == "nosniff"


@pytest.fixture
def public_app(database_url, tmp_path):
    from tests.conftest import make_app

    application = make_app(tmp_path, database_url, PUBLIC_URL="https://meldingen.example.nl",
                           TILE_URL="https://tiles.example.org/{z}/{x}/{y}.png")
    with application.app_context():
        yield application


def test_behind_https_the_public_url_decides_hosts_links_and_hsts(public_app):
    client = public_app.test_client()
    response = client.get("/chat", headers={"Host": "meldingen.example.nl"})
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "https://tiles.example.org" in response.headers["Content-Security-Policy"]
    # the Open311 discovery names the public URL, never the Host header
    assert client.get("/open311/v2/discovery.json", headers={"Host": "evil.example"}).status_code == 400
    body = client.get("/open311/v2/discovery.json", headers={"Host": "meldingen.example.nl"}).get_json()
    assert all("evil" not in endpoint["url"] for endpoint in body["endpoints"])
    assert body["endpoints"][0]["url"].startswith("https://meldingen.example.nl/open311/v2")
    assert client.get("/healthz", headers={"Host": "localhost"}).status_code == 200  # the machine itself


def test_with_a_broker_every_web_process_counts_in_redis(database_url, tmp_path):
    from tests.conftest import BROKER_URL, make_app

    if not BROKER_URL:
        pytest.skip("MELDINGEN_TEST_BROKER_URL is not set")
    application = make_app(tmp_path, database_url, BROKER_URL=BROKER_URL, **LIMITED)
    assert application.config["RATELIMIT_STORAGE_URI"] == BROKER_URL
    from meldingen.extensions import limiter

    assert type(limiter.storage).__name__ == "RedisStorage"
    client = application.test_client()
    import uuid

    run = uuid.uuid4()  # a fresh account and address per run: Redis outlives the test
    email, address = f"redis-{run.hex[:12]}@example.org", f"10.{run.bytes[0]}.{run.bytes[1]}.{run.bytes[2]}"
    with application.app_context():
        codes = [_login(client, email, environ={"REMOTE_ADDR": address}).status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
