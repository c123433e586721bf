"""Retention and the resident's rights: closed reports lose the resident's words after the retention period,
residents with nothing open lose their number, name and chat texts; an administrator exports everything held
about one resident and erases it; each is recorded in the audit log."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from factories import AMSTERDAM
from fake_chat_platform import RESIDENTS, USERS, install_send_routes, platform_config
from sqlalchemy import select

from meldingen.audit.models import AuditEntry
from meldingen.channels.models import InboundEvent
from meldingen.extensions import db
from meldingen.jobs import run_task
from meldingen.notify.models import OutboundMessage
from meldingen.reports.models import Report
from meldingen.reports.services import change_status
from meldingen.residents.models import ConversationMessage, Reporter
from meldingen.timeutil import utcnow
from tests.conftest import bearer

pytestmark = pytest.mark.rolled_back  # one shared database, rolled back after each test

PASSWORD = "correct horse battery"
WORDS = "Losse stoeptegel voor de deur, bel me op 06-12345678. Groeten, Jan de Vries"


@pytest.fixture
def fake(fake):
    install_send_routes(fake)
    return fake


@pytest.fixture
def app_config(fake):
    return platform_config(fake)


def chat_report(client, fake, user_index: int = 0, words: str = WORDS) -> Report:
    resident = RESIDENTS["whatsapp"](client, fake, USERS["whatsapp"][user_index])
    resident.send_location(*AMSTERDAM)
    resident.send_text(words)
    return db.session.scalars(select(Report).order_by(Report.id.desc())).first()


def close(report: Report, days_ago: int) -> None:
    change_status(report, "done", "opgelost", actor="test")
    report.closed_at = utcnow() - timedelta(days=days_ago)
    report.reporter.last_inbound_at = utcnow() - timedelta(days=days_ago)
    db.session.commit()


def texts_of(reporter_id: int) -> list[str]:
    return [m.text for m in db.session.scalars(select(ConversationMessage).join(ConversationMessage.conversation)
                                               .where(ConversationMessage.conversation.property.mapper.class_
                                                      .reporter_id == reporter_id))]


def test_anonymise_replaces_what_identifies_the_resident_of_an_old_closed_report(app, client, fake, runner):
    report = chat_report(client, fake)
    reporter_id = report.reporter_id
    close(report, days_ago=400)
    assert any("06-12345678" in (t or "") for t in texts_of(reporter_id))

    result = runner.invoke(args=["anonymise", "--older-than", "365"])
    assert result.exit_code == 0, result.output
    assert "1 reports, 1 residents" in result.output

    db.session.expire_all()
    report = db.session.get(Report, report.id)
    reporter = db.session.get(Reporter, reporter_id)
    assert report.description == report.public_description == (
        "Losse stoeptegel voor de deur, bel me op [telefoonnummer]. Groeten, [naam]")
    assert report.anonymised_at is not None and report.status == "done"
    assert reporter.platform_id == f"geanonimiseerd-{reporter_id}" and reporter.display_name is None
    assert set(texts_of(reporter_id)) == {"[verwijderd]"}
    bodies = db.session.scalars(select(OutboundMessage.body).where(OutboundMessage.reporter_id == reporter_id)).all()
    assert bodies and set(bodies) == {"[verwijderd]"}
    payloads = db.session.scalars(select(InboundEvent.payload)).all()
    assert "31612345678" not in json.dumps(payloads) and "06-12345678" not in json.dumps(payloads)
    (run,) = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "retention.run")).all()
    assert run.actor == "cli" and run.details["reports"] == 1

    again = runner.invoke(args=["anonymise", "--older-than", "365"])
    assert "0 reports, 0 residents" in again.output  # what was done is not done again
    negative = runner.invoke(args=["anonymise", "--older-than", "-1"])
    assert negative.exit_code != 0 and "-1" in negative.output


def test_open_and_recently_closed_reports_and_their_residents_are_kept(app, client, fake, runner):
    recent = chat_report(client, fake, 0)
    close(recent, days_ago=30)
    old = chat_report(client, fake, 1, "Lantaarnpaal 12345678 brandt niet, mail mij: a@example.nl")
    close(old, days_ago=400)
    newer = chat_report(client, fake, 1, "Nu ligt er ook grofvuil naast de container")
    assert newer.reporter_id == old.reporter_id and newer.id != old.id
    runner.invoke(args=["anonymise", "--older-than", "365"])
    db.session.expire_all()
    assert db.session.get(Report, recent.id).description == WORDS
    assert db.session.get(Reporter, recent.reporter_id).platform_id == USERS["whatsapp"][0]
    assert db.session.get(Report, old.id).anonymised_at is not None
    assert db.session.get(Report, newer.id).anonymised_at is None
    # The resident of the old report still follows an open one: still told about it on their number.
    assert db.session.get(Reporter, old.reporter_id).platform_id == USERS["whatsapp"][1]


def test_the_daily_run_uses_the_configured_period_and_runs_once_a_day(app, client, fake):
    report = chat_report(client, fake)
    close(report, days_ago=400)
    app.config["RETENTION_DAYS"] = 365
    first = run_task(app, "privacy.retention", {})
    assert first is not None and first["reports"] == 1 and first["older_than_days"] == 365
    assert run_task(app, "privacy.retention", {}) is None  # not again within the day
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("retention.%"))
                                 .order_by(AuditEntry.id)).all()
    assert actions == ["retention.start", "retention.run"]


def sign_in(client, user):
    client.post("/staff/login", data={"email": user.email, "password": PASSWORD})


def test_an_administrator_exports_everything_held_about_a_resident_as_json_and_csv(app, client, fake, make_staff):
    report = chat_report(client, fake)
    admin, _ = make_staff("admin")
    sign_in(client, admin)
    page = client.get(f"/staff/admin/residents/{report.reporter_id}")
    assert page.status_code == 200 and report.reference in page.get_data(as_text=True)

    exported = client.get(f"/staff/admin/residents/{report.reporter_id}/export.json")
    assert exported.status_code == 200 and "attachment" in exported.headers["Content-Disposition"]
    data = exported.json
    assert data["resident"]["platform_id"] == USERS["whatsapp"][0]
    assert data["reports"][0]["description"] == WORDS
    assert any(m["text"] == WORDS for c in data["conversations"] for m in c["messages"])
    assert data["messages_sent"] and data["platform_deliveries"]

    as_csv = client.get(f"/staff/admin/residents/{report.reporter_id}/export.csv")
    rows = list(csv.reader(io.StringIO(as_csv.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == ["wat", "wanneer", "melding", "tekst"]
    assert ["melding", data["reports"][0]["created_at"], report.reference, WORDS] in rows
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.actor == admin.email)).all()
    assert actions.count("resident.export") == 2 and "resident.read" in actions

    # Another organisation's administrator does not find the resident; a head may not look.
    for user, status in ((make_staff("admin", "GM0114")[0], 404), (make_staff("head")[0], 403)):
        client.post("/staff/logout")
        sign_in(client, user)
        assert client.get(f"/staff/admin/residents/{report.reporter_id}").status_code == status
        assert client.get(f"/staff/admin/residents/{report.reporter_id}/export.json").status_code == status
        assert client.post(f"/staff/admin/residents/{report.reporter_id}/erase",
                           data={"confirm": "wissen"}).status_code == status


def test_erasure_on_request_wipes_the_resident_keeps_the_report_and_is_recorded_also_over_the_api(app, client, fake, make_staff):
    report = chat_report(client, fake)
    admin, _ = make_staff("admin")
    sign_in(client, admin)
    unconfirmed = client.post(f"/staff/admin/residents/{report.reporter_id}/erase", data={"confirm": "ja"})
    assert unconfirmed.status_code == 303
    assert db.session.get(Reporter, report.reporter_id).anonymised_at is None

    erased = client.post(f"/staff/admin/residents/{report.reporter_id}/erase", data={"confirm": "wissen"})
    assert erased.status_code == 303
    db.session.expire_all()
    reporter = db.session.get(Reporter, report.reporter_id)
    kept = db.session.get(Report, report.id)
    assert reporter.platform_id == f"gewist-{reporter.id}" and reporter.anonymised_at is not None
    assert kept.status == "new" and kept.description == kept.public_description
    assert "06-12345678" not in kept.description
    assert set(texts_of(reporter.id)) == {"[verwijderd]"}
    (entry,) = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "resident.erase")).all()
    assert entry.actor == admin.email and entry.object_id == str(reporter.id) and entry.details["reports"] == 1

    # The same from a report over the API, for administrators only.
    report = chat_report(client, fake, 1)
    _, head = make_staff("head")
    _, api_admin = make_staff("admin")
    assert client.get(f"/api/v1/reports/{report.reference}/resident", headers=bearer(head)).status_code == 403
    got = client.get(f"/api/v1/reports/{report.reference}/resident", headers=bearer(api_admin))
    assert got.status_code == 200 and got.json["resident"]["platform_id"] == USERS["whatsapp"][1]
    erased = client.post(f"/api/v1/reports/{report.reference}/resident/erase", headers=bearer(api_admin))
    assert erased.status_code == 200 and erased.json["erased"]["reports"] == 1
    db.session.expire_all()
    assert db.session.get(Reporter, report.reporter_id).platform_id.startswith("gewist-")
