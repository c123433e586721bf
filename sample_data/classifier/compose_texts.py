"""Write texts.csv from the hand-written phrasings in phrasings/*.txt, with light class-independent noise.

Every line under a `## <sub_slug>` heading is one resident text written by a developer of this project.
Each line is written out exactly once. A seeded random choice may add something that any resident
might add to any report (a greeting, a street name, a closing remark), write it the lazy way
(lower case, no punctuation) or put a typo in it. None of these additions depends on the category, so
they make the texts look more like chat messages without making cross-validation easier.

Run: python sample_data/classifier/compose_texts.py   (rewrites texts.csv next to this file)
"""

from __future__ import annotations

import csv
import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent

GREETINGS = [
    "Hallo,", "Goedemiddag,", "Beste gemeente,", "Hoi", "Goedemorgen,", "Hallo ik wil iets melden:",
    "Melding:", "Dag,", "Goedenavond", "Hee gemeente", "Beste meneer/mevrouw,", "Ik wil een melding doen.",
    "Hallo daar,", "Goeiedag,", "Even een melding:",
]
PLACES = [
    "in de Kerkstraat", "bij de Jumbo aan het Marktplein", "hoek Dorpsstraat en Molenweg",
    "op de Oudegracht ter hoogte van nummer 112", "in Emmen-Noord", "bij ons in de Rivierenbuurt",
    "bij Hoofdweg 22", "tegenover basisschool De Regenboog", "in Terneuzen bij de Axelsestraat",
    "vlak bij het station", "aan de Burgemeester de Withstraat", "in de Vogelwijk", "op het Stationsplein",
    "bij de Lidl in Zuid", "achter de flat aan de Parkweg", "ter hoogte van Westerdoksdijk 40",
    "in de Pijp", "bij het buurthuis in Angelslo", "op de Van Woustraat", "bij de sporthal in Bargeres",
    "aan de Zeeweg", "Javastraat 14", "bij de Wibautstraat", "hier in Slotervaart",
    "in de Schilderswijk", "op de Coolsingel", "bij de rotonde van de N33", "aan de Lange Nieuwstraat",
]
CLOSERS = [
    "Alvast bedankt.", "Graag snel actie.", "Dit is al de zoveelste keer dat ik het meld.",
    "Kunnen jullie hier naar kijken?", "Het is al een week zo.", "Mijn kinderen komen hier elke dag langs.",
    "Groeten, Fatima", "gr Henk", "Wilt u dit doorgeven aan de juiste afdeling?", "Foto volgt.",
    "zie foto", "Het is echt niet normaal meer.", "Bedankt!", "Ik woon hier al 20 jaar en het wordt steeds erger.",
    "Wanneer wordt dit opgelost?", "Ik hoop dat er iets aan gedaan wordt.", "mvg", "Groetjes",
    "Vorige maand heb ik het ook al gemeld.", "Mijn buurvrouw stoorde zich er ook aan.", "Dank u wel",
    "Graag terugkoppeling.", "Ik heb een foto gemaakt.", "Het gaat om de plek op de kaart.",
]
ENGLISH = re.compile(r"\b(the|someone|there|please|my|people|is broken|near|every)\b", re.IGNORECASE)


def _typo(text: str, rng: random.Random) -> str:
    """Put one typing slip (dropped, doubled or swapped letter) in a word of five letters or more."""
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not candidates:
        return text
    i = rng.choice(candidates)
    w = words[i]
    j = rng.randrange(1, len(w) - 1)
    slip = rng.choice(["drop", "double", "swap"])
    if slip == "drop":
        w = w[:j] + w[j + 1:]
    elif slip == "double":
        w = w[:j] + w[j] + w[j:]
    else:
        w = w[:j - 1] + w[j] + w[j - 1] + w[j + 1:]
    words[i] = w
    return " ".join(words)


def dress(text: str, rng: random.Random) -> str:
    """Add the category-independent trimmings a resident might type around the core of a report."""
    english = bool(ENGLISH.search(text))
    if not english and rng.random() < 0.30:
        core = text.rstrip(".!?")
        text = f"{core} {rng.choice(PLACES)}" + text[len(core):]
    if not english and rng.random() < 0.22:
        text = f"{rng.choice(GREETINGS)} {text[0].lower()}{text[1:]}"
    if not english and rng.random() < 0.22:
        end = "" if text[-1] in ".!?" else "."
        text = f"{text}{end} {rng.choice(CLOSERS)}"
    if rng.random() < 0.12:
        text = _typo(text, rng)
    if rng.random() < 0.20:
        text = re.sub(r"[^\w\s/-]", "", text.lower())
    return re.sub(r"\s+", " ", text).strip()


def read_phrasings(folder: Path) -> list[tuple[str, str, str]]:
    """(text, main_slug, sub_slug) for every written line, in file order."""
    rows = []
    for path in sorted(folder.glob("*.txt")):
        main = sub = None
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if not line:
                continue
            if line.startswith("# main:"):
                main = line.split(":", 1)[1].strip()
            elif line.startswith("## "):
                sub = line[3:].strip()
            else:
                rows.append((line, main, sub))
    return rows


def main() -> None:
    rng = random.Random(20240611)
    rows = [(dress(text, rng), main, sub) for text, main, sub in read_phrasings(HERE / "phrasings")]
    with open(HERE / "texts.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "main_slug", "sub_slug"])
        writer.writerows(rows)
    print(f"wrote {len(rows)} texts")


if __name__ == "__main__":
    main()
