"""Staff web sign-in and who may see and do what: four roles, two municipalities and the shared service point."""

from __future__ import annotations

import re

import pytest

from tests.factories import EMMEN, make_report

pytestmark = pytest.mark.rolled_back  # one shared database, rolled back after each test

PASSWORD = "correct horse battery"


def sign_in(client, user, password=PASSWORD):
    return client.post("/staff/login", data={"email": user.email, "password": password})


@pytest.fixture
def reports(app):
    """A report in Amsterdam routed to Stadswerken-like work, one in Emmen."""
    amsterdam = make_report("Losse stoeptegel op de stoep")
    emmen = make_report("Lantaarnpaal kapot", point=EMMEN, category="straatverlichting-openbare-klok")
    return amsterdam, emmen


def test_sign_in_lands_each_role_on_its_own_page(app, make_staff):
    expected = {"crew": "/staff/map", "head": "/staff/backlog", "agent": "/staff/inbox", "admin": "/staff/admin"}
    for role, path in expected.items():
        client = app.test_client()
        user, _ = make_staff(role)
        response = sign_in(client, user)
        assert response.status_code == 302
        assert response.headers["Location"].endswith(path)
        assert client.get(path).status_code == 200


def test_wrong_password_or_unknown_email_is_refused_with_the_same_message(client, make_staff):
    user, _ = make_staff("head")
    wrong = sign_in(client, user, "not the password")
    unknown = client.post("/staff/login", data={"email": "nobody@example.org", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert "E-mailadres of wachtwoord klopt niet." in wrong.get_data(as_text=True)
    assert "E-mailadres of wachtwoord klopt niet." in unknown.get_data(as_text=True)
    assert client.get("/staff/backlog").status_code == 302  # still signed out


def test_inactive_account_cannot_sign_in(client, make_staff):
    from meldingen.extensions import db

    user, _ = make_staff("crew")
    user.active = False
    db.session.commit()
    assert sign_in(client, user).status_code == 401


def test_pages_send_signed_out_visitors_to_sign_in_with_a_safe_next(client):
    response = client.get("/staff/backlog")
    assert response.status_code == 302
    assert "/staff/login?next=%2Fstaff%2Fbacklog" in response.headers["Location"]


def test_next_parameter_never_leaves_the_staff_pages(client, make_staff):
    user, _ = make_staff("head")
    response = client.post("/staff/login?next=//evil.example/x",
                           data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"].endswith("/staff/backlog")
    client.post("/staff/logout")
    response = client.post("/staff/login?next=/staff/map", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"].endswith("/staff/map")


def test_logout_ends_the_session(client, make_staff):
    user, _ = make_staff("agent", "DSP")
    sign_in(client, user)
    assert client.get("/staff/inbox").status_code == 200
    assert client.post("/staff/logout").status_code == 302
    assert client.get("/staff/inbox").status_code == 302


def test_session_cookie_is_http_only_and_same_site(client, make_staff):
    user, _ = make_staff("head")
    response = sign_in(client, user)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("app_config", [{"PUBLIC_URL": "https://meldingen.example.nl"}])
def test_session_cookie_is_secure_behind_https(client, make_staff):
    user, _ = make_staff("head")
    response = sign_in(client, user)
    assert "Secure" in response.headers["Set-Cookie"]


def test_staff_pages_send_a_strict_content_security_policy(client):
    response = client.get("/staff/login")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_post_without_csrf_token_is_refused(app, client, make_staff, reports):
    user, _ = make_staff("crew", "GM0363", "STW")
    assert client.post("/staff/login", data={"email": user.email, "password": PASSWORD}).status_code == 400
    page = client.get("/staff/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/staff/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    amsterdam, _ = reports
    refused = client.post(f"/staff/reports/{amsterdam.reference}/status", data={"status": "in_progress"})
    assert refused.status_code == 400
    from meldingen.extensions import db

    db.session.refresh(amsterdam)
    assert amsterdam.status == "new"
    assert client.post("/staff/logout").status_code == 400


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True}])
def test_sign_in_attempts_are_rate_limited(client, make_staff):
    user, _ = make_staff("head")
    codes = [sign_in(client, user, "wrong password").status_code for _ in range(11)]
    assert codes[:10] == [401] * 10
    assert codes[10] == 429
    assert client.get("/staff/login").status_code == 200  # only attempts are limited, not the form


# --- the authorisation matrix --------------------------------------------------------------------------------

PAGES = {
    "/staff/map": {"crew", "head", "admin"},
    "/staff/map/reports.geojson": {"crew", "head", "admin"},
    "/staff/map/areas.geojson": {"crew", "head", "admin"},
    "/staff/backlog": {"head", "admin"},
    "/staff/backlog.csv": {"head", "admin"},
    "/staff/inbox": {"agent", "admin"},
    "/staff/search": {"crew", "head", "agent", "admin"},
    "/staff/werk": {"crew", "head", "admin"},
    "/staff/admin": {"admin"},
    "/staff/admin/categories": {"admin"},
    "/staff/admin/departments": {"admin"},
    "/staff/admin/rules": {"head", "admin"},  # heads read the rules that concern them (as over the API)
    "/staff/admin/templates": {"admin"},
    "/staff/admin/imports": {"admin"},
    "/staff/admin/channels": {"admin"},
    "/staff/admin/accounts": {"admin"},
}


@pytest.mark.parametrize("role", ["crew", "head", "agent", "admin"])
def test_each_role_reaches_exactly_its_own_pages(app, make_staff, role, reports):
    amsterdam, _ = reports
    client = app.test_client()
    user, _ = make_staff(role, "GM0363", amsterdam.department.code if role == "crew" else None)
    sign_in(client, user)
    for path, allowed in PAGES.items():
        expected = 200 if role in allowed else 403
        # A head's search leads to the heads' one list (the backlog): followed, it is a page they reach.
        assert client.get(path, follow_redirects=True).status_code == expected, (role, path)
    assert client.get(f"/staff/reports/{amsterdam.reference}").status_code == 200


def _report_matrix(app, make_staff, reports):
    amsterdam, emmen = reports
    cases = [
        # (role, organisation, department) -> sees Amsterdam's report?, sees Emmen's?
        (("head", "GM0363", None), True, False),
        (("admin", "GM0363", None), True, False),
        (("agent", "GM0363", None), True, False),
        (("head", "GM0114", None), False, True),
        (("crew", "GM0114", None), False, True),
        (("head", "DSP", None), True, True),
        (("agent", "DSP", None), True, True),
        (("admin", "DSP", None), True, True),
    ]
    for (role, org, dept), sees_amsterdam, sees_emmen in cases:
        client = app.test_client()
        user, _ = make_staff(role, org, dept)
        sign_in(client, user)
        yield client, user, (amsterdam, sees_amsterdam), (emmen, sees_emmen)


def test_staff_see_only_their_organisations_reports(app, make_staff, reports):
    for client, user, *pairs in _report_matrix(app, make_staff, reports):
        for report, sees in pairs:
            status = client.get(f"/staff/reports/{report.reference}").status_code
            assert status == (200 if sees else 404), (user.role, user.organisation.code, report.reference)


def test_other_organisations_reports_cannot_be_changed(app, make_staff, reports):
    _, emmen = reports
    client = app.test_client()
    user, _ = make_staff("head", "GM0363")
    sign_in(client, user)
    assert client.post(f"/staff/reports/{emmen.reference}/status", data={"status": "in_progress"}).status_code == 404
    assert client.post(f"/staff/reports/{emmen.reference}/assign", data={"department": "STW"}).status_code == 404
    from meldingen.extensions import db

    db.session.refresh(emmen)
    assert emmen.status == "new"


def test_field_crew_sees_only_their_departments_reports(app, make_staff, reports):
    from meldingen.extensions import db

    amsterdam, _ = reports
    dept = amsterdam.department.code
    other = next(d.code for d in amsterdam.organisation.departments if d.code != dept)
    mine, theirs = app.test_client(), app.test_client()
    sign_in(mine, make_staff("crew", "GM0363", dept)[0])
    sign_in(theirs, make_staff("crew", "GM0363", other)[0])
    assert mine.get(f"/staff/reports/{amsterdam.reference}").status_code == 200
    assert theirs.get(f"/staff/reports/{amsterdam.reference}").status_code == 404
    assert amsterdam.reference in mine.get("/staff/map/reports.geojson").get_data(as_text=True)
    assert amsterdam.reference not in theirs.get("/staff/map/reports.geojson").get_data(as_text=True)
    db.session.rollback()


@pytest.mark.parametrize("role,may", [("crew", True), ("head", True), ("admin", True), ("agent", False)])
def test_who_may_change_a_status(app, make_staff, reports, role, may):
    amsterdam, _ = reports
    client = app.test_client()
    sign_in(client, make_staff(role, "GM0363", amsterdam.department.code if role == "crew" else None)[0])
    response = client.post(f"/staff/reports/{amsterdam.reference}/status", data={"status": "in_progress"})
    assert response.status_code == (303 if may else 403)


@pytest.mark.parametrize("role,may", [("crew", False), ("head", True), ("admin", True), ("agent", False)])
def test_who_may_reassign(app, make_staff, reports, role, may):
    amsterdam, _ = reports
    client = app.test_client()
    sign_in(client, make_staff(role, "GM0363", amsterdam.department.code if role == "crew" else None)[0])
    response = client.post(f"/staff/reports/{amsterdam.reference}/assign", data={"department": "ASC"})
    assert response.status_code == (303 if may else 403)


def test_field_crew_cannot_cancel_a_report(app, make_staff, reports):
    amsterdam, _ = reports
    client = app.test_client()
    sign_in(client, make_staff("crew", "GM0363", amsterdam.department.code)[0])
    response = client.post(f"/staff/reports/{amsterdam.reference}/status", data={"status": "cancelled",
                                                                                   "note": "weg"})
    assert response.status_code == 403


def test_residents_html_is_shown_as_text(app, make_staff):
    report = make_report('<script>alert("x")</script><img src=x onerror=alert(1)> tegel')
    client = app.test_client()
    sign_in(client, make_staff("head", "GM0363")[0])
    page = client.get(f"/staff/reports/{report.reference}").get_data(as_text=True)
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    backlog = client.get("/staff/backlog").get_data(as_text=True)
    assert "<img src=x" not in backlog
