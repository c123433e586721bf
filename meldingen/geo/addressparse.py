"""Reading a typed Dutch address: split free text into street, number, letter, suffix, postcode and city,
normalise street names for matching, and match a misspelt street against the known street names.

Pure code: no database, no network. The search service (`meldingen.geo.search`) combines it with the address
table and PDOK.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from difflib import SequenceMatcher

# Dutch postcodes: 4 digits (no leading zero), 2 letters; SA, SD and SS are never issued.
_POSTCODE = re.compile(r"(?<![\w])([1-9]\d{3})\s?(?!sa\b|sd\b|ss\b)([a-z]{2})(?![\w])", re.IGNORECASE)

# A house number with its letter and suffix as people type them: 40A, 40 a, 40-A, 12-H, 1-1, 12 A-2, 7/2, 3bis.
# An ordinal such as "1e" in "1e Breeuwersstraat" is not a house number: the lookahead rejects a number whose
# letter is followed by more letters, and the ordinal rule below keeps "1e " + word inside the street.
_HOUSE_NUMBER = re.compile(
    r"""(?<![\w-])
        (?P<number>\d{1,5})
        (?:\s?(?P<letter>[a-z])(?![a-z\d]))?
        (?:\s?[-/]\s?(?P<suffix>[a-z\d]{1,4})(?![\w])|\s?(?P<suffix2>bis|hs|huis)(?![\w]))?
        (?![\w])
    """,
    re.IGNORECASE | re.VERBOSE,
)
_ORDINAL = re.compile(r"^\d{1,2}(?:e|ste|de)$", re.IGNORECASE)

# Words after which the street starts, in a sentence such as "lamp kapot bij westerdoksdijk 40a".
_PREPOSITIONS = {
    "bij", "op", "aan", "in", "voor", "naast", "tegenover", "achter", "langs", "nabij", "hoek", "thv",
    "t.h.v.", "hoogte", "van", "adres", "straat", "near", "at", "on", "ter",
}  # fmt: skip
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n+")
# A dot after these ends an abbreviation or an initial, not a sentence: "v. Diemenstr. 4", "J.P. Coenstraat",
# "Zoutkeetsplein nr. 5".
_ABBREVIATION_DOT = re.compile(
    r"(?:(?:str|ln|pl|gr|kd)|\b(?:v|st|mr|dr|prof|burg|jhr|ir|ing|mgr|ds|pr|kon|gen|adm|nr|no|huisnr)|\b[a-z])\.$",
    re.IGNORECASE
)

_ABBREVIATIONS = [
    (re.compile(r"\bstr\b\.?"), "straat"),
    (re.compile(r"(?<=\w)str\b\.?"), "straat"),
    (re.compile(r"\bln\b\.?"), "laan"),
    (re.compile(r"(?<=\w)ln\b\.?"), "laan"),
    (re.compile(r"\bpl\b\.?"), "plein"),
    (re.compile(r"(?<=\w)pl\b\.?"), "plein"),
    (re.compile(r"(?<=\w)gr\b\.?"), "gracht"),
    (re.compile(r"(?<=\w)kd\b\.?"), "kade"),
    (re.compile(r"\bv\b\.?"), "van"),
    (re.compile(r"\bst\b\.?"), "sint"),
    (re.compile(r"\bmr\b\.?"), "meester"),
    (re.compile(r"\bdr\b\.?"), "dokter"),
    (re.compile(r"\bprof\b\.?"), "professor"),
    (re.compile(r"\beerste\b"), "1e"),
    (re.compile(r"\btweede\b"), "2e"),
    (re.compile(r"\bderde\b"), "3e"),
    (re.compile(r"\bvierde\b"), "4e"),
    (re.compile(r"\b(\d+)(?:ste|de)\b"), r"\1e"),
]
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class ParsedAddress:
    """What a resident typed, split into parts. Every part may be missing."""

    street: str | None = None
    number: int | None = None
    letter: str | None = None
    suffix: str | None = None
    postcode: str | None = None
    city: str | None = None
    # Word runs before the number that may be the street when the address is embedded in a sentence
    # ("lamp kapot westerdoksdijk 40a" → "kapot westerdoksdijk", "westerdoksdijk", …), likeliest first.
    street_candidates: tuple[str, ...] = field(default=(), compare=False)

    @property
    def addition(self) -> str:
        """Letter and suffix as one matching key ("40-A", "40A" and "40 a" all give "a")."""
        return addition_key(self.letter, self.suffix)

    @property
    def is_empty(self) -> bool:
        return not (self.street or self.number or self.postcode)


def addition_key(letter: str | None, suffix: str | None) -> str:
    return ((letter or "") + (suffix or "")).lower().replace("-", "").replace(" ", "")


def fold_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def street_key(name: str) -> str:
    """The normalised form under which a street name is stored and matched.

    Lowercase, accents stripped, common abbreviations written out, spaces and punctuation dropped:
    "Van Diemenstraat", "van diemenstr." and "Van  Diëmenstraat" all become "vandiemenstraat".
    """
    text = fold_accents(name).lower().strip()
    for pattern, replacement in _ABBREVIATIONS:
        text = pattern.sub(replacement, text)
    return _NOT_ALNUM.sub("", text)


def normalise_postcode(text: str | None) -> str | None:
    if not text:
        return None
    match = _POSTCODE.fullmatch(text.strip())
    return f"{match.group(1)}{match.group(2).upper()}" if match else None


def parse_address(text: str) -> ParsedAddress:
    """Split typed text into address parts.

    Handles "Westerdoksdijk 40A", "westerdoksdijk 40 a amsterdam", "1013 AE 40A", "1013AE 40-A",
    "1e Breeuwersstraat 12-H", "Westerdoksdijk 40A, 1013 AE Amsterdam", a street alone, and an address inside
    a sentence. It does not decide whether the street exists: that is `StreetIndex.match`'s job.
    """
    text = " ".join((text or "").split())
    if not text:
        return ParsedAddress()

    postcode = None
    after_postcode = ""
    pc_match = _POSTCODE.search(text)
    if pc_match:
        postcode = f"{pc_match.group(1)}{pc_match.group(2).upper()}"
        after_postcode = text[pc_match.end() :]
        text = (text[: pc_match.start()] + " , " + after_postcode).strip()

    number = letter = suffix = None
    before, after = text, ""
    for match in _HOUSE_NUMBER.finditer(text):
        if _is_ordinal_street_prefix(text, match):
            continue
        number = int(match.group("number"))
        letter = (match.group("letter") or "").upper() or None
        suffix = match.group("suffix") or match.group("suffix2")
        suffix = suffix.upper() if suffix else None
        before, after = text[: match.start()], text[match.end() :]
        break

    words = _street_words(before)
    city = _city_from_tail(after) or (_city_from_tail(after_postcode) if postcode else None)
    return ParsedAddress(
        street=_street_from_words(words),
        number=number,
        letter=letter,
        suffix=suffix,
        postcode=postcode,
        city=city,
        street_candidates=_word_runs(words),
    )


def _is_ordinal_street_prefix(text: str, match: re.Match) -> bool:
    """True for the "1e" of "1e Breeuwersstraat": a 1–2 digit number, letter e, then a word."""
    token = text[match.start() : match.end()].replace(" ", "")
    if not _ORDINAL.match(token):
        return False
    rest = text[match.end() :].lstrip()
    return bool(rest) and rest[0].isalpha()


def _sentences(text: str) -> list[str]:
    """The text cut at sentence ends, keeping abbreviations and initials inside their sentence."""
    pieces = _SENTENCE_END.split(text)
    sentences = [pieces[0]]
    for piece in pieces[1:]:
        if _ABBREVIATION_DOT.search(sentences[-1].rstrip()):
            sentences[-1] = f"{sentences[-1].rstrip()} {piece}"
        else:
            sentences.append(piece)
    return sentences


def _street_words(before: str) -> list[str]:
    """The words that can make up the street: after the last sentence break and the last preposition."""
    tail = _sentences(before)[-1]
    tail = tail.replace(",", " ").strip()
    words = [w for w in tail.split() if any(c.isalpha() for c in w) or _ORDINAL.match(w)]
    for index in range(len(words) - 1, -1, -1):
        if words[index].lower().strip(".") in _PREPOSITIONS and index < len(words) - 1:
            # "van" and "de" are also parts of names ("Van Diemenstraat"), so only cut at "van" when the word
            # before it is a preposition too ("ter hoogte van"); the matcher still gets the longer runs.
            if words[index].lower() == "van" and (index == 0 or words[index - 1].lower() not in _PREPOSITIONS):
                continue
            words = words[index + 1 :]
            break
    return words


def _street_from_words(words: list[str]) -> str | None:
    if not words:
        return None
    # A street name has at most about six words ("Burgemeester van Walsum de Jongstraat"); a longer run is a
    # sentence and the candidates carry the shorter tails.
    return " ".join(words[-6:]).strip(" ,") or None


def _word_runs(words: list[str], longest: int = 5, most: int = 40) -> tuple[str, ...]:
    """Contiguous word runs that may be the street: those ending at the number first (longest first), then
    the others, so that "westerdoksdijk amsterdam" also offers "westerdoksdijk"."""
    words = words[-12:]
    runs: list[str] = []
    for end in range(len(words), 0, -1):
        for start in range(max(0, end - longest), end):
            runs.append(" ".join(words[start:end]))
    return tuple(runs[:most])


def _city_from_tail(after: str) -> str | None:
    tail = _sentences(after)[0]
    tail = tail.replace(",", " ").strip()
    words = tail.split()
    if not words or len(words) > 3 or not all(w.replace("-", "").replace("'", "").isalpha() for w in words):
        return None
    return " ".join(words)


def _trigrams(key: str) -> set[str]:
    padded = f"  {key} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


@dataclass(frozen=True)
class StreetMatch:
    name: str
    key: str
    score: float  # 1.0 is an exact match of the normalised names


class StreetIndex:
    """The known street names, indexed by normalised key and by trigram, for typo-tolerant matching.

    Matching a name costs a dict lookup when it is spelt right, and a trigram vote plus difflib on the few
    best candidates when it is not, so it stays well under a millisecond for tens of thousands of streets.
    """

    def __init__(self, names, min_score: float = 0.8, shortlist: int = 12):
        self.min_score = min_score
        self.shortlist = shortlist
        self._by_key: dict[str, str] = {}
        self._by_trigram: dict[str, set[str]] = {}
        for name in names:
            key = street_key(name)
            if not key or key in self._by_key:
                continue
            self._by_key[key] = name
            for gram in _trigrams(key):
                self._by_trigram.setdefault(gram, set()).add(key)

    def __len__(self) -> int:
        return len(self._by_key)

    def match(self, typed: str, limit: int = 3) -> list[StreetMatch]:
        """The known streets closest to `typed`, best first; only those scoring at least `min_score`."""
        key = street_key(typed)
        if not key:
            return []
        exact = self._by_key.get(key)
        if exact is not None:
            return [StreetMatch(exact, key, 1.0)]
        votes: dict[str, int] = {}
        for gram in _trigrams(key):
            for candidate in self._by_trigram.get(gram, ()):
                votes[candidate] = votes.get(candidate, 0) + 1
        best = sorted(votes, key=votes.__getitem__, reverse=True)[: self.shortlist]
        scored = []
        for candidate in best:
            score = SequenceMatcher(None, key, candidate, autojunk=False).ratio()
            if score >= self.min_score:
                scored.append(StreetMatch(self._by_key[candidate], candidate, round(score, 3)))
        scored.sort(key=lambda m: (-m.score, m.name))
        return scored[:limit]

    def match_parsed(self, parsed: ParsedAddress) -> StreetMatch | None:
        """The best street for a parsed address: an exact match of the longest word run, else the best fuzzy
        match among the likeliest runs."""
        tried = []
        if parsed.street:
            tried.append(parsed.street)
        tried.extend(c for c in parsed.street_candidates if c not in tried)
        exact = [c for c in tried if street_key(c) in self._by_key]
        if exact:
            key = street_key(max(exact, key=len))
            return StreetMatch(self._by_key[key], key, 1.0)
        best: StreetMatch | None = None
        for candidate in tried[:8]:
            matches = self.match(candidate, limit=1)
            if matches and (best is None or matches[0].score > best.score):
                best = matches[0]
        return best
