"""Issue 21's second and third kinds end to end: a reply to the service's own message is about the report that
message named, on every platform that has replies (WhatsApp context, Telegram reply_to_message, Twilio
OriginalRepliedMessageSid, Messenger reply_to, a Signal quote); within the quiet period, a number corrected in
other words keeps the words and moves the place, and a cancel inside a sentence leaves nothing for the next pin;
a WhatsApp sticker through Twilio is quiet, a video's caption through Twilio is read."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from fake_chat_platform import RESIDENTS, SIGNAL_NUMBER, USERS, install_send_routes, platform_config
from sqlalchemy import select

from meldingen.channels import telegram, twilio
from meldingen.extensions import db
from meldingen.intake.tasks import act
from meldingen.notify.models import OutboundMessage
from meldingen.reports.models import Report, ReportEvent
from meldingen.residents.models import Conversation, Reporter
from meldingen.timeutil import utcnow

PAYLOADS = Path(__file__).parent / "payloads"
BARENTSZSTRAAT_4 = (52.3892367, 4.8893975)
REPLYING_KINDS = ["whatsapp", "telegram", "twilio", "messenger", "signal"]


def payload(platform: str, name: str):
    return json.loads((PAYLOADS / platform / f"{name}.json").read_text(encoding="utf-8"))


# --- parsing ---


def test_a_telegram_reply_names_the_message_it_replies_to():
    (message,) = telegram.parse_webhook(payload("telegram", "reply_to_message")).messages
    assert (message.kind, message.text, message.context_id) == ("text", "en? nog steeds niks", "5001")


@pytest.mark.parametrize("replied", [None, {}, {"message_id": "5001"}, {"message_id": True}, "5001"])
def test_a_telegram_message_without_a_readable_reply_names_none(replied):
    body = payload("telegram", "reply_to_message")
    if replied is None:
        del body["message"]["reply_to_message"]
    else:
        body["message"]["reply_to_message"] = replied
    (message,) = telegram.parse_webhook(body).messages
    assert message.kind == "text" and message.context_id is None


def test_a_whatsapp_sticker_through_twilio_is_quiet():
    (message,) = twilio.parse_webhook(payload("twilio", "whatsapp_sticker")).messages
    assert (message.kind, message.unsupported_type, message.media) == ("quiet", "sticker", ())


def test_a_webp_picture_by_mms_is_still_a_photo():
    body = {**payload("twilio", "whatsapp_sticker"), "From": "+31612345678", "To": "+3197010251234"}
    (message,) = twilio.parse_webhook(body).messages
    assert message.kind == "photo" and message.media[0].mime_type == "image/webp"


def test_a_videos_caption_through_twilio_is_read():
    (message,) = twilio.parse_webhook(payload("twilio", "whatsapp_video_caption")).messages
    assert (message.kind, message.text) == ("text", "Water spuit uit de stoep bij de bushalte")


# --- end to end ---


@pytest.fixture
def fake(fake):
    install_send_routes(fake)
    return fake


@pytest.fixture
def app_config(fake):
    return {**platform_config(fake), "INTAKE_QUIET_SECONDS": 8}


def reports() -> list[Report]:
    return list(db.session.scalars(select(Report).order_by(Report.id)))


def conversation_of(resident) -> Conversation:
    platform_id = resident.session_id if resident.kind == "webchat" else resident.user
    reporter = db.session.scalar(select(Reporter).where(Reporter.channel_kind == resident.kind,
                                                        Reporter.platform_id == platform_id))
    return db.session.scalar(select(Conversation).where(Conversation.reporter_id == reporter.id))


def quiet_period_over(resident) -> str:
    """The conversation's timer fires (as the scheduler would, 8 s later)."""
    result = act(conversation_of(resident).id, now=utcnow().replace(year=utcnow().year + 1))
    db.session.remove()
    return result


@dataclass(frozen=True)
class Made:
    id: int
    reference: str


