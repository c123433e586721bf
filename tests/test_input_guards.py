"""Bad input is refused at the door with a reason, or cleaned there: each case the issue found, as a specification.

The bad-input corpus (test_bad_input_corpus.py) sweeps every route; these name the cases one by one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from fake_chat_platform import TG_SECRET, WA_PHONE_ID, WA_SECRET, install_send_routes, platform_config
from sqlalchemy import func, select

from meldingen.accounts.models import StaffUser
from meldingen.channels.models import InboundEvent
from meldingen.extensions import db
from meldingen.inputs.jsonbody import JSONRefused, parse_json
from meldingen.inputs.text import TextRefused, bounded_text, clean_text
from meldingen.reports.models import Report

HUGE = "9" * 20
DEEP = ("[" * 10_000 + "]" * 10_000).encode()


# --- the normalisation itself, without the web layer ----------------------------------------------------------

def test_clean_text_removes_nul_lone_surrogates_and_controls_but_keeps_line_breaks_and_emoji():
    assert clean_text("Kapotte\x00 lamp\ud800 bij\tde\r\nhoek 😀\x07") == "Kapotte lamp bij\tde\r\nhoek 😀"
    assert clean_text("gewoon") == "gewoon"


def test_bounded_text_cuts_what_residents_wrote_and_refuses_what_systems_sent():
    assert bounded_text("a" * 6000, "description", truncate=True) == "a" * 4999 + "…"
    with pytest.raises(TextRefused) as refused:
        bounded_text("x" * 300, "email")
    assert refused.value.field == "email" and "254" in refused.value.reason


def test_json_is_refused_when_nested_too_deep_or_holding_non_numbers_and_cleaned_otherwise():
    for body in (DEEP, b'{"a":' * 40 + b"1" + b"}" * 40, b'{"w": 1e400}', b"[NaN]", b"\xff"):
        with pytest.raises(JSONRefused):
            parse_json(body)
    assert parse_json(b'{"te\\u0000xt": ["a\\u0000b\\ud800", {"k": 1}], "z": 2}') == {"text": ["ab", {"k": 1}], "z": 2}
    assert list(parse_json(b'{"b": 1, "a": 2, "c": 3}')) == ["b", "a", "c"]


# --- paths and parameters -----------------------------------------------------------------------------------

def test_an_id_beyond_the_database_integer_is_not_found(client, make_staff, auth):
    _, token = make_staff("admin", "GM0363")
    assert client.get(f"/api/v1/routing-rules/{HUGE}", headers=auth(token)).status_code == 404
    assert client.get("/api/v1/routing-rules/2147483648", headers=auth(token)).status_code == 404


@pytest.mark.parametrize("query", [f"page={HUGE}", "created_after=0001-01-01T00:00:00%2B14:00",
                                   "created_before=9999-12-31T23:59:59-14:00", "page_size=501"])
def test_report_list_refuses_out_of_range_paging_and_dates_with_422(client, make_staff, auth, query):
    _, token = make_staff("head", "GM0363")
    response = client.get(f"/api/v1/reports?{query}", headers=auth(token))
    assert response.status_code == 422
    assert query.split("=")[0] in json.dumps(response.get_json())


def test_backlog_with_huge_age_and_page_shows_the_page(client, make_staff):
    user, _ = make_staff("head", "GM0363")
    client.post("/staff/login", data={"email": user.email, "password": "correct horse battery"})
    response = client.get(f"/staff/backlog?min_age=999999999999999&page={HUGE}")
    assert response.status_code == 400  # a page that says which filter is out of bounds, never a 500
    assert "text/html" in response.content_type and 'lang="nl"' in response.get_data(as_text=True)


def test_chat_replies_after_a_huge_id_are_read_from_the_start(app, client):
    from meldingen.channels import webchat

    token = webchat.issue_session_token(app.config["SECRET_KEY"], "guard-session-01")
    response = client.get(f"/chat/api/messages?after={HUGE}", headers={webchat.SESSION_HEADER: token})
    assert response.status_code == 200 and response.get_json() == {"messages": []}


@pytest.mark.parametrize("date", ["0001-01-01", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_open311_dates_outside_the_years_we_know_are_a_400_naming_the_parameter(client, date):
    response = client.get("/open311/v2/requests.json", query_string={"start_date": date})
    assert response.status_code == 400 and "start_date" in response.get_json()[0]["description"]


def test_nul_in_a_path_is_not_found_and_in_a_query_is_removed(client):
    assert client.get("/open311/v2/services/%00.json").status_code == 404
    assert client.get("/open311/v2/requests/M-%00.xml").status_code == 404
    assert client.get("/api/v1/geo/search?q=Wester%00doksdijk").status_code == 200


# --- bodies -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/api/v1/reports", "/api/v1/classify", "/api/v1/routing-rules"])
def test_json_nested_ten_thousand_deep_is_a_400_on_the_api(client, make_staff, auth, url):
    _, token = make_staff("admin", "GM0363")
    response = client.post(url, data=DEEP, headers={**auth(token), "Content-Type": "application/json"})
    assert response.status_code == 400
    assert "deeper" in json.dumps(response.get_json())


def test_json_nested_ten_thousand_deep_is_a_400_on_the_public_website_chat(app, client):
    from meldingen.channels import webchat

    token = webchat.issue_session_token(app.config["SECRET_KEY"], "guard-session-02")
    response = client.post("/chat/api/messages", data=DEEP,
                           headers={webchat.SESSION_HEADER: token, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(InboundEvent)) == 0


def test_nul_and_lone_surrogates_in_an_api_description_are_removed_before_storing(client, make_staff, auth):
    _, token = make_staff("agent", "GM0363")
    body = b'{"description": "Losse\\u0000 stoeptegel\\ud800", "location": {"lat": 52.3849, "lon": 4.8924}}'
    response = client.post("/api/v1/reports", data=body, headers={**auth(token), "Content-Type": "application/json"})
    assert response.status_code == 201
    assert response.get_json()["description"] == "Losse stoeptegel"


def test_an_account_with_an_overlong_email_is_refused_and_not_stored(runner):
    result = runner.invoke(args=["staff", "create", "a" * 100_000 + "@x.nl", "--role", "crew",
                                 "--organisation", "GM0363"])
    assert result.exit_code != 0 and "254" in result.output
    assert all(len(email) <= 254 for email in db.session.scalars(select(StaffUser.email)))


def test_login_with_nul_in_the_email_is_an_ordinary_wrong_login(client):
    response = client.post("/staff/login", data={"email": "jan\x00@gm0363.test", "password": "x" * 10})
    assert response.status_code == 401


# --- platforms ----------------------------------------------------------------------------------------------

@pytest.fixture
def app_config(fake):
    install_send_routes(fake)
    return platform_config(fake)


def whatsapp_body(sender: str, text: str, message_id: str) -> bytes:
    body = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "31970", "phone_number_id": WA_PHONE_ID},
        "contacts": [{"profile": {"name": "Jan"}, "wa_id": sender}],
        "messages": [{"from": sender, "id": message_id, "timestamp": str(int(time.time())), "type": "text",
                      "text": {"body": text}}]}}]}]}
    return json.dumps(body).encode()


def post_whatsapp(client, body: bytes):
    signature = "sha256=" + hmac.new(WA_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return client.post("/webhooks/whatsapp", data=body,
                       headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature})


def test_whatsapp_text_with_nul_and_lone_surrogate_is_acknowledged_and_processed(client):
    body = whatsapp_body("31612345678", "Lantaarnpaal\x00 kapot\ud800", "wamid.NUL1")
    assert b"\\u0000" in body and b"\\ud800" in body  # escaped in the JSON, as Meta would send them
    response = post_whatsapp(client, body)
    assert response.status_code == 200
    (event,) = db.session.scalars(select(InboundEvent)).all()
    assert event.state == "done"
    assert event.payload["message"]["text"] == "Lantaarnpaal kapot"


def test_whatsapp_sender_of_ten_thousand_characters_is_kept_as_unreadable_not_left_to_die(client):
    """The envelope is WhatsApp's and signed: 200, and the message that cannot be read is kept with its reason,
    never acknowledged as a pending event whose processing then dies (issue 12: a batch is as good as its
    valid messages)."""
    response = post_whatsapp(client, whatsapp_body("3" * 10_000, "Lantaarnpaal kapot", "wamid.LONG1"))
    assert response.status_code == 200
    (event,) = db.session.scalars(select(InboundEvent)).all()
    assert event.state == "unreadable" and "longer than" in event.error


@pytest.mark.parametrize("width", [[1], "1e400", None, -5])
def test_telegram_photo_with_a_malformed_width_is_still_taken(client, width):
    update = {"update_id": 777, "message": {
        "message_id": 7, "date": int(time.time()), "from": {"id": 4242, "is_bot": False, "first_name": "Els"},
        "chat": {"id": 4242, "type": "private"}, "caption": "Grofvuil",
        "photo": [{"file_id": "AgAC-a", "file_unique_id": "u1", "width": width, "height": 60},
                  {"file_id": "AgAC-b", "file_unique_id": "u2", "width": 1280, "height": 853}]}}
    response = client.post("/webhooks/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET})
    assert response.status_code == 200
    (event,) = db.session.scalars(select(InboundEvent)).all()
    assert event.payload["message"]["media"][0]["ref"] == "AgAC-b"


def test_telegram_number_beyond_float_range_is_a_400(client):
    body = b'{"update_id": 778, "message": {"message_id": 8, "date": 1, "chat": {"id": 1}, "photo": [{"width": 1e400}]}}'
    response = client.post("/webhooks/telegram", data=body, headers={
        "X-Telegram-Bot-Api-Secret-Token": TG_SECRET, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Report)) == 0


@pytest.mark.parametrize("position", [10**30, -(10**30), 2**31])
def test_a_routing_rule_position_beyond_the_column_is_a_422(client, make_staff, auth, position):
    _, token = make_staff("admin", "DSP")
    response = client.post("/api/v1/routing-rules", headers=auth(token),
                           json={"name": "ver weg", "position": position, "conditions": {}, "organisation_code": "GM0363"})
    assert response.status_code == 422 and "position" in response.get_json()["message"]
