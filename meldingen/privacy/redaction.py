"""Redaction: take out of a resident's words what identifies a person, leaving a text the public may read.

What is found and replaced by a marker ("[telefoonnummer]", …):
- phone numbers, Dutch and international (Google's libphonenumber via `phonenumbers`, plus typed mobile numbers
  with a digit too few or too many, which that library rightly calls invalid but a resident still wrote);
- e-mail addresses;
- IBANs (checked by `python-stdnum`; a Dutch-shaped one is taken out even with a typo in its check digits);
- Dutch licence plates of every sidecode (1–14), with or without dashes;
- names after "ik ben", "mijn naam is", "ik heet", "groet(en)," "mvg", "I am", "my name is", "regards," and
  after "meneer/mevrouw/dhr./mevr./mr./mrs.";
- for categories about a person (a flag on the category): house numbers after a street name or "nummer".

Pure functions over text; no database, no Flask (the migration that back-fills public texts imports this).
Numbers that describe the problem stay: pole and container numbers, dates, times, postcodes and, outside
person-related categories, house numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import phonenumbers
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError

MARKERS = {
    "phone": "[telefoonnummer]",
    "email": "[e-mailadres]",
    "iban": "[rekeningnummer]",
    "plate": "[kenteken]",
    "name": "[naam]",
    "house_number": "[huisnummer]",
}
KINDS = tuple(MARKERS)


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int
    text: str


@dataclass
class Redaction:
    text: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def kinds(self) -> set[str]:
        return {f.kind for f in self.findings}


def redact(text: str | None, *, person_related: bool = False) -> Redaction:
    """The text with everything that identifies a person replaced by a marker, and what was found where."""
    text = text or ""
    findings = find_personal_data(text, person_related=person_related)
    parts, last = [], 0
    for finding in findings:
        parts.append(text[last:finding.start])
        parts.append(MARKERS[finding.kind])
        last = finding.end
    parts.append(text[last:])
    return Redaction("".join(parts), findings)


def redact_text(text: str | None, *, person_related: bool = False) -> str:
    return redact(text, person_related=person_related).text


def find_personal_data(text: str, *, person_related: bool = False) -> list[Finding]:
    """Non-overlapping findings in text order; where two overlap, the kind found first below wins."""
    candidates: list[Finding] = []
    for finder in (_emails, _ibans, _phones, _plates, _names):
        candidates.extend(finder(text))
    if person_related:
        candidates.extend(_house_numbers(text))
    chosen: list[Finding] = []
    for candidate in candidates:  # in priority order: keep a finding only where nothing stronger is
        if all(candidate.end <= c.start or candidate.start >= c.end for c in chosen):
            chosen.append(candidate)
    return sorted(chosen, key=lambda f: f.start)


# --- e-mail ------------------------------------------------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])")


def _emails(text: str):
    for m in _EMAIL.finditer(text):
        yield Finding("email", m.start(), m.end(), m.group())


# --- IBAN --------------------------------------------------------------------------------------------------

_IBAN = re.compile(r"(?<![\w])([A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]){11,30})(?![\w])")
_NL_IBAN_SHAPE = re.compile(r"NL\d{2}[A-Z]{4}\d{10}")


def _iban_shaped(compact: str) -> bool:
    """An IBAN by its check digits and its country's structure, or a Dutch-shaped one with a typo in its
    check digits (a typo still identifies the account holder). The bank's own national check is not asked:
    a resident's account number is personal data whether or not that check passes."""
    try:
        stdnum_iban.validate(compact, check_country=False)
    except ValidationError:
        return bool(_NL_IBAN_SHAPE.fullmatch(compact))
    return True


def _ibans(text: str):
    for m in _IBAN.finditer(text):
        raw = m.group(1)
        compact = raw.replace(" ", "").upper()
        # The regex may run on into the next word ("NL91 ABNA 0417 1643 00 graag"): trim whole groups.
        while compact and not _iban_shaped(compact):
            if " " not in raw:
                compact = ""
                break
            raw = raw.rsplit(" ", 1)[0]
            compact = raw.replace(" ", "").upper()
        if compact:
            yield Finding("iban", m.start(1), m.start(1) + len(raw), raw)


