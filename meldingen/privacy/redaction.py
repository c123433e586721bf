"""Redaction: take out of a resident's words what identifies a person, leaving a text the public may read.

What is found and replaced by a marker ("[telefoonnummer]", …):
- phone numbers, Dutch and international (Google's libphonenumber via `phonenumbers`, plus typed mobile numbers
  with a digit too few or too many, which that library rightly calls invalid but a resident still wrote);
- e-mail addresses, also written around the @ ("naam [at] provider.nl", "a.b(at)c.com");
- citizen service numbers (BSN: nine digits that pass the eleven-test, however grouped, unless a pole's);
- IBANs (checked by `python-stdnum`; a Dutch-shaped one is taken out even with a typo in its check digits);
- Dutch licence plates of every sidecode (1–14), with or without dashes;
- names after "ik ben", "mijn naam is", "ik heet", "groet(en)," "mvg", "I am", "my name is", "regards," and
  after "meneer/mevrouw/de heer/dhr./mevr./mr./mrs." (not a street named after one: "Mr. Visserplein"); names
  that close a message after "Liefs,", "Bedankt!", "Thanks,", "Groetjes" or a dash ("- Tom"); names after a
  family word ("mijn zoon Daan", "my son Oliver"); initials with a surname anywhere ("W. van den Berg", which
  is all that is left when a chat took the greeting away);
- for categories about a person (a flag on the category): house numbers after a street name or "nummer",
  except a public building's ("het Rijksmuseum, Museumstraat 1").

Pure functions over text; no database, no Flask (the migration that back-fills public texts imports this).
Numbers that describe the problem stay: pole and container numbers, dates, times, postcodes and, outside
person-related categories, house numbers. Organisations that sign ("Bewonerscommissie Oost") are no person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import phonenumbers
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError

from meldingen.privacy.findings import Finding
from meldingen.privacy.names import find_names as _names

MARKERS = {
    "phone": "[telefoonnummer]",
    "email": "[e-mailadres]",
    "bsn": "[burgerservicenummer]",
    "iban": "[rekeningnummer]",
    "plate": "[kenteken]",
    "name": "[naam]",
    "house_number": "[huisnummer]",
}
KINDS = tuple(MARKERS)


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
    for finder in (_emails, _bsns, _ibans, _phones, _plates, _names):
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


# The @ and the dots written out, as residents do to fool spam robots: "jan [at] provider.nl", "a(at)b.com".
_AT = r"\s*(?:\[at\]|\(at\)|\{at\}|\[@\]|\(@\)|\[ at \])\s*"
_DOT = r"(?:\s*(?:\[dot\]|\(dot\)|\{dot\}|\[punt\]|\(punt\))\s*|\.)"
_EMAIL_WRITTEN = re.compile(rf"(?i)(?<![\w.+-])[\w.+-]+{_AT}[\w-]+(?:{_DOT}[\w-]+)*{_DOT}[a-z]{{2,}}(?![\w-])")


def _emails(text: str):
    for m in _EMAIL.finditer(text):
        yield Finding("email", m.start(), m.end(), m.group())
    for m in _EMAIL_WRITTEN.finditer(text):
        yield Finding("email", m.start(), m.end(), m.group())


# --- BSN (citizen service number) ----------------------------------------------------------------------------

_BSN = re.compile(r"(?<![\w.,-])(\d{9}|\d{4}[ .]\d{2}[ .]\d{3}|\d{3}[ .]\d{3}[ .]\d{3}|\d{2}[ .]\d{3}[ .]\d{2}[ .]\d{2})"
                  r"(?![\w]|[.,-]\d)")
# A number on a pole, a container or an order is not a person's, even when it passes the eleven-test.
_ASSET_BEFORE = re.compile(r"(?i)(paal|mast|lichtmast|lantaarnpaal|container|bak|nr\.?|nummer|order\w*|kast|"
                           r"zuil|boom|bord|lijn|bus|ticket|zaak\w*|kenmerk|melding\w*)\W{0,3}$")
_BSN_NAMED = re.compile(r"(?i)(bsn|burgerservice|sofi)\S*\W{0,12}$")


def bsn_valid(digits: str) -> bool:
    """The eleven-test of the BSN: 9·d1 + 8·d2 + … + 2·d8 − d9 is a multiple of 11 (and not all zeros)."""
    if len(digits) != 9 or not digits.isdigit() or digits == "0" * 9:
        return False
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True)) - int(digits[8])
    return total % 11 == 0


def _bsns(text: str):
    for m in _BSN.finditer(text):
        digits = re.sub(r"\D", "", m.group(1))
        before = text[max(0, m.start() - 30):m.start()]
        if not bsn_valid(digits) or (_ASSET_BEFORE.search(before) and not _BSN_NAMED.search(before)):
            continue
        yield Finding("bsn", m.start(1), m.end(1), m.group(1))


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


# A date or a time of day ("06-11-2024 14:30", "12-03-2025 om 08:15") is no phone number.
_DATE_OR_TIME = re.compile(r"(?<![\w-])(?:\d{1,2}[-/.]\d{1,2}[-/.](?:\d{4}|\d{2})(?:\s+(?:om\s+)?\d{1,2}[:.]\d{2})?|"
                           r"\d{1,2}:\d{2})(?![\w-])")


def _phones(text: str):
    dates = [(m.start(), m.end()) for m in _DATE_OR_TIME.finditer(text)]
    return [f for f in _phone_candidates(text) if not _MUNICIPAL_NUMBER.fullmatch(f.text.strip())
            and not any(start < f.end and f.start < end and _mostly_date(f, start, end) for start, end in dates)]


# The municipalities' own public number: 14 and the area code ("14 020", "14020").
_MUNICIPAL_NUMBER = re.compile(r"14[ -]?0\d{2,3}")


def _mostly_date(finding: Finding, start: int, end: int) -> bool:
    """A phone finding that is a date (and perhaps a time after it), not a number that happens to touch one."""
    return start <= finding.start + 1 and finding.end <= end + 4


def _phone_candidates(text: str):
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


# A public building's address is no one's home: "het Rijksmuseum, Museumstraat 1" keeps its number.
_PUBLIC_BUILDING = re.compile(r"(?i)(museum|bibliotheek|school|kerk|moskee|synagoge|station|ziekenhuis|gemeentehuis|"
                              r"stadhuis|stadskantoor|theater|schouwburg|bioscoop|winkel|supermarkt|albert heijn|jumbo|"
                              r"lidl|aldi|buurthuis|buurtcentrum|sporthal|zwembad|politiebureau|apotheek|huisarts\w*|"
                              r"restaurant|café|cafe|hotel|kantoor|bedrijf|fabriek|park)\w*[^.!?\n]{0,40}$")


def _house_numbers(text: str):
    for m in _HOUSE_NUMBER.finditer(text):
        if _PUBLIC_BUILDING.search(text[max(0, m.start() - 60):m.start()]):
            continue
        yield Finding("house_number", m.start("number"), m.end("number"), m.group("number"))
