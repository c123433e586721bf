"""Who may do what, and for how long: the API follows the same table as the pages, rules stay within the
organisations their author acts for, sessions end server-side, API tokens expire and are revoked, Open311 keys
belong to one application and organisation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import bearer
from tests.factories import EMMEN, make_report
from tests.test_staff_access import PASSWORD, sign_in

pytestmark = pytest.mark.rolled_back  # one shared database, rolled back after each test


# --- the API and the pages agree -------------------------------------------------------------------------------

def test_over_the_api_a_crew_cannot_change_a_category_nor_an_agent_a_status(client, make_staff):
    report = make_report()
    _, crew = make_staff("crew", "GM0363", report.department.code)
    _, agent = make_staff("agent", "GM0363")
    url = f"/api/v1/reports/{report.reference}"
    assert client.post(f"{url}/category", json={"category": "straatverlichting-openbare-klok"},
                       headers=bearer(crew)).status_code == 403
    assert client.post(f"{url}/status", json={"status": "in_progress"}, headers=bearer(agent)).status_code == 403
    # …as on the pages, the crew sets the status and the agent the category
    assert client.post(f"{url}/status", json={"status": "in_progress"}, headers=bearer(crew)).status_code == 200
    assert client.post(f"{url}/category", json={"category": "straatverlichting-openbare-klok"},
                       headers=bearer(agent)).status_code == 200


def test_a_crew_sets_over_the_api_only_the_statuses_of_its_own_buttons(client, make_staff):
    report = make_report()
    _, crew = make_staff("crew", "GM0363", report.department.code)
    response = client.post(f"/api/v1/reports/{report.reference}/status", json={"status": "cancelled"},
                           headers=bearer(crew))
    assert response.status_code == 403


# --- routing rules stay within one's organisations ---------------------------------------------------------------

def test_amsterdam_admin_cannot_route_into_emmen(client, make_staff):
    from meldingen.extensions import db
    from meldingen.routing.models import RoutingRule

    _, admin = make_staff("admin", "GM0363")
    before = db.session.query(RoutingRule).count()
    response = client.post("/api/v1/routing-rules", headers=bearer(admin), json={
        "name": "alles naar Emmen", "position": -1000, "organisation_code": "GM0114",
        "conditions": {"organisation_codes": ["GM0363"]}})
    assert response.status_code == 403
    assert "GM0114" in response.get_json()["message"]
    unlimited = client.post("/api/v1/routing-rules", headers=bearer(admin), json={
        "position": -1000, "organisation_code": "GM0114", "conditions": {}})
    assert unlimited.status_code == 403
    assert db.session.query(RoutingRule).count() == before
    # a rule within Amsterdam is fine
    own = client.post("/api/v1/routing-rules", headers=bearer(admin), json={
        "name": "Amsterdam: bomen", "organisation_code": "GM0363", "conditions": {"organisation_codes": ["GM0363"]}})
    assert own.status_code == 201


def test_amsterdam_report_still_goes_to_amsterdam_after_the_refused_rule(client, make_staff):
    _, admin = make_staff("admin", "GM0363")
    client.post("/api/v1/routing-rules", headers=bearer(admin), json={
        "position": -1000, "organisation_code": "GM0114", "conditions": {"organisation_codes": ["GM0363"]}})
    assert make_report().organisation.code == "GM0363"


def test_heads_and_admins_read_only_the_rules_that_concern_their_organisation(app, client, make_staff):
    from meldingen.extensions import db
    from meldingen.routing.models import RoutingRule

    emmen_rule = RoutingRule(position=1, name="Emmen: lantaarnpalen", active=True, organisation_code="GM0114",
                             conditions={"organisation_codes": ["GM0114"]})
    amsterdam_rule = RoutingRule(position=2, name="Amsterdam: bomen", active=True, organisation_code="GM0363",
                                 conditions={"organisation_codes": ["GM0363"]})
    db.session.add_all([emmen_rule, amsterdam_rule])
    db.session.commit()
    for role in ("head", "admin"):
        _, token = make_staff(role, "GM0363")
        names = {r["name"] for r in client.get("/api/v1/routing-rules", headers=bearer(token)).get_json()["items"]}
        assert "Amsterdam: bomen" in names and "Emmen: lantaarnpalen" not in names
        assert client.get(f"/api/v1/routing-rules/{emmen_rule.id}", headers=bearer(token)).status_code == 404
    _, service_point = make_staff("head", "DSP")
    names = {r["name"] for r in client.get("/api/v1/routing-rules", headers=bearer(service_point)).get_json()["items"]}
    assert {"Amsterdam: bomen", "Emmen: lantaarnpalen"} <= names
    page_user, _ = make_staff("admin", "GM0363")
    page = app.test_client()
    sign_in(page, page_user)
    html = page.get("/staff/admin/rules").get_data(as_text=True)
    assert "Amsterdam: bomen" in html and "Emmen: lantaarnpalen" not in html


# --- sessions end on the server --------------------------------------------------------------------------------

def _cookie(client) -> str:
    return client.get_cookie("session").value


def _with_cookie(app, value):
    other = app.test_client()
    other.set_cookie("session", value)
    return other


def test_after_sign_out_the_old_session_cookie_no_longer_opens_the_backlog(app, client, make_staff):
    user, _ = make_staff("head")
    sign_in(client, user)
    old_cookie = _cookie(client)
    second_device = app.test_client()
    sign_in(second_device, user)
    assert client.post("/staff/logout").status_code == 302
    replayed = _with_cookie(app, old_cookie)
    assert replayed.get("/staff/backlog").status_code == 302  # to the sign-in page
    assert second_device.get("/staff/backlog").status_code == 302  # every session of the account ended
    sign_in(client, user)
    assert client.get("/staff/backlog").status_code == 200


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(app, client, make_staff):
    user, _ = make_staff("head")
    sign_in(client, user)
    other = app.test_client()
    sign_in(other, user)
    short = client.post("/staff/password", data={"current_password": PASSWORD, "new_password": "kort",
                                                  "repeat_password": "kort"})
    assert short.status_code == 400 and "12 tekens" in short.get_data(as_text=True)
    response = client.post("/staff/password", data={"current_password": PASSWORD,
                                                     "new_password": "een veel langer wachtwoord",
                                                     "repeat_password": "een veel langer wachtwoord"})
    assert response.status_code == 303
    assert client.get("/staff/backlog").status_code == 200
    assert other.get("/staff/backlog").status_code == 302
    assert sign_in(other, user).status_code == 401  # the old password is gone
    assert sign_in(other, user, "een veel langer wachtwoord").status_code == 302


def test_deactivating_an_account_ends_its_sessions_at_once(app, make_staff):
    admin, _ = make_staff("admin", "GM0363")
    crew, _ = make_staff("crew", "GM0363")
    crew_client, admin_client = app.test_client(), app.test_client()
    sign_in(crew_client, crew)
    sign_in(admin_client, admin)
    assert crew_client.get("/staff/map").status_code == 200
    admin_client.post(f"/staff/admin/accounts/{crew.id}/active", data={"active": "0"})
    assert crew_client.get("/staff/map").status_code == 302


# --- API tokens -------------------------------------------------------------------------------------------------

def test_an_expired_or_revoked_token_is_refused(client, make_staff):
    from meldingen.accounts.models import ApiToken, hash_token
    from meldingen.extensions import db
    from meldingen.staff.services import revoke_token
    from meldingen.timeutil import utcnow

    _, token = make_staff("head")
    assert client.get("/api/v1/reports", headers=bearer(token)).status_code == 200
    record = db.session.query(ApiToken).filter_by(token_hash=hash_token(token)).one()
    record.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get("/api/v1/reports", headers=bearer(token)).status_code == 401
    record.expires_at = utcnow() + timedelta(days=1)
    db.session.commit()
    revoke_token(record.id)
    assert client.get("/api/v1/reports", headers=bearer(token)).status_code == 401


def test_last_use_is_written_at_most_once_a_minute(client, make_staff):
    from meldingen.accounts.models import ApiToken, hash_token
    from meldingen.extensions import db
    from meldingen.timeutil import as_aware_utc, utcnow

    _, token = make_staff("head")
    client.get("/api/v1/reports", headers=bearer(token))
    record = db.session.query(ApiToken).filter_by(token_hash=hash_token(token)).one()
    first = as_aware_utc(record.last_used_at)
    assert first is not None and utcnow() - first < timedelta(minutes=1)
    client.get("/api/v1/reports", headers=bearer(token))
    db.session.refresh(record)
    assert as_aware_utc(record.last_used_at) == first  # the second use in the same minute writes nothing
    record.last_used_at = first - timedelta(minutes=2)
    db.session.commit()
    client.get("/api/v1/reports", headers=bearer(token))
    db.session.refresh(record)
    assert as_aware_utc(record.last_used_at) > first


def test_tokens_are_named_listed_and_revoked_from_the_command_line(app, runner, make_staff):
    user, _ = make_staff("head")
    issued = runner.invoke(args=["staff", "token", user.email, "--name", "GIS-koppeling", "--days", "30"])
    assert issued.exit_code == 0
    token = issued.output.strip()
    assert token.startswith("mld_") and "\n" not in token
    listing = runner.invoke(args=["staff", "tokens", user.email])
    assert listing.exit_code == 0
    line = next(row for row in listing.output.splitlines() if "GIS-koppeling" in row)
    token_id = line.split("\t")[0]
    assert line.endswith("active")
    revoked = runner.invoke(args=["staff", "revoke", token_id])
    assert revoked.exit_code == 0 and user.email in revoked.output
    assert runner.invoke(args=["staff", "tokens", user.email]).output.count("revoked") == 1
    assert app.test_client().get("/api/v1/reports", headers=bearer(token)).status_code == 401
    assert runner.invoke(args=["staff", "revoke", "999999"]).exit_code != 0
    assert runner.invoke(args=["staff", "token", user.email, "--days", "0"]).exit_code != 0


def test_administrators_list_and_revoke_tokens_of_their_own_organisation_only(app, make_staff):
    from meldingen.accounts.models import ApiToken
    from meldingen.extensions import db

    admin, _ = make_staff("admin", "GM0363")
    colleague, colleague_token = make_staff("crew", "GM0363")
    stranger, stranger_token = make_staff("crew", "GM0114")
    page = app.test_client()
    sign_in(page, admin)
    html = page.get("/staff/admin/credentials").get_data(as_text=True)
    assert colleague.email in html and stranger.email not in html
    stranger_id = db.session.query(ApiToken.id).filter_by(user_id=stranger.id).scalar()
    assert page.post(f"/staff/admin/credentials/tokens/{stranger_id}/revoke").status_code == 404
    colleague_id = db.session.query(ApiToken.id).filter_by(user_id=colleague.id).scalar()
    assert page.post(f"/staff/admin/credentials/tokens/{colleague_id}/revoke").status_code == 303
    assert app.test_client().get("/api/v1/reports", headers=bearer(colleague_token)).status_code == 401
    assert app.test_client().get("/api/v1/reports", headers=bearer(stranger_token)).status_code == 200
    made = page.post("/staff/admin/credentials/tokens", data={"user_id": colleague.id, "name": "tablet"})
    assert made.status_code == 201 and "mld_" in made.get_data(as_text=True)


# --- Open311 keys per application and organisation ---------------------------------------------------------------

def _open311_post(client, key, point):
    return client.post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": "onderhoud-stoep-straat-en-fietspad", "lat": point[0], "long": point[1],
        "description": "Losse tegel"})


def test_an_open311_key_creates_requests_for_its_own_organisation_only(app, client, runner):
    from tests.factories import AMSTERDAM

    key = runner.invoke(args=["open311", "key", "Buurt-app", "--organisation", "GM0363"]).output.strip()
    assert key.startswith("o311_")
    created = _open311_post(client, key, AMSTERDAM)
    assert created.status_code == 201, created.get_data(as_text=True)
    elsewhere = _open311_post(client, key, EMMEN)
    assert elsewhere.status_code == 403 and "GM0114" in elsewhere.get_data(as_text=True)
    listing = runner.invoke(args=["open311", "keys"]).output
    key_id = next(line for line in listing.splitlines() if "Buurt-app" in line).split("\t")[0]
    assert "GM0363" in listing
    assert runner.invoke(args=["open311", "revoke", key_id]).exit_code == 0
    assert _open311_post(client, key, AMSTERDAM).status_code == 403


def test_a_staff_token_still_works_as_open311_key_within_its_organisation(client, make_staff):
    from tests.factories import AMSTERDAM

    _, token = make_staff("crew", "GM0363")
    assert _open311_post(client, token, AMSTERDAM).status_code == 201
    assert _open311_post(client, token, EMMEN).status_code == 403