# --- phone numbers -----------------------------------------------------------------------------------------

# A typed mobile or international number that libphonenumber finds invalid (a digit too few or too many):
# 06 or +/00 with a country code, then digits with spaces, dashes or dots, 9 to 13 digits in all.
_PHONE_LIKE = re.compile(r"(?<![\w+])(?:\+|00)?\d[\d .\-()]{7,18}\d(?![\w])")


def _phones(text: str):
    found = []
    for match in phonenumbers.PhoneNumberMatcher(text, "NL", leniency=phonenumbers.Leniency.VALID):
        found.append(_balanced(Finding("phone", match.start, match.end, match.raw_string)))
    for m in _PHONE_LIKE.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        raw = m.group().strip()
        international = raw.startswith(("+", "00"))
        mobile = digits.startswith("06") and 9 <= len(digits) <= 11
        if (international and 10 <= len(digits) <= 15) or mobile:
            if all(m.end() <= f.start or m.start() >= f.end for f in found):
                found.append(_balanced(Finding("phone", m.start(), m.end(), m.group())))
    return found


def _balanced(finding: Finding) -> Finding:
    """Leave an unmatched bracket around a number in the text: "(0612345678)" keeps its brackets."""
    raw, start, end = finding.text, finding.start, finding.end
    if raw.startswith("(") and ")" not in raw:
        raw, start = raw[1:], start + 1
    if raw.endswith(")") and "(" not in raw:
        raw, end = raw[:-1], end - 1
    return Finding(finding.kind, start, end, raw)


# --- licence plates ----------------------------------------------------------------------------------------

# The Dutch sidecodes (RDW): L a letter, D a digit, groups separated by dashes.
SIDECODES = ["LL-DD-DD", "DD-DD-LL", "DD-LL-DD", "LL-DD-LL", "LL-LL-DD", "DD-LL-LL", "DD-LLL-D", "D-LLL-DD",
             "LL-DDD-L", "L-DDD-LL", "LLL-DD-L", "L-DD-LLL", "D-LL-DDD", "DDD-LL-D"]


def _sidecode_regex(code: str, separator: str) -> str:
    groups = code.split("-")
    return separator.join(
        "".join("[A-Za-z]" if c == "L" else r"\d" for c in group) for group in groups
    )


_PLATE_DASHED = re.compile(
    r"(?<![\w-])(?:" + "|".join(f"(?:{_sidecode_regex(c, '-')})" for c in SIDECODES) + r")(?![\w-])"
)
_PLATE_COMPACT = re.compile(
    r"(?<![\w-])(?:" + "|".join(f"(?:{_sidecode_regex(c, '')})" for c in SIDECODES) + r")(?![\w-])"
)
_PLATE_KEYWORD = re.compile(r"(kenteken|nummerbord|nummerplaat|plaat|licen[cs]e plate|plate|auto|busje|bus|"
                            r"scooter|brommer|wagen|car|van)\W{0,3}(nr\.?|nummer|number)?\W{0,3}$", re.I)
_POSTCODE = re.compile(r"\d{4}[A-Za-z]{2}")


def _plates(text: str):
    for m in _PLATE_DASHED.finditer(text):
        yield Finding("plate", m.start(), m.end(), m.group())
    for m in _PLATE_COMPACT.finditer(text):
        value = m.group()
        if not any(c.isalpha() for c in value) or not any(c.isdigit() for c in value):
            continue
        keyword = _PLATE_KEYWORD.search(text[max(0, m.start() - 25):m.start()])
        # Without dashes a plate is written in capitals, or named as one; 1234AB is a postcode unless named.
        if _POSTCODE.fullmatch(value) and not keyword:
            continue
        if value.isupper() or keyword:
            yield Finding("plate", m.start(), m.end(), value)


# --- names -------------------------------------------------------------------------------------------------

