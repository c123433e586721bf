"""One sender's thousands of texts cannot grow their draft without bound (issue 25: ~3,100 texts from one wa_id
made `conversations.draft` 440 kB, rewritten whole on every message); a long first message is kept whole."""

from __future__ import annotations

import json

import pytest
from fake_chat_platform import RESIDENTS, USERS, install_send_routes, platform_config
from sqlalchemy import select

from meldingen.extensions import db
from meldingen.intake.draft import MAX_DRAFT_PARTS, MAX_DRAFT_SOURCES
from meldingen.reports.models import Report
from meldingen.residents.models import Conversation

AMSTERDAM = (52.3877221, 4.8925727)


@pytest.fixture
def app_config(fake):
    install_send_routes(fake)
    return platform_config(fake)


def test_a_flood_of_texts_keeps_the_draft_bounded_and_still_makes_one_report(client, fake):
    resident = RESIDENTS["telegram"](client, fake, USERS["telegram"][0])
    for number in range(MAX_DRAFT_SOURCES + 30):
        resident.send_text(f"bericht {number}: de lamp bij de brug doet het weer niet, al weken")
    (conversation,) = db.session.scalars(select(Conversation)).all()
    draft = conversation.draft
    assert len(draft["description"]) <= MAX_DRAFT_PARTS
    assert len(draft["sources"]) <= MAX_DRAFT_SOURCES
    assert len(json.dumps(draft)) < 20_000
    resident.send_location(*AMSTERDAM)
    (report,) = db.session.scalars(select(Report)).all()
    assert report.description.startswith("bericht 0:")


def test_a_long_first_message_is_kept_whole(client, fake):
    resident = RESIDENTS["telegram"](client, fake, USERS["telegram"][0])
    words = ("Op de hoek van de straat ligt al dagen een berg afval naast de container. " * 60).strip()
    assert len(words) > 4000
    resident.send_text(words[:4096])
    resident.send_location(*AMSTERDAM)
    (report,) = db.session.scalars(select(Report)).all()
    assert report.description == words[:4096].strip()
