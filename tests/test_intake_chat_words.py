"""Residents' chat words, end to end on every platform (webhook, worker, intake, outbox, fake platform): a word
that looks like a reference is a word, and a status question in chat spelling is answered and starts no draft.
The corpora of single sentences are in test_intake_references.py and test_intake_status_questions.py."""

from __future__ import annotations

import pytest
from fake_chat_platform import KINDS, RESIDENTS, USERS, install_send_routes, platform_config
from sqlalchemy import select

from meldingen.extensions import db
from meldingen.reports.models import Report

AMSTERDAM = (52.3877221, 4.8925727)  # Westerdoksdijk 40A


@pytest.fixture
def fake(fake):
    install_send_routes(fake)
    return fake


@pytest.fixture
def app_config(fake):
    return platform_config(fake)


@pytest.fixture(params=KINDS)
def resident(request, client, fake):
    return RESIDENTS[request.param](client, fake, USERS[request.param][0])


def reports() -> list[Report]:
    return list(db.session.scalars(select(Report).order_by(Report.id)))


def test_months_and_monday_are_words_of_the_description_not_references(resident):
    resident.send_text("De lantaarnpalen staan er al maanden zo bij, sinds maandag ook de tweede")
    assert not any("M-AANDEN" in r or "M-AANDAG" in r or "geen melding" in r for r in resident.replies())
    resident.send_location(*AMSTERDAM)
    (report,) = reports()
    assert "al maanden" in report.description and "sinds maandag" in report.description
    assert report.reference in resident.replies()[-1]


@pytest.mark.parametrize("question", ["al nieuws over mn melding?", "en hoe staat t ervoor met die melding van mij",
                                      "is er al wat gebeurd met mn melding", "any news on my report?"])
def test_a_status_question_in_chat_spelling_is_answered_and_starts_no_draft(resident, question):
    resident.send_text("Losse stoeptegel, je struikelt erover")
    resident.send_location(*AMSTERDAM)
    (report,) = reports()
    resident.send_text(question)
    answer = resident.replies()[-1]
    assert report.reference in answer and ("Gemeld" in answer or "Reported" in answer)
    resident.send_location(*AMSTERDAM)  # the question is not the description of a second report
    assert len(reports()) == 1
    assert "Wat is er aan de hand" in resident.replies()[-1] or "What is wrong" in resident.replies()[-1]
