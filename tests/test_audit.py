"""The audit log: who read a resident's data or changed something, when, from where; administrators of that
organisation read it (page and CSV); nothing can change or remove an entry."""

from __future__ import annotations

import csv
import io

import pytest
from factories import make_report
from sqlalchemy import select, text

from meldingen.audit.models import AuditEntry, AuditLogIsAppendOnly
from meldingen.audit.services import record
from meldingen.extensions import db
from tests.conftest import bearer

PASSWORD = "correct horse battery"


def sign_in(client, user):
    assert client.post("/staff/login", data={"email": user.email, "password": PASSWORD}).status_code in (302, 303)


def entries(action: str | None = None) -> list[AuditEntry]:
    db.session.expire_all()
    query = select(AuditEntry).order_by(AuditEntry.id)
    if action:
        query = query.where(AuditEntry.action == action)
    return db.session.scalars(query).all()


def test_reading_a_report_page_is_recorded_with_who_what_and_from_where(app, client, make_staff):
    report = make_report("Stoep kapot, bel 0612345678")
    head, _ = make_staff("head")
    sign_in(client, head)
    assert client.get(f"/staff/reports/{report.reference}", environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 200
    (entry,) = entries("report.read")
    assert (entry.actor, entry.actor_id, entry.actor_role) == (head.email, head.id, "head")
    assert (entry.object_type, entry.object_id, entry.ip) == ("report", report.reference, "192.0.2.7")
    assert entry.subject_organisation_id == report.organisation_id and entry.organisation_id == head.organisation_id

    # A refused read is not recorded as a read.
    _, emmen = make_staff("head", "GM0114")
    assert client.get(f"/api/v1/reports/{report.reference}", headers=bearer(emmen)).status_code == 404
    assert len(entries("report.read")) == 1


def test_api_reads_and_changes_are_recorded_without_the_note(app, client, make_staff):
    report = make_report("Losse tegel")
    staff, token = make_staff("head")
    client.get(f"/api/v1/reports/{report.reference}", headers=bearer(token))
    client.post(f"/api/v1/reports/{report.reference}/status", headers=bearer(token),
                json={"status": "in_progress", "note": "buurman zegt: 0687654321"})
    read = entries("report.read")
    change = entries("reports.ReportStatus")
    assert len(read) == 1 and read[0].actor == staff.email
    assert len(change) == 1 and change[0].details["status"] == "in_progress"
    assert "0687654321" not in str(change[0].details) and "note" not in change[0].details


def test_administrators_read_only_their_own_organisations_log_as_page_and_csv(app, client, make_staff):
    report = make_report("Losse tegel")
    amsterdam_head, token = make_staff("head")
    client.get(f"/api/v1/reports/{report.reference}", headers=bearer(token))
    amsterdam_admin, _ = make_staff("admin")
    emmen_admin, _ = make_staff("admin", "GM0114")

    sign_in(client, amsterdam_admin)
    page = client.get("/staff/admin/audit").get_data(as_text=True)
    assert amsterdam_head.email in page and report.reference in page
    exported = client.get("/staff/admin/audit.csv")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert any(r["actor"] == amsterdam_head.email and r["action"] == "report.read" for r in rows)
    assert [e.actor for e in entries("audit.export")] == [amsterdam_admin.email]

    # Filters: by object and action, and a date that is not one is said so.
    other = make_report("Tegel twee")
    client.get(f"/api/v1/reports/{other.reference}", headers=bearer(token))
    page = client.get(f"/staff/admin/audit?object={other.reference}&action=report.read").get_data(as_text=True)
    assert other.reference in page and report.reference not in page
    assert "geen datum" in client.get("/staff/admin/audit?from=gisteren").get_data(as_text=True)

    client.post("/staff/logout")
    sign_in(client, emmen_admin)
    assert amsterdam_head.email not in client.get("/staff/admin/audit").get_data(as_text=True)
    assert amsterdam_head.email not in client.get("/staff/admin/audit.csv").get_data(as_text=True)

    for role in ("head", "crew", "agent"):  # only administrators open the log
        client.post("/staff/logout")
        sign_in(client, make_staff(role)[0])
        assert client.get("/staff/admin/audit").status_code == 403
        assert client.get("/staff/admin/audit.csv").status_code == 403


def test_entries_cannot_be_changed_or_deleted_by_the_orm_or_in_the_database(app):
    entry = record("test.action", actor="cli")
    db.session.commit()
    entry.action = "something.else"
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEntry, entry.id))
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.commit()
    db.session.rollback()

    # The database itself refuses updates and deletes too.
    for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"):
            with db.engine.begin() as connection:
                connection.execute(text(statement))
    assert [e.action for e in entries()] == ["test.action"]
