"""What a resident's message means, before it fills any slot: greeting, thanks, status question, correction,
cancel, a request for a person, a message that may be about a report already made, or a (new) problem.

The words are data (`phrases.json`, per intent and language, normalised); the decisions are small functions
over the normalised text and the conversation's state (`ConversationState`, plain data). Typos are forgiven
with rapidfuzz: a word matches a known word at a similarity of `WORD_SIMILARITY`, a phrase occurs in a
message at `PHRASE_SIMILARITY`. Chat spelling ("hoe staat t", "mn melding", "m'n") is read as written out
before a phrase is looked for (`respell`, the language's `chat_spelling`), in the message and the phrases
alike. A reference is read only where it is written as one (`reports.references.reference_in_message`).
Nothing here touches the database.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from rapidfuzz import fuzz, process

from meldingen.reports.references import reference_in_message

PHRASES_FILE = Path(__file__).with_name("phrases.json")
WORD_SIMILARITY = 80  # "bedamkt" ~ "bedankt", "thnaks" ~ "thanks"
PHRASE_SIMILARITY = 90  # "hoe staat het met mijn meling" ~ "hoe staat het met mijn melding"
SHORT_WORD = 4  # words this short must be spelt right: "top" must not match "stop"
# A message longer than this is not "only thanks" or "only a greeting", whatever its words.
MAX_COURTESY_WORDS = 8

INTENTS = ("empty", "greeting", "thanks", "cancel", "start_over", "status", "person", "correction",
           "about_existing", "problem")

_EMOJI = re.compile(r"[\U0001F300-\U0001FAFF\u2600-\u27BF\u2764\ufe0f]+")
_NOT_WORD = re.compile(r"[^a-z0-9/\- ]+")


@dataclass(frozen=True)
class ConversationState:
    """What the decision needs to know about the conversation, as plain values."""

    collecting: bool = True  # False once the draft became a report (and no new draft started)
    has_draft: bool = False  # the draft holds a photo, place or words
    has_location: bool = False
    has_description: bool = False
    recently_reported: bool = False  # a report was made in this conversation a short while ago
    has_open_report: bool = False  # the resident has a report that is not closed
    replying_to_report: bool = False  # the message is a reply to our message that named one report


@dataclass(frozen=True)
class Understanding:
    intent: str
    text: str  # the words left once the intent's own words are taken off ("Hallo, boom om" → "boom om")
    reference: str | None = None
    language: str | None = None  # the language of the phrase that matched, when one did


def normalise(text: str | None) -> str:
    """Lower case, accents folded, emoji kept as words, punctuation gone, single spaces."""
    text = (text or "").lower().replace("\ufe0f", "")
    text = _EMOJI.sub(lambda m: " " + " ".join(m.group(0)) + " ", text)
    folded = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    kept = []
    for char in folded:
        if _EMOJI.fullmatch(char):
            kept.append(char)
        elif _NOT_WORD.fullmatch(char):
            kept.append(" ")
        else:
            kept.append(char)
    return " ".join("".join(kept).replace("'", " ").split()).strip("- ")


@dataclass(frozen=True)
class _Vocabulary:
    words: frozenset[str]
    core: frozenset[str]


@lru_cache(maxsize=1)
def phrases() -> dict:
    return json.loads(PHRASES_FILE.read_text(encoding="utf-8"))


@cache
def _vocabulary(intent: str) -> _Vocabulary:
    data = phrases()
    fillers = {w for words in data["fillers"].values() for w in words}
    words = {normalise(w) or w for lang in data[intent]["words"].values() for w in lang}
    return _Vocabulary(words=frozenset(words | fillers), core=frozenset(normalise(w) or w
                                                                        for w in data[intent]["core"]))


@cache
def _spelling(language: str) -> tuple[re.Pattern[str], dict[str, str]] | None:
    """The language's chat spellings as one pattern over whole words (longest first) and what each stands for."""
    table = {normalise(k): normalise(v) for k, v in phrases().get("chat_spelling", {}).get(language, {}).items()}
    if not table:
        return None
    alternatives = "|".join(re.escape(k) for k in sorted(table, key=len, reverse=True))
    return re.compile(rf"(?<!\S)(?:{alternatives})(?!\S)"), table


def respell(plain: str, language: str) -> str:
    """Normalised text with the language's chat spelling written out: "hoe staat t met mn melding" → "hoe staat
    het met mijn melding". Only phrases are looked for in the result; the resident's words are kept as typed."""
    spelling = _spelling(language)
    if spelling is None:
        return plain
    pattern, table = spelling
    return pattern.sub(lambda m: table[m.group(0)], plain)


@cache
def _phrase_list(intent: str, key: str = "phrases") -> tuple[tuple[str, str], ...]:
    """(normalised phrase in written-out spelling, language), longest first."""
    items = [(respell(normalise(p) or p, lang), lang) for lang, ps in phrases()[intent].get(key, {}).items()
             for p in ps]
    return tuple(sorted(set(items), key=lambda item: -len(item[0])))