def report_made(resident) -> Made:
    resident.send_text("Losse stoeptegel, je struikelt erover")
    resident.send_location(*BARENTSZSTRAAT_4)
    assert quiet_period_over(resident) == "reported"
    report = reports()[-1]
    assert report.reference in resident.replies()[-1]
    return Made(report.id, report.reference)


def sent_id(report: Made, key: str = "report_made") -> str:
    (platform_id,) = db.session.scalars(select(OutboundMessage.platform_message_id).where(
        OutboundMessage.report_id == report.id, OutboundMessage.template_key == key))
    assert platform_id
    return platform_id


def reply(resident, words: str, platform_id: str):
    if resident.kind == "whatsapp":
        return resident._deliver({"type": "text", "text": {"body": words},
                                  "context": {"from": "3197010251234", "id": platform_id}})
    if resident.kind == "telegram":
        ours = {"message_id": int(platform_id), "from": {"id": 123456, "is_bot": True, "first_name": "Meldingen"},
                "chat": {"id": int(resident.user), "type": "private"}, "date": int(time.time()) - 60, "text": "…"}
        return resident._deliver({"text": words, "reply_to_message": ours})
    if resident.kind == "twilio":
        return resident._deliver({"Body": words, "OriginalRepliedMessageSid": platform_id})
    if resident.kind == "messenger":
        return resident._deliver({"text": words, "reply_to": {"mid": platform_id}})
    if resident.kind == "signal":  # a quote names our message by its author and sent timestamp
        return resident._deliver({"message": words, "quote": {
            "id": int(platform_id.rpartition(":")[2]), "author": SIGNAL_NUMBER, "authorNumber": SIGNAL_NUMBER,
            "text": "Bedankt voor uw melding!", "attachments": []}})
    raise AssertionError(resident.kind)


@pytest.mark.parametrize("kind", REPLYING_KINDS)
def test_en_nog_steeds_niks_in_reply_to_the_reference_is_that_reports_status(client, fake, kind):
    resident = RESIDENTS[kind](client, fake, USERS[kind][0])
    report = report_made(resident)
    reply(resident, "en? nog steeds niks", sent_id(report))
    answer = resident.replies()[-1]
    assert report.reference in answer and "Bedoelt u" not in answer
    assert conversation_of(resident).state == "reported" and len(reports()) == 1


@pytest.mark.parametrize("kind", ["whatsapp", "telegram"])
def test_a_reply_to_the_older_of_two_reports_is_about_the_older(client, fake, kind):
    resident = RESIDENTS[kind](client, fake, USERS[kind][0])
    first = report_made(resident)
    resident.send_text("Container vol")
    resident.send_location(52.3902604, 4.8913251)
    assert quiet_period_over(resident) == "reported"
    second = Made(reports()[-1].id, reports()[-1].reference)
    reply(resident, "??", sent_id(first))
    answer = resident.replies()[-1]
    assert first.reference in answer and second.reference not in answer


@pytest.mark.parametrize("kind", ["whatsapp", "telegram", "twilio"])
def test_a_reply_to_a_question_or_to_someone_elses_message_names_no_report(client, fake, kind):
    resident = RESIDENTS[kind](client, fake, USERS[kind][0])
    resident.send_text("Losse stoeptegel")
    assert quiet_period_over(resident).startswith("asked:")
    (question,) = db.session.scalars(select(OutboundMessage.platform_message_id).where(
        OutboundMessage.template_key.like("ask_%")))
    reply(resident, "en?", question)  # our question named no report: the words are the resident's
    assert not any("M-" in text for text in resident.replies())
    other = RESIDENTS[kind](client, fake, USERS[kind][1])
    report = report_made(other)
    reply(resident, "en?", sent_id(report))  # another resident's message: not theirs to ask about
    assert not any(report.reference in text for text in resident.replies())


