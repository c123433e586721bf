"""Questions that are not reports: never a draft, never "where is the problem?"; an answer with its link at once
where the organisation keeps one, else the shared inbox with the reason and an honest "when a person answers"."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from meldingen.extensions import db
from meldingen.intake import questions
from meldingen.notify.models import OutboundMessage
from meldingen.organisations.hours import availability, describe_moment, save_office_hours
from meldingen.reports.models import Report
from meldingen.residents.models import Conversation

# Questions with an answer in the sample data: (what the resident types, words of the answer's link).
ANSWERED = [
    ("hoe verleng ik mijn paspoort", "paspoort-en-identiteitskaart"),
    ("Hoe verleng ik mn paspoord?", "paspoort-en-identiteitskaart"),
    ("paspoort verlopen wat moet ik doen", "paspoort-en-identiteitskaart"),
    ("mijn id-kaart is verlopen, hoe vraag ik een nieuwe aan?", "paspoort-en-identiteitskaart"),
    ("wanneer wordt het grofvuil opgehaald", "grofvuil"),
    ("wanneer word t grofvuil opgehaalt bij ons", "grofvuil"),
    ("kan ik grofvuil laten ophalen?", "grofvuil"),
    ("waar kan ik subsidie aanvragen", "subsidies"),
    ("waar kan ik subsidi aanvragen voor zonnepanelen", "subsidies"),
    ("hoe verleng ik mijn rijbewijs", "rijbewijs"),
    ("what are your opening hours", None),
    ("What are your opening hours?", None),
    ("wat zijn de openingstijden", None),
    ("how do i renew my passport", "identification-documents"),
    ("when do you collect bulky waste?", "bulky-waste"),
]
# Questions without an answer: to a person.
FOR_A_PERSON = [
    "hoe vraag ik een parkeervergunning aan",
    "Kan ik een afspraak maken voor een uittreksel?",
    "wanneer krijg ik mijn toeslag",
    "ik heb een vraag over mijn aanslag belasting",
    "Waarom is mijn vergunning nog niet binnen?",
    "hoe geef ik een verhuizing door",
    "how do I apply for a parking permit?",
    "can I make an appointment?",
    "wie kan mij helpen met mijn uitkering",
]
# Problems in public space, also when asked as a question: reports as before.
STILL_REPORTS = [
    "Er ligt grofvuil naast de container",
    "de lantaarnpaal doet het niet",
    "wanneer wordt de kapotte lamp gemaakt?",
    "Waarom ligt hier al weken afval?",
]
SATURDAY_NOON = datetime(2027, 3, 6, 11, 0, tzinfo=UTC)
KINGS_DAY_EVE = datetime(2027, 4, 26, 17, 30, tzinfo=UTC)  # Monday 19:30; Tuesday 27 April is Koningsdag


def chat(client, text: str, session: str | None = None) -> str:
    session = session or client.post("/chat/api/sessions").json["session"]
    response = client.post("/chat/api/messages", json={"id": f"q-{abs(hash(text)) % 10**12:012d}", "text": text},
                           headers={"X-Chat-Session": session})
    assert response.status_code == 200
    return session


def said() -> list[OutboundMessage]:
    db.session.expire_all()
    return db.session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()


@pytest.mark.parametrize(("text", "link"), ANSWERED)
def test_a_question_with_an_answer_gets_it_at_once_with_its_link(client, text, link):
    chat(client, text)
    (reply,) = said()
    assert reply.template_key == "question_answer"
    assert link is None or link in reply.body
    assert db.session.scalar(select(func.count()).select_from(Report)) == 0
    conversation = db.session.scalar(select(Conversation))
    assert not conversation.needs_person and not (conversation.draft or {}).get("description")


@pytest.mark.parametrize("text", FOR_A_PERSON)
def test_a_question_without_an_answer_goes_to_the_inbox_with_its_reason(client, text, monkeypatch):
    monkeypatch.setattr(questions, "utcnow", lambda: datetime(2027, 3, 3, 10, 0, tzinfo=UTC))  # Wednesday 11:00
    chat(client, text)
    (reply,) = said()
    assert reply.template_key == "question_for_person"
    assert not reply.template_key.startswith("ask_")
    conversation = db.session.scalar(select(Conversation))
    assert conversation.needs_person and conversation.needs_person_reason.startswith("vraag, geen melding")
    assert not (conversation.draft or {}).get("description")
    assert db.session.scalar(select(func.count()).select_from(Report)) == 0


def test_outside_office_hours_the_resident_is_told_when_a_person_answers(client, monkeypatch):
    monkeypatch.setattr(questions, "utcnow", lambda: SATURDAY_NOON)
    chat(client, "hoe vraag ik een parkeervergunning aan")
    (reply,) = said()
    assert reply.template_key == "question_for_person_closed"
    assert "maandag 8 maart om 09:00" in reply.body


def test_a_public_holiday_is_a_closed_day(app):
    after = availability(None, KINGS_DAY_EVE)
    assert not after.open_now
    assert describe_moment(after.next_opening, KINGS_DAY_EVE) == "woensdag 28 april om 09:00"
    christmas_eve = datetime(2027, 12, 24, 17, 0, tzinfo=UTC)  # Friday 18:00; 25 and 26 December closed anyway
    assert describe_moment(availability(None, christmas_eve).next_opening, christmas_eve) == \
        "maandag 27 december om 09:00"


def test_an_organisations_own_hours_come_before_the_general_ones(app):
    from meldingen.organisations.models import Organisation

    amsterdam = db.session.scalar(select(Organisation).where(Organisation.code == "GM0363"))
    save_office_hours(amsterdam.id, {5: ("10:00", "14:00")})  # Saturdays only
    assert availability(amsterdam.id, SATURDAY_NOON).open_now
    assert not availability(None, SATURDAY_NOON).open_now


def test_english_question_outside_hours_is_answered_in_english(client, monkeypatch):
    monkeypatch.setattr(questions, "utcnow", lambda: SATURDAY_NOON)
    chat(client, "How do I apply for a parking permit?")
    (reply,) = said()
    assert reply.template_key == "question_for_person_closed" and "Monday 8 March at 09:00" in reply.body


@pytest.mark.parametrize("text", STILL_REPORTS)
def test_a_problem_in_public_space_is_not_taken_for_a_question(client, text):
    chat(client, text)
    keys = [m.template_key for m in said()]
    assert "question_answer" not in keys and "question_for_person" not in keys
    assert any(key.startswith("ask_") for key in keys)  # where is it? (the problem goes on to a report)


PASSWORD = "correct horse battery"


@pytest.fixture
def city_admin(app, make_staff):
    client = app.test_client()
    user = make_staff("admin", "GM0363")[0]
    assert client.post("/staff/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return client


def test_an_administrator_adds_an_answer_for_their_organisation(app, city_admin):
    from meldingen.intake.understanding import normalise
    from meldingen.notify.models import QuestionAnswer

    page = city_admin.get("/staff/admin/questions")
    assert page.status_code == 200 and "Nieuw antwoord" in page.get_data(as_text=True)
    response = city_admin.post("/staff/admin/questions", data={
        "organisation": "GM0363", "language": "nl", "title": "Hondenbelasting", "phrases": "hondenbelasting\nhond aanmelden",
        "body": "Uw hond meldt u aan bij de belastingdienst van de gemeente.", "link": "https://example.nl/hond",
        "position": "0", "active": "1"})
    assert response.status_code == 303
    answer = db.session.scalar(select(QuestionAnswer).where(QuestionAnswer.title == "Hondenbelasting"))
    assert answer is not None and answer.organisation_id is not None
    assert "Hondenbelasting" in city_admin.get("/staff/admin/questions").get_data(as_text=True)
    question = normalise("Hoe moet ik mijn hond aanmelden?")
    assert questions.find_answer(question, answer.organisation_id, "nl") is answer
    assert questions.find_answer(question, None, "nl") is None  # another organisation's residents: not theirs
    refused = city_admin.post("/staff/admin/questions", data={"organisation": "GM0363", "title": "x", "phrases": "y",
                                                              "body": "z", "link": "javascript:alert(1)"})
    assert refused.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(QuestionAnswer).where(QuestionAnswer.title == "x")) == 0


def test_an_administrator_sets_office_hours_and_bad_times_are_refused(app, city_admin):
    from meldingen.organisations.models import Organisation

    amsterdam = db.session.scalar(select(Organisation).where(Organisation.code == "GM0363"))
    assert city_admin.post("/staff/admin/office-hours", data={
        "organisation": "GM0363", "opens_5": "10:00", "closes_5": "14:00"}).status_code == 303
    db.session.expire_all()
    assert availability(amsterdam.id, SATURDAY_NOON).open_now
    assert city_admin.post("/staff/admin/office-hours", data={
        "organisation": "GM0363", "opens_0": "17:00", "closes_0": "09:00"}).status_code == 303
    db.session.expire_all()
    assert availability(amsterdam.id, SATURDAY_NOON).open_now  # the refused change left the hours as they were
    assert city_admin.post("/staff/admin/office-hours", data={"organisation": ""}).status_code == 403  # not general


@pytest.mark.parametrize("text", ["rats running around near the bins", "er rent een rat rond bij de running track",
                                  "the bins are overflowing again"])
def test_a_problem_that_only_resembles_a_service_word_is_no_question(text):
    from meldingen.intake.questions import SERVICE_TOPICS, _occurs, is_problem, normalise

    plain = normalise(text)
    assert is_problem(plain) or not any(_occurs(topic, plain) for topic in SERVICE_TOPICS)
