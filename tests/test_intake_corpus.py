"""The conversation corpus (tests/conversation_corpus.py): every scripted resident conversation, through the
platform's own signed webhook (or the website chat's API), the channels worker, the intake, the pipeline and
the outbox to a fake platform on loopback, ends in its one right outcome.

One app and database per backend serve the whole corpus (each script is its own resident); after each script
its reports are closed, so no script's report is a duplicate candidate for the next.
"""

from __future__ import annotations

import itertools
import shutil

import pytest
from conftest import BACKENDS, PG_URL, PostgresAdmin, close_created_apps, make_app
from conversation_corpus import PLACES, SCRIPTS
from fake_chat_platform import RESIDENTS, install_send_routes, platform_config
from sqlalchemy import select, text

from meldingen.extensions import db
from meldingen.reports.models import Report
from meldingen.residents.models import Reporter

_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def corpus_fake():
    from fake_platforms import start_fake_platform

    platform, stop = start_fake_platform()
    install_send_routes(platform)
    yield platform
    stop()


@pytest.fixture(scope="module", params=BACKENDS)
def corpus_app(request, sample_templates, tmp_path_factory, corpus_fake):
    backend = request.param
    template = sample_templates(backend)
    tmp = tmp_path_factory.mktemp(f"corpus-{backend}")
    admin = name = None
    if backend == "sqlite":
        path = tmp / "corpus.sqlite"
        shutil.copyfile(template, path)
        url = f"sqlite:///{path}"
    else:
        import os

        admin = PostgresAdmin(PG_URL)
        name = f"meldingen_corpus_{os.getpid()}"
        url = admin.create(name, template=template)
    app = make_app(tmp, url, **platform_config(corpus_fake))
    with app.app_context():
        yield app
    close_created_apps()
    if admin is not None:
        admin.drop(name)
        admin.engine.dispose()


@pytest.fixture(autouse=True)
def _close_apps():
    """The corpus's app lives for the module (conftest closes every app after each test)."""
    yield


def user_for(platform: str, number: int) -> str:
    return {"whatsapp": f"3162{number:07d}", "telegram": str(900000000 + number),
            "twilio": f"+3163{number:07d}", "webchat": f"corpus-{number}"}[platform]


def resident_reports(resident) -> list[Report]:
    if resident.kind == "webchat":
        platform_id = resident.session_id
    else:
        platform_id = resident.user
    reporter = db.session.scalar(select(Reporter).where(Reporter.channel_kind == resident.kind,
                                                        Reporter.platform_id == platform_id))
    if reporter is None:
        return []
    return db.session.scalars(select(Report).where(Report.reporter_id == reporter.id).order_by(Report.id)).all()


def fill(words: str, reports: list[Report]) -> str:
    if reports:
        words = words.replace("{ref1}", reports[0].reference).replace("{ref}", reports[-1].reference)
    return words


def play(resident, steps) -> None:
    from meldingen.reports.services import change_status

    for step in steps:
        action = step[0]
        if action == "text":
            resident.send_text(fill(step[1], resident_reports(resident)))
        elif action == "photo":
            resident.send_photo(caption=step[1])
        elif action == "location":
            resident.send_location(*PLACES[step[1]])
        elif action == "press":
            if resident.kind == "twilio":  # SMS: the resident types the number of the choice
                resident.send_text("1" if step[1].endswith(":yes") else "2")
            else:
                resident.press(step[1], step[2])
        elif action == "edit":
            resident.edit_text(step[1], step[2])
        elif action == "staff":
            report = resident_reports(resident)[-1]
            change_status(report, step[1], step[2], actor="crew")
            db.session.commit()
        else:
            raise AssertionError(f"unknown step {action!r}")
        db.session.remove()


def close_everything() -> None:
    db.session.execute(text("UPDATE reports SET status = 'done', closed_at = CURRENT_TIMESTAMP "
                            "WHERE closed_at IS NULL"))
    db.session.commit()


def test_the_corpus_has_sixty_conversations_on_every_platform_with_every_intent():
    assert len(SCRIPTS) >= 60
    assert len({s["name"] for s in SCRIPTS}) == len(SCRIPTS)
    assert {s["platform"] for s in SCRIPTS} == {"whatsapp", "telegram", "twilio", "webchat"}


@pytest.mark.parametrize("script", SCRIPTS, ids=[s["name"] for s in SCRIPTS])
def test_conversation_ends_right(script, corpus_app, corpus_fake):
    client = corpus_app.test_client()
    platform = script["platform"]
    resident = RESIDENTS[platform](client, corpus_fake, user_for(platform, next(_numbers)))
    try:
        play(resident, script["steps"])
        replies = resident.replies()
        reports = resident_reports(resident)
        story = f"replies: {replies!r}; reports: {[(r.reference, r.description) for r in reports]!r}"
        if "reports" in script:
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
        if "known" in script:
            assert (last.duplicate_of_id is not None) == script["known"], story
        if "replies" in script:
            assert len(replies) == script["replies"], story
        for words in script.get("last_reply", []):
            assert replies and fill(words, reports) in replies[-1], story
        for words in script.get("never", []):
            assert not any(words.lower() in reply.lower() for reply in replies), story
    finally:
        db.session.rollback()
        close_everything()