@pytest.mark.parametrize(("kind", "correction"), [
    ("webchat", "sorry moet nummer 12 zijn"), ("whatsapp", "oh wacht, het is nr 12"),
    ("telegram", "ik bedoel 12"), ("twilio", "nummer 12 bedoel ik"), ("signal", "it should be number 12"),
])
def test_a_number_corrected_in_other_words_keeps_the_words_and_moves_the_place(client, fake, kind, correction):
    resident = RESIDENTS[kind](client, fake, USERS[kind][0])
    resident.send_text("Losse stoeptegel bij Barentszstraat 4")
    resident.send_text(correction)  # within the quiet period
    assert quiet_period_over(resident) == "reported"
    (report,) = reports()
    assert (report.address_street, report.address_number) == ("Barentszstraat", "12")
    assert report.description == "Losse stoeptegel"


@pytest.mark.parametrize(("kind", "cancel"), [
    ("webchat", "laat maar, is al opgeruimd zie ik"), ("whatsapp", "ach hoeft niet meer, iemand heeft t al gedaan"),
    ("telegram", "never mind, someone fixed it"), ("messenger", "laat ook maar, de buren hebben het al gedaan"),
])
def test_a_cancel_inside_a_sentence_closes_the_draft_and_the_next_pin_makes_nothing(client, fake, kind, cancel):
    resident = RESIDENTS[kind](client, fake, USERS[kind][0])
    resident.send_text("Losse stoeptegel, je struikelt erover")
    resident.send_text(cancel)
    assert quiet_period_over(resident) == "nothing"
    answers = resident.replies()
    assert len(answers) == 1 and ("stoppen" in answers[0] or "stopped" in answers[0])
    resident.send_location(*BARENTSZSTRAAT_4)
    quiet_period_over(resident)
    assert reports() == []


def test_the_problem_gone_just_after_the_report_is_a_note_for_staff(client, fake):
    resident = RESIDENTS["whatsapp"](client, fake, USERS["whatsapp"][0])
    report = report_made(resident)
    resident.send_text("laat maar, is al opgeruimd zie ik")
    assert report.reference in resident.replies()[-1]
    notes = db.session.scalars(select(ReportEvent.note).where(ReportEvent.report_id == report.id,
                                                              ReportEvent.kind == "note")).all()
    assert any("al opgeruimd" in (note or "") for note in notes)


def test_two_problems_make_one_report_and_the_other_is_named(client, fake):
    resident = RESIDENTS["telegram"](client, fake, USERS["telegram"][0])
    resident.send_text("lantaarnpaal kapot en er ligt ook een stoeptegel los")
    resident.send_location(*BARENTSZSTRAAT_4)
    assert quiet_period_over(resident) == "reported"
    (report,) = reports()
    assert report.description == "lantaarnpaal kapot"
    assert report.category is not None and report.category.slug == "straatverlichting-openbare-klok"
    answers = resident.replies()
    assert report.reference in answers[-2] and "er ligt ook een stoeptegel los" in answers[-1]


def test_a_sticker_through_twilio_asks_nothing(client, fake):
    resident = RESIDENTS["twilio"](client, fake, USERS["twilio"][1])  # whatsapp:+316…
    sticker = payload("twilio", "whatsapp_sticker")
    resident._deliver({k: sticker[k] for k in ("NumMedia", "MessageType", "MediaContentType0", "MediaUrl0")})
    assert resident.replies() == [] and not (conversation_of(resident).draft or {}).get("photos")


def test_when_the_classifier_cannot_tell_two_problems_the_words_make_one_report(client, fake, monkeypatch):
    from meldingen.intake import reporting

    def unavailable(text, k=3):
        raise RuntimeError("no model yet")

    monkeypatch.setattr(reporting, "suggest_categories", unavailable)
    resident = RESIDENTS["whatsapp"](client, fake, USERS["whatsapp"][0])
    resident.send_text("lantaarnpaal kapot en er ligt ook een stoeptegel los")
    resident.send_location(*BARENTSZSTRAAT_4)
    assert quiet_period_over(resident) == "reported"
    (report,) = reports()
    assert report.description == "lantaarnpaal kapot en er ligt ook een stoeptegel los"
