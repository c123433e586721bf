"""Redaction bench: recall and precision of the public-text redaction, per kind, against a naive baseline.

Run: .venv/bin/python bench/bench_redaction.py   (writes docs/perf/redaction.md)

Entities are the spans marked in the corpora (tests/corpora/redaction_nl.txt, the specification the tests
assert; tests/corpora/redaction_heldout.txt, written after the redactor and never used to tune it).
A marked entity counts as found when one redacted span covers all of it (of any kind: a phone number taken out
as something else is still out); a redacted span is correct when it overlaps a marked entity.
"""

from __future__ import annotations

import re
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import machine  # noqa: E402
from meldingen.privacy.corpus import load_corpus  # noqa: E402
from meldingen.privacy.redaction import KINDS, find_personal_data  # noqa: E402

CORPORA = {"corpus (specification)": ROOT / "tests" / "corpora" / "redaction_nl.txt",
           "held-out (first round)": ROOT / "tests" / "corpora" / "redaction_heldout.txt",
           "round two (specification)": ROOT / "tests" / "corpora" / "redaction_round2.txt",
           "round two held back (written before the round-two rules, never tuned on)":
               ROOT / "tests" / "corpora" / "redaction_round2_heldout.txt"}
OUT = ROOT / "docs" / "perf" / "redaction.md"

# What one writes in ten minutes: long digit runs, anything around an @, a compact Dutch IBAN, a capitalised
# word after "ik ben"/"mijn naam is". No plates, no house numbers.
_NAIVE = [
    ("phone", re.compile(r"\+?\d[\d \-]{7,}\d")),
    ("email", re.compile(r"\S+@\S+")),
    ("iban", re.compile(r"NL\d{2}[A-Z]{4}\d{10}")),
    ("name", re.compile(r"(?i:ik ben|mijn naam is) ([A-Z]\w+)")),
]


def naive_spans(text: str, person_related: bool) -> list[tuple[str, int, int]]:
    spans = []
    for kind, regex in _NAIVE:
        for m in regex.finditer(text):
            group = 1 if regex.groups else 0
            spans.append((kind, m.start(group), m.end(group)))
    return spans


def redactor_spans(text: str, person_related: bool) -> list[tuple[str, int, int]]:
    return [(f.kind, f.start, f.end) for f in find_personal_data(text, person_related=person_related)]


def score(lines, spans_of) -> dict:
    per_kind = {k: {"gold": 0, "found": 0, "predicted": 0, "correct": 0} for k in KINDS}
    exact = 0
    for line in lines:
        predicted = spans_of(line.text, line.person_related)
        for kind, start, end in line.spans:
            per_kind[kind]["gold"] += 1
            if any(s <= start and e >= end for _, s, e in predicted):
                per_kind[kind]["found"] += 1
        for kind, start, end in predicted:
            per_kind[kind]["predicted"] += 1
            if any(start < ge and end > gs for _, gs, ge in line.spans):
                per_kind[kind]["correct"] += 1
        exact += sorted((s, e) for _, s, e in predicted) == sorted((s, e) for _, s, e in line.spans)
    total = {key: sum(v[key] for v in per_kind.values()) for key in ("gold", "found", "predicted", "correct")}
    return {"per_kind": per_kind, "total": total, "exact": exact, "lines": len(lines)}


def ratio(a: int, b: int) -> str:
    return f"{a / b:.3f}" if b else "—"


def table(name: str, ours: dict, naive: dict) -> list[str]:
    rows = [f"### {name}", "",
            "| kind | entities | recall | precision | baseline recall | baseline precision |",
            "|---|---|---|---|---|---|"]
    for kind in (*KINDS, "all"):
        o = ours["total"] if kind == "all" else ours["per_kind"][kind]
        n = naive["total"] if kind == "all" else naive["per_kind"][kind]
        label = f"**{kind}**" if kind == "all" else kind
        rows.append(f"| {label} | {o['gold']} | {ratio(o['found'], o['gold'])} | {ratio(o['correct'], o['predicted'])} "
                    f"| {ratio(n['found'], n['gold'])} | {ratio(n['correct'], n['predicted'])} |")
    rows += ["", f"Messages redacted exactly as marked (every span right, nothing else taken): "
                 f"{ours['exact']}/{ours['lines']} (baseline {naive['exact']}/{naive['lines']}).", ""]
    return rows


def speed(lines) -> float:
    texts = [(line.text, line.person_related) for line in lines] * 20
    started = time.perf_counter()
    for text, person in texts:
        find_personal_data(text, person_related=person)
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    parts = ["## Redaction of public texts", "",
             f"Machine: {machine()}. Measured {date.today():%Y-%m-%d} with `.venv/bin/python bench/bench_redaction.py`.",
             "",
             "Method: every marked entity (phone, e-mail, BSN, IBAN, licence plate, name, house number in a category about "
             "a person) of the corpora in `tests/corpora/`, written for this project, against what "
             "`meldingen.privacy.redaction` takes out. Recall: marked entities wholly covered by a redacted span. "
             "Precision: redacted spans that overlap a marked entity (the corpus also holds numbers that must stay: "
             "pole, container and house numbers, dates, times, postcodes). Baseline, in the same run: four naive "
             "regular expressions (digit runs of 9+, anything around an @, a compact Dutch IBAN, a capitalised word "
             "after \"ik ben\"/\"mijn naam is\").", ""]
    for name, path in CORPORA.items():
        lines = load_corpus(path)
        parts += table(f"{name}, {len(lines)} messages", score(lines, redactor_spans), score(lines, naive_spans))
    main_corpus = load_corpus(CORPORA["corpus (specification)"])
    parts += ["The main corpus is the tests' specification, so its figures are by construction perfect: on its first run "
              "against the finished redactor 118 of its 122 messages were already right (the four misses — a number in "
              "brackets, a Belgian IBAN, \"groet Kees\" without a comma, \"mevrouw De Groot\" — were fixed and stay as "
              "tests). The held-out set is the honest figure for text the redactor has not seen. Round two (issue 26: "
              "BSNs, sign-offs, relatives, written-out e-mail, initials, and streets, dates and groups that must stay) "
              "has its own specification and a held-back set, written in the same sitting before the rules and not "
              "changed after seeing the figures; two misses of the first held-out set (\"Fam. Jansen\" and the "
              "municipal number \"14 020\") were fixed in that round, so that set is no longer wholly unseen.", "",
              f"Speed: {speed(main_corpus):,.0f} messages/s (one core; redaction runs once per report, on creation).", ""]
    OUT.write_text("\n".join(parts), encoding="utf-8")
    print("\n".join(parts))


if __name__ == "__main__":
    main()
