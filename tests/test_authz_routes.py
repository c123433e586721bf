"""The authorisation table is what every route does: a walk over every route in `app.url_map`, once per role of two
organisations (Amsterdam and Emmen), compared with meldingen.authz.

- a role the table does not allow the route's action gets 403, whatever the object;
- a role it allows never gets 401/403 for its own organisation's objects;
- the other organisation's objects (a report, a routing rule, an account, a token) answer 404, as if absent.
"""

from __future__ import annotations

import pytest

from meldingen import authz
from tests.factories import EMMEN, make_report
from tests.test_staff_access import sign_in

pytestmark = pytest.mark.rolled_back  # one shared database, rolled back after each test

ORGANISATIONS = ("GM0363", "GM0114")  # Amsterdam owns the objects below; Emmen's staff must not reach them
ROLES = ("admin", "head", "crew", "agent")
DESTRUCTIVE_LAST = ("delete", "DELETE", "revoke", "active")


@pytest.fixture
def objects(app, make_staff):
    """Amsterdam's report, routing rule, an account and its API token; and a report in Emmen."""
    from meldingen.extensions import db
    from meldingen.routing.models import RoutingRule

    amsterdam = make_report("Losse stoeptegel op de stoep")
    make_report("Lantaarnpaal kapot", point=EMMEN, category="straatverlichting-openbare-klok")
    rule = RoutingRule(position=5, name="Amsterdam: bomen", active=True,
                       conditions={"organisation_codes": ["GM0363"], "main_slugs": ["groen-en-water"]},
                       organisation_code="GM0363")
    db.session.add(rule)
    account, _ = make_staff("crew", "GM0363")
    db.session.commit()
    return {"report": amsterdam, "rule": rule, "account": account, "token": account.tokens[0]}


def _values(rule, objects) -> dict:
    """Path values: Amsterdam's objects where the route names one; ids that exist nowhere otherwise."""
    values = {"reference": objects["report"].reference, "rule_id": objects["rule"].id,
              "user_id": objects["account"].id, "token_id": objects["token"].id,
              "category_id": 1, "channel_id": 999_999, "conversation_id": 999_999, "key_id": 999_999,
              "text_id": 999_999, "kind": "inbound", "item_id": 999_999, "reporter_id": 999_999, "fmt": "json",
              "subscription_id": 999_999, "delivery_id": 999_999, "answer_id": 999_999, "filter_id": 999_999}
    return {name: values[name] for name in rule.arguments}


OWNED_BY_AMSTERDAM = {"reference", "rule_id", "user_id", "token_id"}


def _body(endpoint: str, org: str) -> dict:
    """A body that passes the view's own checks where the role allows it, so only authorisation decides."""
    return {
        "reports.ReportStatus": {"status": "in_progress"},
        "reports.ReportCategory": {"category": "onderhoud-stoep-straat-en-fietspad"},
        "routing_rules.RoutingRules": {"conditions": {"organisation_codes": [org]}, "organisation_code": org},
        "routing_rules.RoutingRuleItem": {"conditions": {"organisation_codes": [org]}, "organisation_code": org},
        "staff.admin_rule_save": {"conditions": f'{{"organisation_codes": ["{org}"]}}'},
        "staff.report_status": {"status": "in_progress"},
        "staff.admin_department_save": {"organisation": org, "code": "TST", "name": "Test"},
        "staff.admin_account_create": {"organisation": org, "email": "not-an-address", "role": "crew"},
        "staff.admin_open311_key_create": {"organisation": org, "application": "Test-app"},
        "staff.admin_subscription_create": {"organisation": org, "url": "https://192.0.2.1/hook"},
        "staff.admin_question_save": {"organisation": org},
        "staff.admin_office_hours_save": {"organisation": org},
        "duplicates.Merge": {"into": "M-NOSUCH"},
        "privacy_api.PublicDescription": {"public_description": "Losse stoeptegel"},
    }.get(endpoint, {})


def _query(endpoint: str, method: str) -> str:
    """A query string a GET needs to pass the view's own checks (so only authorisation decides)."""
    return {("duplicates.Merge", "GET"): "?into=M-NOSUCH"}.get((endpoint, method), "")


def _routes(app):
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule, method))
    return sorted(found, key=lambda rm: any(word in rm[0].rule or word == rm[1] for word in DESTRUCTIVE_LAST))


def test_every_route_is_in_the_authorisation_table_or_named_open(app):
    unmarked = []
    for rule, method in _routes(app):
        action = authz.required_action(app, rule.endpoint, method)
        if action is None and rule.endpoint not in authz.OPEN_ENDPOINTS:
            unmarked.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert unmarked == [], "routes without an action of meldingen.authz (use action_required / token_required)"


def test_every_route_answers_each_role_of_two_organisations_as_the_table_says(app, make_staff, objects):
    staff = {}
    for org in ORGANISATIONS:
        for role in ROLES:
            department = objects["report"].department.code if role == "crew" and org == "GM0363" else None
            user, token = make_staff(role, org, department)
            client = app.test_client()
            assert sign_in(client, user).status_code == 302
            staff[(role, org)] = (user, token, client)

    import time

    started = time.perf_counter()
    checked = 0
    mismatches = []
    for rule, method in _routes(app):
        endpoint = rule.endpoint
        if endpoint in authz.OPEN_ENDPOINTS:
            continue
        action = authz.required_action(app, endpoint, method)
        path = rule.build(_values(rule, objects), append_unknown=False)[1] + _query(endpoint, method)
        owned = bool(set(rule.arguments) & OWNED_BY_AMSTERDAM)
        for org in reversed(ORGANISATIONS):  # Emmen first: Amsterdam's own requests may change the objects
            for role in ROLES:
                user, token, client = staff[(role, org)]
                body = _body(endpoint, org)
                if path.startswith("/api/"):
                    response = client.open(path, method=method, json=body if method != "GET" else None,
                                           headers={"Authorization": f"Bearer {token}"})
                else:
                    response = client.open(path, method=method, data=body if method != "GET" else None)
                status = response.status_code
                response.close()  # streamed answers (CSV) end their request here
                checked += 1
                allowed = authz.may(user, action)
                if not allowed:
                    expected_ok = status == 403
                elif owned and org != "GM0363":
                    expected_ok = status == 404
                else:
                    expected_ok = status not in (401, 403)
                if not expected_ok:
                    mismatches.append((method, path, role, org, action, allowed, status))
    print(f"route walk: {checked} requests in {time.perf_counter() - started:.1f} s")
    assert mismatches == [], "\n".join(map(str, mismatches))
    assert checked >= 8 * 55  # every role x organisation on every staff route (the count grows with the routes)


def test_the_table_in_docs_security_is_the_table_the_code_uses():
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "SECURITY.md").read_text()
    documented = {m.group(1): frozenset(r.strip() for r in m.group(2).split(","))
                  for m in re.finditer(r"^\| `(\w+)` \| ([a-z, ]+) \|", text, re.MULTILINE)}
    assert documented == {action: roles for action, (roles, _) in authz.PERMISSIONS.items()}
