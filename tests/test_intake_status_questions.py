"""A resident asking how their report is doing, in chat spelling, is asking a status question: it is answered,
and it starts no new draft. A new report that mentions "melding" or "report" in passing is a problem to report.

The corpus is written as residents type in a chat app: "t" for "het", "mn" and "m'n" for "mijn", "ff", no
capitals, missing question marks, typos; Dutch and English.
"""

from __future__ import annotations

import pytest

from meldingen.intake.understanding import ConversationState, understand

FRESH = ConversationState()
MID_DRAFT = ConversationState(collecting=True, has_draft=True, has_location=True, has_description=True)
AFTER_REPORT = ConversationState(collecting=False, recently_reported=True, has_open_report=True)
LATER = ConversationState(collecting=True, has_open_report=True)  # a report made days ago, nothing drafted

STATUS_QUESTIONS = [
    "en hoe staat t ervoor met die melding van mij",
    "al nieuws over mn melding?",
    "hoe staat het met mijn melding",
    "is er al wat gebeurd met mn melding",
    "any news on my report?",
    "hoe staat t met m'n melding",
    "Hoe staat het ervoor?",
    "hoe is het met mijn melding",
    "nog nieuws over die melding?",
    "is er al iets gebeurd met mijn melding?",
    "is er al wat mee gedaan?",
    "gebeurt er nog wat mee of niet",
    "hebben jullie al naar mn melding gekeken",
    "wordt mn melding nog opgepakt?",
    "is mijn melding al opgepakt",
    "nog steeds niks gehoord over mijn melding",
    "ff checken hoe het met mn melding staat",
    "wat is er met mijn melding gebeurd?",
    "weet u al iets over mijn melding?",
    "hoe staat het met de melding van vorige week",
    "al iets bekend over mn melding",
    "status van me melding?",
    "is er al een update?",
    "kunt u zeggen hoe het met mijn melding staat",
    "hoe ver zijn jullie met mijn melding",
    "wat is de stand van zaken met mn melding",
    "hoor ik nog iets over me melding?",
    "hoe staat het ermee?",
    "al nieuws?",
    "en, al wat gebeurd?",
    "hoe staat het met mijn meldnig",
    "hoe staaat het met mn melding??",
    "goedemorgen, is er al nieuws over mijn melding?",
    "whats the status of my report",
    "any update on my report pls",
    "did anything happen with my report?",
    "what happened to my report",
    "is there any news about my report",
    "how's my report going?",
    "has anyone looked at my report yet",
    "when will my report be handled?",
]

NEW_REPORTS = [
    "ik wil een melding maken van een kapotte lantaarnpaal",
    "melding: boom omgewaaid op de Prinsengracht",
    "ik doe een melding, er ligt glas op het fietspad",
    "graag een melding over een losse stoeptegel voor nr 12",
    "hoi ik wil een melding doen over hondenpoep in het park",
    "de melding gaat over een verstopte put",
    "melding van overlast door een lekkende brandkraan",
    "mijn melding gaat over een kapotte bank in het park",
    "deze melding is voor de afvalbak die overvol zit",
    "dit is een melding over een gat in de weg, staat al weken zo",
    "er staat een auto al weken op de stoep, wil er een melding van maken",
    "melding: lamp brandt niet meer sinds gisteren",
    "melding van een dode vogel op straat",
    "snelle melding: tak hangt over het fietspad",
    "de buurvrouw zei dat ik hier een melding kon doen over de losse tegels",
    "hierbij mijn melding: verkeersbord scheef",
    "kan ik hier een melding doen over een kapotte lantaarnpaal?",
    "mn melding: de stoep is verzakt bij de bushalte",
    "I want to report a broken street light",
    "reporting a pothole on the cycle path",
    "my report is about a fallen tree on the road",
    "I'd like to file a report about graffiti on the bridge",
    "een melding over de speeltuin, de glijbaan is kapot",
    "heb nog een melding: zwerfvuil bij de ingang van het park",
]


@pytest.mark.parametrize("said", STATUS_QUESTIONS)
def test_a_status_question_in_chat_spelling_is_a_status_question(said):
    for state in (FRESH, MID_DRAFT, AFTER_REPORT, LATER):
        assert understand(said, state).intent == "status", state


@pytest.mark.parametrize("said", NEW_REPORTS)
def test_a_new_report_that_mentions_a_report_is_a_problem(said):
    for state in (FRESH, AFTER_REPORT, LATER):
        assert understand(said, state).intent == "problem", state


def test_the_corpora_are_the_size_the_issue_asks():
    assert len(STATUS_QUESTIONS) >= 30 and len(NEW_REPORTS) >= 20