def known_word(word: str, vocabulary: frozenset[str]) -> str | None:
    """The known word `word` stands for, allowing a typo in longer words; None when it is none of them."""
    if word in vocabulary:
        return word
    if len(word) < SHORT_WORD:
        return None
    found = process.extractOne(word, vocabulary, scorer=fuzz.ratio, score_cutoff=WORD_SIMILARITY)
    return found[0] if found and len(found[0]) >= SHORT_WORD else None


def only_words_of(plain: str, intent: str) -> bool:
    """The message says nothing but this intent: all its words are the intent's or fillers, one is its core."""
    words = plain.split()
    if not words or len(words) > MAX_COURTESY_WORDS:
        return False
    vocabulary = _vocabulary(intent)
    matched = [known_word(w, vocabulary.words) for w in words]
    if any(m is None for m in matched):
        return False
    return any(m in vocabulary.core for m in matched) or any(
        known_word(w, vocabulary.core) for w in words)


def leading_words_of(plain: str, intent: str) -> int:
    """How many words at the start of the message belong to this intent ("hallo goedemorgen er ligt …" → 2)."""
    vocabulary = _vocabulary(intent)
    count = 0
    for word in plain.split():
        if known_word(word, vocabulary.core) is None:
            break
        count += 1
    return count


def phrase_in(plain: str, intent: str, key: str = "phrases") -> tuple[str, str] | None:
    """The first (longest) phrase of the intent that occurs in the message, allowing typos (not in its "exact"
    phrases); with its language. Both are read in the language's written-out chat spelling."""
    spelled: dict[str, str] = {}

    def in_spelling(language: str) -> str:
        if language not in spelled:
            spelled[language] = respell(plain, language)
        return spelled[language]

    for phrase, language in _phrase_list(intent, key):
        if f" {phrase} " in f" {in_spelling(language)} ":
            return phrase, language
    for phrase, language in _phrase_list(intent, key):
        text = in_spelling(language)
        if len(phrase) >= 8 and len(text) >= len(phrase) - 2 and \
                fuzz.partial_ratio(phrase, text) >= PHRASE_SIMILARITY:
            return phrase, language
    if key == "phrases":
        for phrase, language in _phrase_list(intent, "exact"):
            if f" {phrase} " in f" {in_spelling(language)} ":
                return phrase, language
    return None


def starting_marker(plain: str, intent: str = "correction") -> tuple[str, str] | None:
    """The marker the message starts with ("nee het is", "sorry i meant"), longest first."""
    for marker, language in _phrase_list(intent, "markers"):
        spelled = respell(plain, language)
        if spelled == marker or spelled.startswith(marker + " "):
            return marker, language
    return None


def strip_words(text: str, count: int) -> str:
    """The original text without its first `count` words (punctuation after them too)."""
    if count <= 0:
        return text.strip()
    parts = re.split(r"(\s+)", text.strip())
    words_seen, index = 0, 0
    while index < len(parts) and words_seen < count:
        if parts[index].strip() and normalise(parts[index]):
            words_seen += 1
        index += 1
    return "".join(parts[index:]).strip().lstrip(",.!:;-– ").strip()


def understand(text: str | None, state: ConversationState) -> Understanding:
    """What the message means. Order matters: the more specific meaning wins over the general one."""
    raw = (text or "").strip()
    plain = normalise(raw)
    if not plain:
        if state.replying_to_report and "?" in raw:
            return Understanding("status", "")  # "??" in reply to the reference
        return Understanding("empty", "")
    reference = reference_in_message(raw)
    if state.replying_to_report and "?" in raw and reference is None and (
            only_words_of(plain, "nudge") or only_words_of(plain, "greeting")):
        return Understanding("status", "")  # "hallo??" in reply to the reference

    greeting_words = leading_words_of(plain, "greeting")
    if only_words_of(plain, "greeting"):
        return Understanding("greeting", "")
    if only_words_of(plain, "thanks"):
        return Understanding("thanks", "")
    if only_words_of(plain, "cancel"):
        return Understanding("cancel", "")
    found = phrase_in(plain, "start_over")
    if found and found[0] == plain:
        return Understanding("start_over", "", language=found[1])

    # Courtesy words in front ("Hallo, …", "Bedankt! …") do not change what the rest means.
    rest_raw, rest = raw, plain
    leading = greeting_words or leading_words_of(plain, "thanks")
    if leading:
        rest_raw = strip_words(raw, leading)
        rest = normalise(rest_raw)
        if not rest:
            return Understanding("greeting" if greeting_words else "thanks", "")

    if reference is not None:
        return Understanding("status", rest_raw, reference=reference)
    found = problem_gone(rest)
    if found:  # "laat maar, is al opgeruimd zie ik": the words are not a report
        return Understanding("cancel", rest_raw, language=found[1])
    found = phrase_in(rest, "status")
    if found:
        return Understanding("status", rest_raw, language=found[1])
    if state.replying_to_report and (only_words_of(rest, "nudge") or phrase_in(rest, "about_existing")):
        return Understanding("status", rest_raw)  # "en? nog steeds niks" in reply to the reference
    found = phrase_in(rest, "person")
    if found and not state.has_draft:
        return Understanding("person", rest_raw, language=found[1])

    marker = starting_marker(rest)
    if marker and (state.has_draft or state.recently_reported):
        corrected = strip_words(rest_raw, len(marker[0].split()))
        if normalise(corrected):
            return Understanding("correction", corrected, language=marker[1])
    if (state.has_draft or state.recently_reported) and house_number_only(rest) is not None:
        cue = correction_cue(rest)
        if cue is not None:  # "oh wacht, het is nr 12", "nummer 12 bedoel ik"
            return Understanding("correction", rest_raw, language=cue)

    found = phrase_in(rest, "about_existing")
    if found and state.has_open_report and not (state.collecting and state.has_draft):
        return Understanding("about_existing", rest_raw, language=found[1])
    return Understanding("problem", rest_raw)


