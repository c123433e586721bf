"""Two quiet-period timers of one conversation that fire together make one report and one answer."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from meldingen.extensions import db
from meldingen.intake.tasks import act  # the timer's entry point: acts and commits
from meldingen.notify.models import OutboundMessage
from meldingen.reports.models import Report
from meldingen.residents.models import Conversation
from meldingen.timeutil import utcnow


@pytest.fixture
def app_config():
    return {"INTAKE_QUIET_SECONDS": 8}


def chat(client, session, **body):
    response = client.post("/chat/api/messages", json=body, headers={"X-Chat-Session": session})
    assert response.status_code == 200, response.get_data(as_text=True)


def test_two_timers_firing_together_make_one_report(app, client):
    session = client.post("/chat/api/sessions").json["session"]
    chat(client, session, id="message-0001", text="De lantaarnpaal voor mijn deur doet het niet meer")
    chat(client, session, id="message-0002", location={"lat": 52.3877221, "lon": 4.8925727})
    # One timer per message was set (the sync job backend records them); both fire at the same moment.
    timers = [kwargs for _, name, kwargs in app.extensions["meldingen_jobs_delayed"] if name == "intake.act"]
    assert len(timers) == 2
    conversation_id = db.session.scalar(select(Conversation.id))
    later = utcnow().replace(year=utcnow().year + 1)
    barrier, results, errors = threading.Barrier(2), [], []

    def fire():
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                results.append(act(conversation_id, now=later))
            except Exception as exc:  # pragma: no cover - shown by the assertion
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=fire) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(results) == ["nothing", "reported"], results
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Report)) == 1
    answers = db.session.scalars(select(OutboundMessage.body)).all()
    assert len(answers) == 1 and "M-" in answers[0]


def test_the_reports_place_and_category_are_worked_out_before_the_lock_webhooks_wait_for(app, client, monkeypatch):
    """On SQLite every webhook's insert waits for the write lock: the intake must not hold it while it looks up the
    place and runs the classifier (PostgreSQL: the resident's row lock, which the next message waits for)."""
    from meldingen import pipeline
    from meldingen.geo import lookup

    session = client.post("/chat/api/sessions").json["session"]
    chat(client, session, id="message-0001", text="De lantaarnpaal voor mijn deur doet het niet meer")
    chat(client, session, id="message-0002", location={"lat": 52.3877221, "lon": 4.8925727})
    conversation_id = db.session.scalar(select(Conversation.id))
    db.session.remove()

    def holding_a_lock() -> bool:
        connection = db.session.connection()
        if connection.dialect.name == "sqlite":
            return connection.connection.dbapi_connection.in_transaction  # a write began: the lock is ours
        return bool(connection.exec_driver_sql(  # SELECT … FOR UPDATE on the resident holds RowShareLock
            "SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND mode = 'RowShareLock' "
            "AND relation = 'reporters'::regclass").scalar())

    seen = []
    real_lookup, real_suggest = lookup.lookup_point, pipeline._suggest
    monkeypatch.setattr(lookup, "lookup_point", lambda *a, **k: (seen.append(("place", holding_a_lock())),
                                                                  real_lookup(*a, **k))[1])
    monkeypatch.setattr(pipeline, "_suggest", lambda text: (seen.append(("category", holding_a_lock())),
                                                             real_suggest(text))[1])
    later = utcnow().replace(year=utcnow().year + 1)
    assert act(conversation_id, now=later) == "reported"
    assert ("place", False) in seen and ("category", False) in seen
    assert ("place", True) not in seen and ("category", True) not in seen  # not done again under the lock