_PARTICLES = r"(?:van|de|der|den|het|'t|ter|ten|te|in|op|la|le|du|von|da|di|el|al|bin|ben)"
_CAP_WORD = r"(?:[A-ZÀ-ÖØ-Ý][a-zà-öø-ÿ'’]+(?:-[A-ZÀ-ÖØ-Ýa-zà-öø-ÿ][a-zà-öø-ÿ'’]+)*|[A-Z]\.(?:[A-Z]\.)*)"
_LOW_WORD = r"(?:[a-zà-öø-ÿ][a-zà-öø-ÿ'’]+(?:-[a-zà-öø-ÿ]+)*)"
# A capitalised name: "Jan", "J. de Vries", "Anne-Marie van der Berg", "Mohammed El Amrani".
_CAP_NAME = rf"{_CAP_WORD}(?:\s+(?:{_PARTICLES}\s+)*{_CAP_WORD}){{0,3}}"
# After a strong trigger residents also type names in lower case: "groetjes, jan de vries".
_ANY_NAME = rf"(?:{_CAP_WORD}|{_LOW_WORD})(?:\s+(?:{_PARTICLES}\s+)*(?:{_CAP_WORD}|{_LOW_WORD})){{0,2}}"

_STRONG = (r"mijn naam is|mijn naam:|naam:|ik heet|my name is|name:|met vriendelijke groet(?:en)?,?|"
           r"vriendelijke groet(?:en)?,?|hartelijke groet(?:en)?,?|groet(?:en|jes)?,|gr\.|gr,|mvg,?|m\.v\.g\.,?|"
           r"kind regards,?|best regards,?|regards,|greetings,")
_WEAK = (r"ik ben|i am|i'm|dit is|this is|groet(?:en|jes)?|(?:hoi|hallo|hey|hi|goedemorgen|goedemiddag|goedenavond|dag|"
         r"beste),? (?:u spreekt |je spreekt )?met")
_HONORIFIC = r"meneer|mevrouw|mevr\.?|mw\.?|dhr\.?|mr\.?|mrs\.?|ms\.?|buurman|buurvrouw|juffrouw"

# Words that follow "ik ben" / "I am" / a sign-off but are not names.
_NOT_NAMES = {
    "bang", "boos", "blij", "het", "de", "een", "erg", "heel", "zeer", "bijna", "al", "nu", "niet", "geen", "op",
    "in", "bij", "aan", "net", "vandaag", "gisteren", "morgen", "zelf", "ook", "nog", "wel", "zo", "dus", "en",
    "ik", "we", "wij", "u", "jij", "je", "hier", "daar", "buurtbewoner", "bewoner", "eigenaar", "huurder",
    "moeder", "vader", "dutch", "english", "nederlands", "engels", "nederlander", "amsterdammer", "not", "a",
    "an", "the", "very", "so", "at", "on", "here", "there", "from", "living", "writing", "calling", "sorry",
    "dank", "bedankt", "thanks", "alvast", "graag", "team", "gemeente", "melder", "uw", "onze", "mijn", "zijn",
    "hun", "haar", "bezorgd", "ongerust", "klaar", "gevallen", "weg", "thuis", "home", "worried", "afraid",
    "wondering", "concerned", "done", "happy", "annoyed", "angry", "tired", "bewoners", "voor", "met", "over",
    "van", "te", "tegen", "naar", "door", "om", "ja", "nee", "oke", "oké", "ok", "please", "pls", "rond",
    "momenteel", "echt", "uit", "allemaal", "iedereen", "buurt", "gewoon", "benieuwd", "namens", "blind", "slechtziend", "rolstoel", "oud", "ziek",
}
_TRIGGER_NAME = re.compile(rf"(?i:\b(?P<strong>{_STRONG})|\b(?P<weak>{_WEAK})\b)\s*(?P<name>{_ANY_NAME})")
_HONORIFIC_NAME = re.compile(rf"(?i:\b(?:{_HONORIFIC}))\s+(?P<name>{_CAP_NAME})")
_CAP_NAME_RE = re.compile(_CAP_NAME)


