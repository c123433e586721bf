"""Pages that fail like pages: Dutch HTML error pages (with English) for staff and chat pages, JSON on the APIs,
Open311 and webhooks; numbers in staff URLs bounded (400/404, never a 500)."""

from __future__ import annotations

import pytest
from werkzeug.exceptions import TooManyRequests

from tests.factories import make_report

PASSWORD = "correct horse battery"
HUGE = "99999999999999999999"


def signed_in(app, make_staff, role, department=None):
    user, _ = make_staff(role, "GM0363", department)
    client = app.test_client()
    assert client.post("/staff/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return client


def is_dutch_page(response, code, title):
    text = response.get_data(as_text=True)
    return (response.status_code == code and response.mimetype == "text/html" and f"<h1>{title}</h1>" in text
            and 'lang="en"' in text and "{" not in text.split("<body")[1][:50])


def test_unknown_pages_other_roles_pages_and_wrong_methods_are_dutch_pages(app, make_staff):
    client = signed_in(app, make_staff, "head")
    assert is_dutch_page(client.get("/staff/bestaat-niet"), 404, "Pagina niet gevonden")
    assert is_dutch_page(client.get("/staff/reports/M-ZZZZZZ"), 404, "Pagina niet gevonden")
    assert is_dutch_page(client.get("/chat/bestaat-niet"), 404, "Pagina niet gevonden")
    assert is_dutch_page(client.get("/staff/admin"), 403, "Geen toegang")  # a head is no administrator
    report = make_report()
    response = client.get(f"/staff/reports/{report.reference}/status")
    assert is_dutch_page(response, 405, "Dit kan zo niet") and "POST" in response.headers["Allow"]


def test_backlog_numbers_out_of_bounds_are_a_400_page_saying_what_is_allowed(app, make_staff):
    client = signed_in(app, make_staff, "head")
    for query in (f"min_age={HUGE}", "min_age=-3", "min_age=drie", f"page={HUGE}", "page=0"):
        response = client.get(f"/staff/backlog?{query}")
        assert is_dutch_page(response, 400, "Dit klopt niet"), query
        assert "heel getal" in response.get_data(as_text=True)
    assert client.get("/staff/backlog?min_age=30&page=1").status_code == 200  # sensible numbers still work


def test_huge_ids_in_paths_and_forms_are_refused_not_overflowing_the_database(app, make_staff):
    head = signed_in(app, make_staff, "head")
    report = make_report()
    assert is_dutch_page(head.post(f"/staff/reports/{report.reference}/assign", data={"assignee": HUGE}), 400,
                         "Dit klopt niet")
    assert is_dutch_page(head.post(f"/staff/reports/{report.reference}/category", data={"category": HUGE}), 400,
                         "Dit klopt niet")
    admin = signed_in(app, make_staff, "admin")
    assert is_dutch_page(admin.post(f"/staff/inbox/{HUGE}/reply", data={"body": "x"}), 404, "Pagina niet gevonden")


def test_too_many_requests_and_a_crash_are_dutch_pages_on_staff_and_chat(app):
    def busy():
        raise TooManyRequests()

    def crash():
        raise RuntimeError("boom")

    app.add_url_rule("/staff/_test_busy", "test_busy", busy)
    app.add_url_rule("/chat/_test_crash", "test_crash", crash)
    app.add_url_rule("/api/v1/_test_crash", "test_api_crash", crash)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    assert is_dutch_page(client.get("/staff/_test_busy"), 429, "Even wachten")
    crashed = client.get("/chat/_test_crash")
    assert is_dutch_page(crashed, 500, "Er ging iets mis") and "boom" not in crashed.get_data(as_text=True)
    api = client.get("/api/v1/_test_crash")
    assert api.status_code == 500 and api.is_json and "boom" not in api.get_data(as_text=True)


def test_apis_open311_and_webhooks_keep_answering_json(app, make_staff):
    client = app.test_client()
    _user, token = make_staff("head")
    api = client.get("/api/v1/reports/M-ZZZZZZ", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 404 and api.is_json
    assert client.get("/api/v1/reports", headers={"Authorization": "Bearer wrong"}).is_json
    open311 = client.get("/open311/v2/requests/M-ZZZZZZ.json")
    assert open311.status_code == 404 and open311.is_json
    hook = client.get("/webhooks/telegram")
    assert hook.status_code == 405 and hook.is_json
    assert client.get("/chat/api/bestaat-niet").is_json
