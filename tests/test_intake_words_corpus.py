"""The corpus of issue 21's kinds 2-4 (tests/conversation_corpus_words.py): each scripted conversation, through
the platform's own signed webhook (or the website chat's API), the worker, the intake, the pipeline and the
outbox to a fake platform on loopback, ends in its one right outcome. Played like tests/conversation_corpus.py,
with replies to the service's own message as the platforms send them.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter

import pytest
from conversation_corpus_words import SCRIPTS
from fake_chat_platform import RESIDENTS
from sqlalchemy import select
from test_intake_corpus import (
    _close_apps,
    close_everything,
    corpus_app,
    corpus_fake,
    fill,
    play,
    resident_reports,
)

from meldingen.extensions import db
from meldingen.notify.models import OutboundMessage
from meldingen.reports.models import ReportEvent

_numbers = itertools.count(5001)
ANSWERS_WITH_A_REFERENCE = ("report_made", "report_known")


def user_for(platform: str, number: int) -> str:
    return {"whatsapp": f"3165{number:07d}", "telegram": str(910000000 + number),
            "twilio": f"+3166{number:07d}", "webchat": f"words-{number}"}[platform]


def reference_message_id(resident, first: bool) -> str:
    """The platform's id of our message that gave the resident their first (or last) reference."""
    reports = resident_reports(resident)
    report = reports[0] if first else reports[-1]
    ids = db.session.scalars(select(OutboundMessage.platform_message_id).where(
        OutboundMessage.report_id == report.id, OutboundMessage.reporter_id == report.reporter_id,
        OutboundMessage.template_key.in_(ANSWERS_WITH_A_REFERENCE)).order_by(OutboundMessage.id)).all()
    assert ids and ids[0], "the reference message was sent and has the platform's id"
    return ids[0]


def send_reply(resident, words: str, platform_id: str):
    """A text sent as a reply to our message `platform_id`, the way each platform delivers it."""
    if resident.kind == "whatsapp":
        return resident._deliver({"type": "text", "text": {"body": words},
                                  "context": {"from": "3197010251234", "id": platform_id}})
    if resident.kind == "telegram":
        ours = {"message_id": int(platform_id), "from": {"id": 123456, "is_bot": True, "first_name": "Meldingen"},
                "chat": {"id": int(resident.user), "type": "private"}, "date": int(time.time()) - 60,
                "text": "Bedankt voor uw melding."}
        return resident._deliver({"text": words, "reply_to_message": ours})
    if resident.kind == "twilio":
        return resident._deliver({"Body": words, "OriginalRepliedMessageSid": platform_id})
    raise AssertionError(f"{resident.kind} has no replies to a message")


def play_words(resident, steps) -> None:
    for step in steps:
        if step[0] in ("reply", "reply_first"):
            send_reply(resident, step[1], reference_message_id(resident, first=step[0] == "reply_first"))
            db.session.remove()
        else:
            play(resident, [step])


def test_the_corpus_covers_every_kind_on_every_platform():
    kinds = Counter(script["name"].split("_")[0] for script in SCRIPTS)
    assert len(SCRIPTS) >= 90 and len({s["name"] for s in SCRIPTS}) == len(SCRIPTS)
    assert {s["platform"] for s in SCRIPTS} == {"whatsapp", "telegram", "twilio", "webchat"}
    assert kinds["reply"] >= 15 and kinds["cancel"] >= 15 and kinds["number"] >= 12
    assert kinds["two"] >= 12 and kinds["one"] >= 8 and kinds["category"] >= 12


@pytest.mark.parametrize("script", SCRIPTS, ids=[s["name"] for s in SCRIPTS])
def test_conversation_ends_right(script, corpus_app, corpus_fake):
    client = corpus_app.test_client()
    platform = script["platform"]
    resident = RESIDENTS[platform](client, corpus_fake, user_for(platform, next(_numbers)))
    try:
        play_words(resident, script["steps"])
        replies = resident.replies()
        reports = resident_reports(resident)
        story = f"replies: {replies!r}; reports: {[(r.reference, r.description) for r in reports]!r}"
        assert len(reports) == script["reports"], story
        last = reports[-1] if reports else None
        if "description" in script:
            assert last is not None and last.description == script["description"], story
        if "address" in script:
            assert last is not None, story
            assert f"{last.address_street} {last.address_number}" == script["address"], story
        if "category" in script:
            assert last is not None and last.category is not None, story
            assert last.category.slug == script["category"], story
        for words in script.get("last_reply", []):
            assert replies and fill(words, reports) in replies[-1], story
        for words in script.get("last_reply_not", []):
            assert replies and fill(words, reports) not in replies[-1], story
        for words in script.get("never", []):
            assert not any(words.lower() in reply.lower() for reply in replies), story
        if "history" in script:
            notes = db.session.scalars(select(ReportEvent.note).where(ReportEvent.report_id == last.id,
                                                                      ReportEvent.kind == "note")).all()
            for words in script["history"]:
                assert any(words in (note or "") for note in notes), (notes, story)
    finally:
        db.session.rollback()
        close_everything()
