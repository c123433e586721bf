"""The audit log says how a staff action ended (a refusal is not logged like a success), and holds what a person
read, not what the crew's service worker kept on the phone."""

from __future__ import annotations

from factories import make_report
from sqlalchemy import select

from meldingen.audit.models import AuditEntry
from meldingen.extensions import db

PASSWORD = "correct horse battery"


def sign_in(client, user):
    assert client.post("/staff/login", data={"email": user.email, "password": PASSWORD}).status_code in (302, 303)


def entries(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).all()


def test_a_refused_account_creation_is_logged_as_refused_and_a_made_one_as_done(app, client, make_staff):
    admin, _ = make_staff("admin")
    sign_in(client, admin)
    refused = client.post("/staff/admin/accounts", data={"email": "nieuw@example.nl", "role": "crew",
                                                          "organisation": "GM0363", "password": "kort"})
    assert refused.status_code == 303  # the page redirects either way: the status alone cannot tell
    made = client.post("/staff/admin/accounts", data={"email": "nieuw@example.nl", "role": "agent",
                                                       "organisation": "GM0363", "password": PASSWORD})
    assert made.status_code == 303
    assert [e.details["outcome"] for e in entries("staff.admin_account_create")] == ["refused", "done"]

    page = client.get("/staff/admin/audit?action=staff.admin_account_create").get_data(as_text=True)
    assert "geweigerd" in page and "gelukt" in page and "account aanmaken" in page
    assert "(beheerder)" in page and "(admin)" not in page  # the role as staff call it
    refused_only = client.get("/staff/admin/audit?action=staff.admin_account_create&outcome=refused")
    rows = refused_only.get_data(as_text=True).split("<tbody>")[1]
    assert "geweigerd" in rows and "gelukt" not in rows


def test_an_error_message_left_from_an_earlier_request_does_not_make_the_next_action_refused(app, client,
                                                                                           make_staff):
    admin, _ = make_staff("admin")
    sign_in(client, admin)
    client.post("/staff/admin/accounts", data={"email": "x@example.nl", "role": "crew", "organisation": "GM0363",
                                               "password": "kort"})  # its error is not shown yet
    client.post("/staff/admin/accounts", data={"email": "y@example.nl", "role": "agent", "organisation": "GM0363",
                                               "password": PASSWORD})
    assert [e.details["outcome"] for e in entries("staff.admin_account_create")] == ["refused", "done"]


def test_a_forbidden_staff_action_is_logged_as_refused(app, client, make_staff):
    crew, _ = make_staff("crew")
    sign_in(client, crew)
    assert client.post("/staff/admin/accounts", data={"email": "z@example.nl", "role": "admin",
                                                      "organisation": "GM0363", "password": PASSWORD}).status_code == 403
    assert [e.details["outcome"] for e in entries("staff.admin_account_create")] == ["refused"]


def test_the_service_workers_prefetch_is_not_logged_as_a_read_but_opening_the_page_is(app, client, make_staff):
    report = make_report("Losse tegel")
    head, _ = make_staff("head")
    sign_in(client, head)
    url = f"/staff/reports/{report.reference}"
    assert client.get(url, headers={"X-Meldingen-Prefetch": "1", "Sec-Fetch-Dest": "empty"}).status_code == 200
    assert entries("report.read") == []
    # A page the person opens is a navigation: the header does not hide it.
    assert client.get(url, headers={"X-Meldingen-Prefetch": "1", "Sec-Fetch-Dest": "document"}).status_code == 200
    assert client.get(url).status_code == 200
    assert len(entries("report.read")) == 2
    assert {e.details["outcome"] for e in entries("report.read")} == {"done"}


def test_the_service_worker_marks_its_prefetch(app):
    from pathlib import Path

    import meldingen

    worker = (Path(meldingen.__file__).parent / "static" / "staff" / "sw.js").read_text()
    keep = worker[worker.index('data.type === "keep"'):]
    assert '"X-Meldingen-Prefetch": "1"' in keep


def test_a_date_filter_in_year_one_is_refused_with_a_reason_not_a_500(client, make_staff):
    admin, _ = make_staff("admin")
    sign_in(client, admin)
    for path in ("/staff/admin/audit", "/staff/admin/audit.csv"):
        response = client.get(path, query_string={"from": "0001-01-01", "to": "9999-12-31"})
        assert response.status_code < 500
    page = client.get("/staff/admin/audit", query_string={"from": "0001-01-01"}).get_data(as_text=True)
    assert "buiten de jaren" in page
