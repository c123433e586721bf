"""The annotated redaction corpus format: one message per line, personal data marked as {kind:text}.

Used by the redaction tests and bench (tests/corpora/redaction_nl.txt): a line gives the message as typed,
the spans a redactor must find, and the text it must produce.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from meldingen.privacy.redaction import MARKERS

_MARK = re.compile(r"\{(?P<kind>[a-z_]+):(?P<text>[^{}]+)\}")


@dataclass(frozen=True)
class CorpusLine:
    number: int
    text: str  # as the resident typed it
    expected: str  # with markers in place of personal data
    spans: tuple[tuple[str, int, int], ...]  # (kind, start, end) in `text`
    person_related: bool


def parse_line(number: int, line: str) -> CorpusLine:
    person_related = line.startswith("P| ")
    if person_related:
        line = line[3:]
    line = line.replace("\\n", "\n")
    text_parts, expected_parts, spans, last, offset = [], [], [], 0, 0
    for m in _MARK.finditer(line):
        if m.group("kind") not in MARKERS:
            raise ValueError(f"line {number}: unknown kind {m.group('kind')!r}")
        before = line[last:m.start()]
        text_parts.append(before)
        expected_parts.append(before)
        offset += len(before)
        spans.append((m.group("kind"), offset, offset + len(m.group("text"))))
        text_parts.append(m.group("text"))
        expected_parts.append(MARKERS[m.group("kind")])
        offset += len(m.group("text"))
        last = m.end()
    text_parts.append(line[last:])
    expected_parts.append(line[last:])
    return CorpusLine(number, "".join(text_parts), "".join(expected_parts), tuple(spans), person_related)


def load_corpus(path: Path) -> list[CorpusLine]:
    lines = []
    for number, raw in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if raw.strip() and not raw.startswith("#"):
            lines.append(parse_line(number, raw.rstrip("\n")))
    return lines
