"""Who commits: a request, a job or a command owns its transaction; the services it calls flush and return what they
made. A request that fails keeps nothing of its own, and its audit entry is still written."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import event, select

from meldingen.audit.models import AuditEntry
from meldingen.categories.models import Category
from meldingen.extensions import db
from meldingen.organisations.models import Organisation
from meldingen.residents.models import Conversation, ConversationMessage, Reporter
from meldingen.timeutil import utcnow
from tests.factories import make_report


@contextmanager
def commits_refused():
    """Fail on any commit of the session in use: what runs inside must leave the commit to its caller."""
    session = db.session()

    def refuse(_session) -> None:
        raise AssertionError("a service committed; its caller (request, job, command) commits")

    event.listen(session, "before_commit", refuse)
    try:
        yield
    finally:
        event.remove(session, "before_commit", refuse)


def waiting_conversation(text: str = "Ik wil iemand spreken", minutes_ago: int = 5) -> Conversation:
    """A resident's conversation waiting for a person in Amsterdam's inbox (committed)."""
    org = db.session.scalar(select(Organisation).where(Organisation.code == "GM0363"))
    reporter = Reporter(channel_kind="webchat", platform_id=f"web-{minutes_ago}", display_name="Bewoner")
    db.session.add(reporter)
    db.session.flush()
    since = utcnow() - timedelta(minutes=minutes_ago)
    conversation = Conversation(reporter_id=reporter.id, channel_kind="webchat", needs_person=True,
                                needs_person_reason="vraag", needs_person_since=since, organisation_id=org.id,
                                draft={})
    db.session.add(conversation)
    db.session.flush()
    db.session.add(ConversationMessage(conversation_id=conversation.id, direction="in", at=since, text=text))
    db.session.commit()
    return conversation


def test_staff_accounts_and_credentials_are_flushed_not_committed(app):
    from meldingen.open311.keys import issue_key, revoke_key
    from meldingen.staff.services import create_staff, issue_token_for, revoke_token

    with commits_refused():
        user = create_staff("flush@gm0363.test", "head", "GM0363", None, "correct horse battery")
        token, _ = issue_token_for(user, "flush")
        assert user.id is not None and token.id is not None  # flushed: the caller can show ids before it commits
        assert revoke_token(token.id).revoked
        key, _ = issue_key("flush app", "GM0363")
        assert revoke_key(key.id).revoked_at is not None
    db.session.rollback()
    from meldingen.accounts.models import StaffUser

    assert db.session.scalar(select(StaffUser).where(StaffUser.email == "flush@gm0363.test")) is None


def test_inbox_report_actions_and_bulk_leave_the_commit_to_the_page(app, make_staff):
    from meldingen.staff import bulk, inbox, report_actions

    agent, _ = make_staff("agent", "DSP")
    head, _ = make_staff("head")
    conversation = waiting_conversation()
    first = make_report("Losse tegel")
    second = make_report("Lantaarnpaal kapot", category="straatverlichting-openbare-klok")
    with commits_refused():
        assert inbox.claim_conversation(conversation.id, agent)
        db.session.refresh(conversation)
        message = inbox.reply_to_conversation(conversation, agent, "We kijken ernaar.",
                                              max(m.id for m in conversation.messages))
        assert message.id is not None
        assert inbox.release_conversation(conversation.id, agent)  # the reply kept the claim alive
        assert inbox.release_expired_claims() == 0
        report_actions.update_status_with_photo(first, head, "in_progress", "opgepakt")
        report_actions.reassign(first, head, None, head.id)
        outcome = bulk.apply_bulk(head, [first.reference, second.reference, "NOPE"], "status", "done")
    assert outcome.refused and outcome.refused[-1] == ("NOPE", "niet gevonden")
    db.session.commit()
    db.session.expire_all()
    assert first.status == "in_progress" and first.assignee_id == head.id  # "done" needs a note: refused
    assert [ref for ref, _ in outcome.refused] == [first.reference, second.reference, "NOPE"]


def test_a_bulk_refusal_undoes_only_its_own_report(app, make_staff, monkeypatch):
    from meldingen.staff import bulk, report_actions

    head, _ = make_staff("head")
    light = make_report("Lantaarnpaal kapot", category="straatverlichting-openbare-klok")
    tile = make_report("Losse tegel")
    crew, _ = make_staff("crew", "GM0363", light.department.code)
    reassign = report_actions.reassign

    def refuse_the_tile_half_way(report, staff, department_code, assignee_id):
        if report.id != tile.id:
            return reassign(report, staff, department_code, assignee_id)
        report.assignee_id = assignee_id  # a change made before the refusal: undone with this report's savepoint
        db.session.flush()
        raise report_actions.ActionRefused("Nee.")

    monkeypatch.setattr(report_actions, "reassign", refuse_the_tile_half_way)
    outcome = bulk.apply_bulk(head, [light.reference, tile.reference], "assignee", str(crew.id))
    db.session.commit()
    db.session.expire_all()
    assert (outcome.changed, outcome.refused) == ([light.reference], [(tile.reference, "Nee.")])
    assert light.assignee_id == crew.id and tile.assignee_id is None


def test_imports_stuck_work_retention_and_sample_data_are_flushed_not_committed(app, tmp_path):
    from meldingen.geo.imports import import_assets
    from meldingen.privacy.retention import RUN_ACTION, retention_batches
    from meldingen.seed import load_sample_data
    from meldingen.staff import stuck

    csv_file = tmp_path / "lights.csv"
    csv_file.write_text("id,lat,lon\nL1,52.3877,4.8925\n", encoding="utf-8")
    parked = waiting_conversation()
    parked.parked_at = utcnow() - timedelta(minutes=5)
    other = waiting_conversation("Nog een vraag", minutes_ago=9)
    other.parked_at = utcnow() - timedelta(minutes=9)
    db.session.commit()
    with commits_refused():
        assert import_assets(csv_file, "street_light", "id").created == 1
        restarted = stuck.retry("conversation", parked.id, "admin@test")
        assert restarted is not None and restarted.task == "intake.act"
        assert restarted.kwargs == {"conversation_id": parked.id}
        assert stuck.retry("conversation", parked.id, "admin@test") is None  # no longer stuck
        assert stuck.dismiss("conversation", other.id, "admin@test")
        steps = list(retention_batches(0))
        assert steps[-1].reports == 0
        load_sample_data()
    db.session.commit()
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == RUN_ACTION)) is not None


def test_the_outbox_send_steps_flush_and_leave_the_commits_to_the_sending_task(app):
    from meldingen.notify import receipts, sender, uncertain
    from meldingen.notify.models import OutboundMessage

    reporter = Reporter(channel_kind="webchat", platform_id="web-outbox", display_name="Bewoner")
    db.session.add(reporter)
    db.session.flush()
    rows = [OutboundMessage(idempotency_key=f"tx-{n}", channel_kind="webchat", reporter_id=reporter.id,
                            body=f"Bericht {n}", state="queued") for n in range(4)]
    receipt = OutboundMessage(idempotency_key="tx-read", channel_kind="webchat", reporter_id=reporter.id, body="",
                              template_key=receipts.READ_RECEIPT, payload={"read_receipt": {}}, state="queued")
    db.session.add_all([*rows, receipt])
    db.session.commit()
    ids = [row.id for row in rows]
    sent_id, retried_id, unknown_id, held_id = ids
    delayed_before = list(app.extensions["meldingen_jobs_delayed"])
    now = utcnow()
    with commits_refused():
        assert sender.queued_ids(10) == [*ids, receipt.id] and sender.is_due(sent_id, now)
        assert sender.due_message(sent_id, now) is not None and sender.pacing_wait(rows[0], now) == 0.0
        message = sender.claim(sent_id, now)
        assert message is not None and (message.state, message.attempts) == ("sending", 1)
        assert sender.claim(sent_id, now) is None  # one claim wins
        outcome = sender.send_claimed(message, now)
        assert outcome == sender.Outcome("sent", platform_message_id=f"webchat-{sent_id}")
        sender.record_sent(sent_id, outcome.platform_message_id, now)
        retried = sender.claim(retried_id, now)
        assert sender.record_outcome(retried, sender.Outcome("retry", error="503"), now) == "queued"
        unknown = sender.claim(unknown_id, now)
        assert uncertain.mark_unknown(unknown, now, "read timeout") == "unknown"
        assert uncertain.settle(unknown_id, now) == "queued"  # nothing left the service: queued again
        held = sender.claim(held_id, now)
        assert sender.record_outcome(held, sender.Outcome("held", error="buiten het venster"), now) == "held"
        claimed_receipt = sender.claim(receipt.id, now, read_receipt=True)
        assert receipts.drop_unknown_receipt(claimed_receipt, now, "read timeout") == "failed"
        assert sender.defer(retried, 6.0, now) == "queued"  # pacing: sent again after its wait
        db.session.flush()
        assert [db.session.get(OutboundMessage, i).state for i in ids] == ["sent", "queued", "queued", "held"]
    db.session.rollback()  # the steps' work was the caller's to keep or drop: nothing of it stays or is queued
    db.session.expire_all()
    assert {db.session.get(OutboundMessage, i).state for i in [*ids, receipt.id]} == {"queued"}
    assert app.extensions["meldingen_jobs_delayed"] == delayed_before


def test_the_sending_task_commits_its_steps(app):
    from meldingen.notify import tasks
    from meldingen.notify.models import OutboundMessage

    reporter = Reporter(channel_kind="webchat", platform_id="web-task", display_name="Bewoner")
    db.session.add(reporter)
    db.session.flush()
    row = OutboundMessage(idempotency_key="tx-task", channel_kind="webchat", reporter_id=reporter.id,
                          body="Bedankt", state="queued")
    db.session.add(row)
    db.session.commit()
    assert tasks.deliver(row.id) == "sent"
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(OutboundMessage, row.id).state == "sent"


# As in production: an exception is answered with the error page (and after-request hooks run), not raised.
@pytest.mark.parametrize("app_config", [{"PROPAGATE_EXCEPTIONS": False}])
def test_a_failed_request_keeps_nothing_but_its_audit_entry(app, client, make_staff):
    head, _ = make_staff("head")
    category = db.session.scalar(select(Category).where(Category.parent_id.is_(None)).order_by(Category.id))
    name = category.name

    def half_done_then_broken():
        g.staff = head  # signed in, as the API's token check leaves it
        db.session.get(Category, category.id).name = "half done"
        db.session.flush()
        raise RuntimeError("broken after a flush")

    app.add_url_rule("/api/v1/test-broken", "test_broken", half_done_then_broken, methods=["POST"])
    assert client.post("/api/v1/test-broken").status_code == 500
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Category, category.id).name == name
    (entry,) = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "test_broken")).all()
    assert entry.actor == head.email and entry.details["status"] == 500


# --- tests that roll back instead of copying a database (tests/conftest.py, the `rolled_back` marker) ----------

MARKER = "Teruggedraaid"


@pytest.mark.rolled_back
def test_a_rolled_back_test_commits_into_a_transaction_that_ends_with_it(app, client, make_staff):
    category = db.session.scalar(select(Category).order_by(Category.id))
    category.name, category_id = MARKER, category.id
    db.session.commit()  # a savepoint released: the request below and a fresh session both see it
    _, token = make_staff("head")
    assert client.get("/api/v1/reports", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    db.session.remove()
    assert db.session.scalar(select(Category.id).where(Category.name == MARKER)) == category_id


@pytest.mark.rolled_back
def test_the_next_rolled_back_test_sees_nothing_of_it(app):
    assert db.session.scalar(select(Category.id).where(Category.name == MARKER)) is None
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "reports.list")) is None
