"""Names in a resident's words: after a trigger ("mijn naam is", "groeten,"), a title ("meneer", "de heer"), a
relative ("mijn zoon"), a sign-off that closes the message ("Liefs, Sanne", "- Tom"), or initials with a surname
anywhere ("W. van den Berg"). Streets named after a person ("Mr. Visserplein") and groups that sign
("Bewonerscommissie Oost") are no person. Part of the redaction (`meldingen.privacy.redaction`).
"""

from __future__ import annotations

import re

from meldingen.privacy.findings import Finding

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
_HONORIFIC = r"meneer|mevrouw|mevr\.?|mw\.?|dhr\.?|(?:de )?heer|fam\.?|familie|mr\.?|mrs\.?|ms\.?|buurman|buurvrouw|juffrouw"

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
    "momenteel", "echt", "uit", "allemaal", "iedereen", "buurt", "gewoon", "benieuwd", "namens", "bel", "belt",
    "bellen", "mail", "mailen", "app", "appen", "stuur", "laat", "zie", "hoor", "tot", "me", "mij", "terug",
    "succes", "fijne", "fijn", "have", "nice", "good", "best", "blind", "slechtziend", "rolstoel", "oud", "ziek",
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


# Who signs a message without a greeting word of the old kind: "Liefs, Sanne", "Bedankt! Jeroen", "Thanks, Tom".
# Only a capitalised name that closes the message (or its line): "Bedankt! Fijne dag nog" keeps its words.
_SIGNOFF = re.compile(rf"(?i:\b(?:liefs|bedankt|alvast bedankt|thanks|thank you|dankjewel|dank je wel|dank u wel|"
                      rf"groetjes(?: van)?|cheers|doei|kusjes)\b)[\s,!.:]*(?P<name>{_CAP_NAME})[ \t]*[.!]?[ \t]*(?=\n|$)")
# A dash and one capitalised word at the very end: "… in de gracht - Tom".
_DASH_SIGNATURE = re.compile(rf"(?:\s[-–]|\n[-–]?)\s*(?P<name>{_CAP_WORD})\s*[.!]?\s*$")
# A relative or neighbour named: "mijn zoon Daan", "my son Oliver", "oma Bep".
_FAMILY = (r"(?:mijn|m'n|mn|onze|my|our)\s+(?:zoon(?:tje)?|dochter(?:tje)?|man|vrouw|vriend(?:in)?|buurman|buurvrouw|"
           r"moeder|vader|broer(?:tje)?|zus(?:je)?|kind|partner|opa|oma|tante|oom|schoonmoeder|schoonvader|"
           r"son|daughter|husband|wife|neighbou?r|mother|father|brother|sister|friend|partner)|oma|opa|tante|oom")
_FAMILY_NAME = re.compile(rf"(?i:\b(?:{_FAMILY}))\s+(?P<name>{_CAP_NAME})")
# Initials and a surname, anywhere: "W. van den Berg", "A.J. Kuipers" (not "P.C. Hooftstraat").
_INITIALS_NAME = re.compile(rf"(?<![\w.])(?P<name>[A-Z]\.(?:\s?[A-Z]\.)*\s?(?:{_PARTICLES}\s+)*"
                            r"[A-ZÀ-ÖØ-Ý][a-zà-öø-ÿ'’]+(?:-[A-ZÀ-ÖØ-Ý][a-zà-öø-ÿ'’]+)?)")
# Who signs for a group is no person: "Groeten, Bewonerscommissie Oost", "Vereniging van Eigenaren".
_ORGANISATION = re.compile(r"(?i)(commissie|vereniging|stichting|raad|vve|b\.?v\.?|club|comit[eé]|team|eigenaren|"
                           r"bewoners|gemeente|afdeling|stadsdeel|buurtbelang|wijk\w*|museum|school|kerk)")


def _not_a_person(name: str) -> bool:
    words = [w.lower().strip(".,!") for w in name.split()]
    # A street is a compound ("Visserplein"); "Van Dijk" and "Van der Laan" are surnames.
    return any(w in _PLACE_WORDS or (_STREET_END.search(w) and _STREET_END.sub("", w)) or _ORGANISATION.search(w)
               for w in words)


def find_names(text: str):
    for pattern in (_SIGNATURE, _DASH_SIGNATURE):
        m = pattern.search(text)
        if m is not None and not _not_a_person(m.group("name")) and m.group("name").lower() not in _NOT_NAMES:
            yield Finding("name", m.start("name"), m.end("name"), m.group("name"))
    for pattern in (_SIGNOFF, _FAMILY_NAME, _INITIALS_NAME):
        for m in pattern.finditer(text):
            candidate = _trim_name(m.group("name"))
            if candidate and not _not_a_person(candidate):
                yield Finding("name", m.start("name"), m.start("name") + len(candidate), candidate)
    for m in _TRIGGER_NAME.finditer(text):
        candidate = m.group("name")
        if m.group("weak"):
            name = _CAP_NAME_RE.match(candidate)  # after "ik ben" only a capitalised word is a name
            if name is None:
                continue
            candidate = name.group()
        candidate = _trim_name(candidate)
        if candidate and not _not_a_person(candidate):
            start = m.start("name")
            yield Finding("name", start, start + len(candidate), candidate)
    for m in _HONORIFIC_NAME.finditer(text):
        candidate = _trim_name(m.group("name"))
        if candidate and not _not_a_person(candidate):  # "Mr. Visserplein" is a square
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
