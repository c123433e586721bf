"""Questions that are not reports ("hoe verleng ik mijn paspoort", "wanneer wordt het grofvuil opgehaald", "what
are your opening hours"): never a draft, never "where is the problem?". A question that holds the phrases of
one of the organisation's answers (`notify/question_answers.py`) gets that answer, with its link, at once; any
other goes to the shared inbox with its reason, and the resident is told honestly when a person will answer
(the organisation's office hours, Dutch public holidays closed: `organisations/hours.py`).

What a message about a problem in public space says ("er ligt grofvuil naast de container", "de lamp is
kapot, wanneer wordt dat gemaakt?") is not a question here: it goes on to the slots as before.
"""

from __future__ import annotations

from rapidfuzz import fuzz

from meldingen.intake.draft import Intake, flag_for_person
from meldingen.intake.understanding import normalise
from meldingen.notify.question_answers import answers_for, phrases_of
from meldingen.organisations.hours import availability, describe_moment
from meldingen.timeutil import utcnow

# A question starts so (Dutch and English, normalised: lower case, no punctuation).
QUESTION_STARTS = (
    "hoe ", "wanneer ", "waar ", "wat ", "waarom ", "welke ", "wie ", "hoelang ", "hoe lang ", "hoeveel ",
    "kan ik ", "kun ik ", "kunnen jullie ", "kunt u ", "mag ik ", "moet ik ", "heb ik ", "is het mogelijk ",
    "weet iemand ", "weten jullie ", "zijn jullie ", "hebben jullie ", "vraagje ", "vraag ", "ik heb een vraag",
    "ik wil graag weten", "ik wil weten", "graag info", "info over ",
    "how ", "when ", "where ", "what ", "why ", "which ", "who ", "can i ", "could i ", "can you ", "could you ",
    "do you ", "do i ", "are you ", "is there ", "is it possible ", "i have a question", "question ",
)
# What residents ask a municipality about that is not a problem in public space.
SERVICE_TOPICS = (
    "paspoort", "id kaart", "identiteitskaart", "rijbewijs", "subsidie", "vergunning", "belasting", "aanslag",
    "uitkering", "bijstand", "toeslag", "afspraak", "openingstijden", "openingstijd", "verhuizing", "verhuizen",
    "trouwen", "huwelijk", "geboorteaangifte", "uittreksel", "parkeervergunning", "ophaaldag", "afvalkalender",
    "passport", "id card", "driving licence", "driver s license", "permit", "subsidy", "grant", "tax",
    "appointment", "opening hours", "opening times", "benefits",
)
# Words of a problem in public space: a message with one of these is a report (or a question about one).
PROBLEM_WORDS = frozenset((
    "kapot", "kapotte", "stuk", "defect", "defecte", "gebroken", "lekke", "vieze", "volle", "vol", "verstopte",
    "scheve", "losliggende", "ligt", "liggen", "lekt", "lekkage", "gat", "gaten", "omgevallen", "omgewaaid",
    "los", "losse", "loszitten", "vies", "gedumpt", "dumping", "zwerfafval", "overlast", "verstopt", "overvol",
    "kuil", "verzakt", "scheef", "onveilig", "scheur", "graffiti", "ratten", "rat", "gevaarlijk", "beschadigd",
    "broken", "pothole", "fallen", "leaking", "loose", "overflowing", "dumped", "blocked", "damaged", "litter",
    "rubbish", "dangerous", "rats", "mice", "vermin", "graffitied", "vandalised", "vandalized", "flooded",
))
# A phrase of an answer occurs in a question at this similarity, a word of one word at WORD_SIMILARITY (typos:
# "paspoord", "subsidi", "grofvuil opgehaalt").
PHRASE_SIMILARITY = 90
WORD_SIMILARITY = 80


PROBLEM_PHRASES = ("werkt niet", "doet het niet", "brandt niet", "gaat niet", "not working", "doesn t work",
                   "does not work")


def is_problem(plain: str) -> bool:
    return any(word in PROBLEM_WORDS for word in plain.split()) or any(p in plain for p in PROBLEM_PHRASES)


def is_question(plain: str, asked: bool) -> bool:
    """In question form (a "?" or a question's first words), or about a service that is not public space."""
    if asked or plain.startswith(QUESTION_STARTS) or f"{plain} ".startswith(QUESTION_STARTS):
        return True
    return any(_occurs(topic, plain) for topic in SERVICE_TOPICS)


def _occurs(phrase: str, plain: str) -> bool:
    phrase = normalise(phrase)
    if not phrase:
        return False
    if f" {phrase} " in f" {plain} ":
        return True
    if " " not in phrase:  # one word: a typo of it ("paspoord", "subsidi")
        # A typo keeps the first letter and about the length: "running" is no "vergunning".
        return len(phrase) >= 6 and any(len(word) >= 5 and word[0] == phrase[0] and abs(len(word) - len(phrase)) <= 2
                                        and fuzz.ratio(phrase, word) >= WORD_SIMILARITY for word in plain.split())
    return fuzz.partial_ratio(phrase, plain) >= PHRASE_SIMILARITY


def find_answer(plain: str, organisation_id: int | None, language: str):
    """The first of the organisation's (then the general) answers whose phrases occur in the question."""
    for answer in answers_for(organisation_id, language):
        if any(_occurs(phrase, plain) for phrase in phrases_of(answer)):
            return answer
    return None


def answer_question(intake: Intake, text: str, cause: str) -> bool:
    """When `text` is a question that is not a report: answer it, or leave it to a person and say when one
    answers. True when it was a question (the caller does nothing more with the message)."""
    plain = normalise(text)
    if not plain or is_problem(plain):
        return False
    asked = "?" in text
    if not is_question(plain, asked):
        return False
    collecting = intake.conversation.state != "reported"
    answer = find_answer(plain, _organisation_of(intake), intake.language)
    if answer is None and collecting and intake.has_content() and not any(
            _occurs(topic, plain) for topic in SERVICE_TOPICS):
        return False  # mid-draft, a question about the report itself ("moet ik er een foto bij doen?")
    if answer is not None:
        body = answer.body + (f"\n{answer.link}" if answer.link else "")
        intake.reply("question_answer", cause, values={"answer": body})
    else:
        flag_for_person(intake.conversation, f"vraag, geen melding: {text.strip()}")
        now = utcnow()
        when = availability(_organisation_of(intake), now)
        if when.open_now or when.next_opening is None:
            intake.reply("question_for_person", cause)
        else:
            intake.reply("question_for_person_closed", cause,
                         values={"when": describe_moment(when.next_opening, now, intake.language)})
    intake.save()
    return True


def _organisation_of(intake: Intake) -> int | None:
    """The organisation whose answers and hours apply: the conversation's (after a report), else its channel's."""
    if intake.conversation.organisation_id is not None:
        return intake.conversation.organisation_id
    channel_id = intake.conversation.channel_id or intake.reporter.channel_id
    if channel_id is None:
        return None
    from meldingen.channels.models import Channel
    from meldingen.extensions import db

    channel = db.session.get(Channel, channel_id)
    return channel.organisation_id if channel is not None else None