# --- the problem is gone: "laat maar, is al opgeruimd zie ik", "never mind, someone fixed it" ---

INTERJECTIONS = frozenset({"ach", "och", "oh", "o", "ah", "ahh", "eh", "uh", "hmm", "nou", "oja", "oke", "ok", "okay",
                           "sorry", "oeps", "oops", "nee", "no", "well", "ja", "yes", "hey", "he", "dan", "maar"})
# "laat maar weten wanneer": a start that asks to be told, not to stop
_NOT_A_CANCEL_AFTER = frozenset({"weten", "horen", "zien", "komen", "know", "me"})
# A question about the problem ("is het al opgeruimd?") is not news that it is gone.
_QUESTION_STARTS = ("is het ", "is dat ", "is dit ", "zijn ze ", "zijn die ", "wordt het ", "wanneer ", "heeft iemand ",
                    "hebben jullie ", "is it ", "has it ", "has anyone ", "have you ", "when ", "will ", "did ")


def problem_gone(plain: str) -> tuple[str, str] | None:
    """The message stops the report in words of its own: it starts or ends with a cancel ("laat maar, …", "ach
    hoeft niet meer", "never mind, …", "…, laat maar") or says the problem is gone ("iemand heeft t al gedaan", "someone fixed it").
    Not a question ("is het al opgeruimd?"), and not "laat maar weten …". (phrase, language) or None."""
    words = plain.split()
    lead = 0
    while lead < len(words) - 1 and words[lead] in INTERJECTIONS:
        lead += 1
    for start in range(lead + 1):  # "no need, …" starts with a cancel, "oh never mind, …" after a sigh
        rest = " ".join(words[start:])
        for phrase, language in _phrase_list("cancel", "starts"):
            spelled = respell(rest, language)
            if spelled == phrase or spelled.startswith(phrase + " "):
                after = spelled[len(phrase):].split()
                if not after or after[0] not in _NOT_A_CANCEL_AFTER:
                    return phrase, language
            if start == 0 and spelled.endswith(" " + phrase):  # "de container is al geleegd, laat maar"
                return phrase, language
    if plain.startswith(_QUESTION_STARTS):
        return None
    for phrase, language in _phrase_list("cancel", "gone"):
        if f" {phrase} " in f" {respell(plain, language)} ":
            return phrase, language
    return None


# --- the number in a correction: "nee, het is bij nummer 12" ---

_NUMBER_ONLY = re.compile(r"^(?P<number>\d{1,5})\s?(?P<letter>[a-z])?(?:\s?-\s?(?P<suffix>[a-z0-9]{1,4}))?$")


def house_number_only(text: str) -> str | None:
    """"bij nummer 12", "nr 12a", "het is 14-2": the house number when that is all the words say, else None."""
    words = normalise(text).split()
    kept = [w for w in words if w not in _number_fillers()]
    candidate = " ".join(kept)
    match = _NUMBER_ONLY.match(candidate)
    if not match:
        return None
    number = match.group("number") + (match.group("letter") or "").upper()
    if match.group("suffix"):
        number += "-" + match.group("suffix").upper()
    return number


@cache
def _number_fillers() -> frozenset[str]:
    """The words around a corrected number: "nummer", "bij", and the words that say it is a correction
    ("sorry, moet nummer 12 zijn", "oh wacht, het is nr 12", "ik bedoel 12")."""
    data = phrases()
    words = {w for lang in data["number_words"].values() for w in lang}
    for key in ("markers", "cues"):
        words |= {w for lang in data["correction"][key].values() for p in lang for w in normalise(p).split()}
    return frozenset(words | INTERJECTIONS)


def correction_cue(plain: str) -> str | None:
    """The language of a word in the message that says it corrects what was sent ("bedoel", "moet", "meant")."""
    words = set(plain.split())
    for language, cues in phrases()["correction"]["cues"].items():
        if any(set(normalise(cue).split()) <= words for cue in cues):
            return language
    return None
