"""Two quiet-period timers of one conversation that fire together make one report and one answer."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from meldingen.channels.models import OutboundMessage
from meldingen.extensions import db
from meldingen.intake.models import Conversation
from meldingen.intake.services import act_if_due
from meldingen.reports.models import Report
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
                results.append(act_if_due(conversation_id, now=later))
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
