"""Answers to residents' questions that are not reports ("hoe verleng ik mijn paspoort"), each with the phrases
that call for it and a link: kept by administrators beside the standard texts, general or an organisation's
own, Dutch or English. The intake (`intake/questions.py`) gives the first that fits at once."""

from __future__ import annotations

from sqlalchemy import or_, select

from meldingen.extensions import db
from meldingen.notify.models import QuestionAnswer

MAX_TITLE = 200
MAX_BODY = 2000
MAX_LINK = 500


class QuestionAnswerRefused(ValueError):
    """An answer that cannot be saved; the message (Dutch) says why."""


def phrases_of(answer: QuestionAnswer) -> list[str]:
    return [line.strip() for line in (answer.phrases or "").replace(",", "\n").splitlines() if line.strip()]


def answers_for(organisation_id: int | None, language: str) -> list[QuestionAnswer]:
    """The active answers in `language`: the organisation's own first, then the general ones, by position."""
    answers = db.session.scalars(select(QuestionAnswer).where(
        QuestionAnswer.active.is_(True), QuestionAnswer.language == language,
        or_(QuestionAnswer.organisation_id.is_(None), QuestionAnswer.organisation_id == organisation_id),
    )).all()
    return sorted(answers, key=lambda a: (a.organisation_id is None, a.position, a.id))


def save_question_answer(data: dict, answer: QuestionAnswer | None = None, *,
                         organisation_ids: list[int | None]) -> QuestionAnswer:
    """Create or change an answer from plain form data; `organisation_ids` are those the administrator keeps
    (None: the general answers). Raises QuestionAnswerRefused with a Dutch reason. Does not commit."""
    title = (data.get("title") or "").strip()
    body = (data.get("body") or "").strip()
    phrases = "\n".join(p.strip() for p in (data.get("phrases") or "").replace(",", "\n").splitlines() if p.strip())
    link = (data.get("link") or "").strip() or None
    language = (data.get("language") or "nl").strip()
    if not title or not body or not phrases:
        raise QuestionAnswerRefused("Geef een titel, de woorden waaraan u de vraag herkent en een antwoord.")
    if len(title) > MAX_TITLE or len(body) > MAX_BODY or len(phrases) > MAX_BODY:
        raise QuestionAnswerRefused(f"De titel mag hoogstens {MAX_TITLE} en het antwoord {MAX_BODY} tekens lang zijn.")
    if link is not None and (len(link) > MAX_LINK or not link.startswith(("https://", "http://"))):
        raise QuestionAnswerRefused("Een link begint met https:// (hoogstens 500 tekens).")
    if language not in ("nl", "en"):
        raise QuestionAnswerRefused("De taal is Nederlands (nl) of Engels (en).")
    organisation_id = data.get("organisation_id")
    if organisation_id not in organisation_ids or (answer is not None and answer.organisation_id not in organisation_ids):
        raise QuestionAnswerRefused("U beheert de antwoorden van deze organisatie niet.")
    raw_position = str(data.get("position") or "0").strip()
    if not raw_position.isdigit() or int(raw_position) > 10_000:
        raise QuestionAnswerRefused("De volgorde is een heel getal van 0 tot 10000.")
    if answer is None:
        answer = QuestionAnswer()
        db.session.add(answer)
    answer.title, answer.body, answer.phrases, answer.link, answer.language = title, body, phrases, link, language
    answer.organisation_id = organisation_id
    answer.position = int(raw_position)
    answer.active = bool(data.get("active", True))
    db.session.flush()
    return answer


DEFAULT_ANSWERS = [
    # (language, title, phrases, body, link)
    ("nl", "Paspoort of ID-kaart",
     "paspoort\nid-kaart\nidentiteitskaart\nid kaart",
     "Een paspoort of ID-kaart vraagt u aan bij de gemeente waar u woont. Maak daarvoor een afspraak op de "
     "website van uw gemeente en neem een pasfoto mee.",
     "https://www.rijksoverheid.nl/onderwerpen/paspoort-en-identiteitskaart"),
    ("nl", "Rijbewijs",
     "rijbewijs",
     "Een rijbewijs verlengt u bij uw gemeente. U vraagt het eerst aan bij het CBR als u een medische keuring "
     "nodig heeft.",
     "https://www.rijksoverheid.nl/onderwerpen/rijbewijs"),
    ("nl", "Grofvuil laten ophalen",
     "grofvuil ophalen\ngrofvuil opgehaald\ngrof vuil ophalen\ngrofvuil afspraak\ngrofvuil laten ophalen",
     "Grofvuil laat u ophalen op een afspraak: maak die op de website van uw gemeente. U kunt het ook zelf "
     "naar een afvalpunt brengen. Ligt er al grofvuil op straat dat daar niet hoort? Dat kunt u hier melden.",
     "https://www.amsterdam.nl/afval-hergebruik/grofvuil/"),
    ("nl", "Subsidie aanvragen",
     "subsidie",
     "Welke subsidies er zijn en hoe u ze aanvraagt, staat op de website van uw gemeente.",
     "https://www.amsterdam.nl/subsidies/"),
    ("nl", "Openingstijden",
     "openingstijden\nopeningstijd\nwanneer zijn jullie open\nwanneer open",
     "Onze medewerkers beantwoorden de chat op werkdagen van 9.00 tot 17.00 uur, niet op feestdagen. Meldingen "
     "kunt u hier altijd doen.",
     None),
    ("en", "Passport or ID card",
     "passport\nid card\nidentity card",
     "You apply for a passport or ID card at the municipality where you live: make an appointment on its "
     "website and bring a passport photo.",
     "https://www.government.nl/topics/identification-documents"),
    ("en", "Opening hours",
     "opening hours\nopening times\nwhen are you open\nare you open",
     "Our staff answer the chat on working days from 9:00 to 17:00, not on public holidays. You can report a "
     "problem here at any time.",
     None),
    ("en", "Bulky waste collection",
     "bulky waste\ncollect my bulky\nbulky rubbish",
     "Bulky waste is collected by appointment: make one on your municipality's website, or bring it to a "
     "recycling point yourself.",
     "https://www.amsterdam.nl/en/waste-recycling/bulky-waste/"),
]


def install_default_answers() -> int:
    """The shipped general answers, once (when there are no general answers yet). Returns how many."""
    if db.session.scalar(select(QuestionAnswer.id).where(QuestionAnswer.organisation_id.is_(None)).limit(1)):
        return 0
    for position, (language, title, phrases, body, link) in enumerate(DEFAULT_ANSWERS):
        db.session.add(QuestionAnswer(language=language, title=title, phrases=phrases, body=body, link=link,
                                      position=position, active=True))
    db.session.flush()
    return len(DEFAULT_ANSWERS)