# A signature at the very end, after a comma, dash or new line: ", Jan de Vries". At least two words, so a
# lone street or place name ("…, Damrak") stays.
_SIGNATURE = re.compile(rf"(?:,|\n|\s-|\s–)\s*(?P<name>{_CAP_WORD}(?:\s+(?:{_PARTICLES}\s+)*{_CAP_WORD}){{1,3}})\s*[.!]?\s*$")
_PLACE_WORDS = {"amsterdam", "rotterdam", "utrecht", "haag", "emmen", "terneuzen", "centraal", "station", "centrum",
                "noord", "zuid", "oost", "west", "nieuw", "oud", "sint", "gemeente", "team", "afdeling"}
_STREET_END = re.compile(r"(?:straat|weg|laan|plein|gracht|kade|dijk|singel|park|hof|steeg|pad|dreef|markt|"
                         r"plantsoen|baan|ring|wal|burgwal|zijde|dam|haven|boulevard|allee)$", re.I)


def _names(text: str):
    m = _SIGNATURE.search(text)
    if m is not None:
        words = [w.lower().strip(".") for w in m.group("name").split()]
        if not any(w in _PLACE_WORDS or _STREET_END.search(w) for w in words):
            yield Finding("name", m.start("name"), m.end("name"), m.group("name"))
    for m in _TRIGGER_NAME.finditer(text):
        candidate = m.group("name")
        if m.group("weak"):
            name = _CAP_NAME_RE.match(candidate)  # after "ik ben" only a capitalised word is a name
            if name is None:
                continue
            candidate = name.group()
        candidate = _trim_name(candidate)
        if candidate:
            start = m.start("name")
            yield Finding("name", start, start + len(candidate), candidate)
    for m in _HONORIFIC_NAME.finditer(text):
        candidate = _trim_name(m.group("name"))
        if candidate:
            yield Finding("name", m.start("name"), m.start("name") + len(candidate), candidate)


def _trim_name(candidate: str) -> str:
    """Keep the leading words that can be a name: stop at the first word that is not one, drop particles at
    the end ("Jan van" of "Jan van harte")."""
    words = candidate.split()
    kept: list[str] = []
    for index, word in enumerate(words):
        bare = word.lower().strip(".,;:!?")
        # A particle goes on a name ("Jan de Vries"), or starts a surname written alone ("mevrouw De Groot").
        particle = re.fullmatch(_PARTICLES, bare) is not None
        leading_surname = particle and not kept and word[:1].isupper() and index + 1 < len(words)
        if bare in _NOT_NAMES and not ((kept and particle) or leading_surname):
            break
        kept.append(word)
    while kept and re.fullmatch(_PARTICLES, kept[-1].lower()):
        kept.pop()
    if not kept:
        return ""
    # Cut the matched text back to the kept words, keeping the original spacing.
    end = 0
    for word in kept:
        end = candidate.index(word, end) + len(word)
    return candidate[:end].rstrip(".,") if not re.search(r"\b[A-Z]\.$", candidate[:end]) else candidate[:end]


# --- house numbers (person-related categories only) --------------------------------------------------------

_STREET_SUFFIX = (r"straat|weg|laan|plein|gracht|kade|dijk|singel|park|hof|steeg|pad|dreef|markt|plantsoen|"
                  r"baan|ring|wal|burgwal|zijde|erf|veld|hout|hoven|dam|sloot|haven|boulevard|allee|pleintje|"
                  r"straatje|hof|kwartier|kamp|oord|berg|water|stede|lei|vliet|gang|poort|brink|es")
_HOUSE_NUMBER = re.compile(
    rf"(?:\b[A-Za-zÀ-ÿ'’\-]+(?:{_STREET_SUFFIX})\b|\b(?:huisnummer|huisnr\.?|nummer|nr\.?|no\.?|number)\s*)"
    rf"\s*(?P<number>\d{{1,5}}(?:\s?[-/]\s?\d{{1,4}}|\s?[A-Za-z](?![A-Za-z])|\s?(?:hs|bis|huis|I{{1,3}})\b)?"
    rf"(?:[-\s](?:hoog|h)\b)?)(?![\d])",
    re.I,
)


def _house_numbers(text: str):
    for m in _HOUSE_NUMBER.finditer(text):
        yield Finding("house_number", m.start("number"), m.end("number"), m.group("number"))
