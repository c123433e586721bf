"""The named reactions (meldingen/signals.py) are the ones `create_app` connects, once however many apps a process
makes; the domain sends them where things happen; and work asked for after commit runs once, only on commit."""

from __future__ import annotations

import pytest
from factories import AMSTERDAM, make_report
from sqlalchemy import func, select

from meldingen import create_app, jobs, signals
from meldingen.api import events
from meldingen.extensions import db
from meldingen.notify.hooks import tell_subscribers
from meldingen.notify.models import OutboundMessage
from meldingen.reports.models import Report
from meldingen.reports.services import change_status
from meldingen.residents.models import ConversationMessage, Reporter
from tests.conftest import base_config

RAN: list = []


def record(value) -> None:
    RAN.append(value)


@pytest.fixture(autouse=True)
def _clear(app):
    RAN.clear()
    jobs.register_tasks(app, {"test.reactions.record": record})  # a task of this test's own, by name


def messages_to(reporter: Reporter) -> int:
    return db.session.scalar(select(func.count()).select_from(OutboundMessage)
                             .where(OutboundMessage.reporter_id == reporter.id))


def followed_report(description: str = "Losse stoeptegel bij de voordeur") -> tuple[Report, Reporter]:
    reporter = Reporter(channel_kind="webchat", platform_id=f"web-{description[:8]}", display_name="Bewoner")
    db.session.add(reporter)
    db.session.commit()
    return make_report(description, reporter_id=reporter.id), reporter


def chat(client, session: str, **body) -> None:
    response = client.post("/chat/api/messages", json=body, headers={"X-Chat-Session": session})
    assert response.status_code == 200, response.get_data(as_text=True)


# --- connected in create_app, once ---


def test_a_status_change_reaches_residents_only_through_the_receiver_create_app_connected(app):
    report, reporter = followed_report()
    assert list(signals.status_changed.receivers_for(report)) == [tell_subscribers, events.on_status_changed]
    signals.status_changed.disconnect(tell_subscribers)
    try:
        change_status(report, "in_progress", actor="test", resident_message="We gaan ermee aan de slag")
        db.session.commit()
        assert messages_to(reporter) == 0  # nobody else tells the resident
    finally:
        signals.status_changed.connect(tell_subscribers, weak=False)
    change_status(report, "done", "Hersteld", actor="test")
    db.session.commit()
    assert messages_to(reporter) == 1


def test_making_the_app_again_does_not_double_a_reaction_or_a_reply(app, tmp_path, database_url, client):
    for _ in range(2):
        create_app(base_config(tmp_path, database_url))  # other apps of this process, as tests and workers make
    assert len(signals.status_changed.receivers) == 2  # the residents' messages, the subscribers' events

    session = client.post("/chat/api/sessions").json["session"]
    chat(client, session, id="message-0001", location={"lat": AMSTERDAM[0], "lon": AMSTERDAM[1]})
    chat(client, session, id="message-0002", text="De lantaarnpaal voor mijn deur doet het niet meer")
    report = db.session.scalar(select(Report))
    replies = db.session.scalars(select(OutboundMessage).where(OutboundMessage.template_key == "report_made")).all()
    assert len(replies) == 1 and report.reference in replies[0].body  # the intake's own reply, once

    change_status(report, "in_progress", actor="test", resident_message="Morgen komt er iemand")
    db.session.commit()
    told = db.session.scalars(select(ConversationMessage).where(ConversationMessage.direction == "out",
                                                                ConversationMessage.text.contains("Morgen"))).all()
    assert len(told) == 1


# --- sent where things happen ---


def test_a_report_made_and_one_merged_into_it_are_announced(app):
    created, merged = [], []

    def on_created(report, **kw):
        created.append((report, kw["new"].description))

    def on_merged(known, **kw):
        merged.append((known, kw["duplicate"], kw["reporter"]))

    with signals.report_created.connected_to(on_created), signals.report_merged.connected_to(on_merged):
        first = make_report("Losse stoeptegel voor de deur")
        reporter = Reporter(channel_kind="webchat", platform_id="web-buurman", display_name="Buurman")
        db.session.add(reporter)
        db.session.commit()
        second = make_report("Losse stoeptegel voor de deur", reporter_id=reporter.id)
    assert [(r.id, text) for r, text in created] == [(first.id, "Losse stoeptegel voor de deur"),
                                                      (second.id, "Losse stoeptegel voor de deur")]
    assert second.duplicate_of_id == first.id
    assert [(k.id, d.id, r.id) for k, d, r in merged] == [(first.id, second.id, reporter.id)]


def test_a_category_change_is_announced_with_the_category_before(app):
    from meldingen.pipeline import change_category
    from meldingen.reports.services import find_sub_category

    report = make_report("Losse stoeptegel voor de deur")
    before = report.category
    changed = []
    with signals.category_changed.connected_to(lambda r, **kw: changed.append((r, kw["previous"], kw["actor"]))):
        change_category(report, find_sub_category("veeg-zwerfvuil"), actor="test")
    db.session.commit()
    assert changed == [(report, before, "test")]


def test_the_pipeline_flushes_and_the_caller_commits(app):
    from meldingen.pipeline import create_report
    from meldingen.reports.services import NewReport

    report = create_report(NewReport(description="Gat in de weg", channel="staff", lat=AMSTERDAM[0],
                                     lon=AMSTERDAM[1]))
    assert report.id is not None and report.reference
    db.session.rollback()  # the caller changed its mind: nothing was committed
    assert db.session.scalar(select(func.count()).select_from(Report)) == 0


# --- jobs.after_commit ---


def test_work_asked_for_after_commit_runs_once_and_only_on_commit(app):
    jobs.after_commit("test.reactions.record", value=1)
    jobs.after_commit("test.reactions.record", value=1)  # the same work asked twice: once
    jobs.after_commit("test.reactions.record", value=2)
    with db.session.begin_nested():
        jobs.after_commit("test.reactions.record", value=3)
    assert RAN == []  # a savepoint's end is no commit
    db.session.commit()
    assert RAN == [1, 2, 3]

    jobs.after_commit("test.reactions.record", value=4)
    db.session.rollback()
    db.session.commit()
    assert RAN == [1, 2, 3]  # rolled back: dropped

    jobs.after_commit("test.reactions.record", value=5)
    db.session.close()
    db.session.commit()
    assert RAN == [1, 2, 3]  # a session closed without a commit: dropped


def test_work_after_commit_with_a_delay_goes_to_the_timers(app):
    jobs.after_commit("test.reactions.record", delay=8, value=6)
    db.session.commit()
    assert RAN == []
    assert app.extensions["meldingen_jobs_delayed"][-1] == (8, "test.reactions.record", {"value": 6})
