"""Benchmark of the chat intake: time from the resident's last message to the reply with the reference having
been sent, beyond the quiet period, over 1,000 simulated WhatsApp conversations, on SpatiaLite and (when
--pg, MELDINGEN_BENCH_PG_URL or MELDINGEN_TEST_DATABASE_URL is given) PostGIS; and the time to understand one
message (its meaning and its slots) on its own. Writes docs/perf/conversations.md.

Each conversation is a description, then a shared location (the last message) at a random one of the sample's
BAG addresses in Amsterdam. Messages go through the real signed webhook, the stored event, the channels worker,
the intake, the report pipeline (places, classifier, duplicates, routing, deadline) and the outbox, which
sends the reply to a fake Graph API on loopback. The quiet period is set to 0: the figure is the work after
it (in production the reply leaves INTAKE_QUIET_SECONDS plus this figure after the last message).

    .venv/bin/python bench/bench_conversations.py [--conversations 1000] [--rounds 20] [--pg URL]
        [--out docs/perf/conversations.md]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import machine, postgres_database  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


DESCRIPTIONS = [
    "Losse stoeptegel op de stoep, je struikelt erover", "De lantaarnpaal is kapot, het is donker",
    "Container zit vol en er staan zakken naast", "Grote kuil in het fietspad", "Graffiti op de muur",
    "Boomtak hangt over het fietspad", "Zwerfvuil in de bosjes", "Verkeersbord is omgereden",
]  # fmt: skip


def prepare(url: str, fake_config: dict):
    from flask_migrate import upgrade

    from meldingen import create_app
    from meldingen.seed import load_sample_data

    config = {"DATABASE_URL": url, "GEOCODER_URL": "off", "TESTING": True, "JOBS_BACKEND": "sync",
              "JOBS_RAISE": True, "INTAKE_QUIET_SECONDS": 0, "SECRET_KEY": "bench",
              "MEDIA_DIR": tempfile.mkdtemp(prefix="meldingen-bench-media-"), "RATELIMIT_ENABLED": False,
              **fake_config}
    app = create_app(config)
    with app.app_context():
        upgrade()
        load_sample_data()
    return app


def run_backend(label: str, url: str, conversations: int, seed: int, understanding_rounds: int = 20) -> dict:
    from fake_chat_platform import WhatsAppResident, install_send_routes, platform_config
    from fake_platforms import start_fake_platform
    from sqlalchemy import select

    from meldingen.extensions import db
    from meldingen.geo.models import Address
    from meldingen.notify.models import OutboundMessage
    from meldingen.reports.references import find_reference

    fake, stop = start_fake_platform()
    install_send_routes(fake)
    try:
        app = prepare(url, platform_config(fake))
        rng = random.Random(seed)
        timings, reported, known = [], 0, 0
        with app.app_context():
            points = [(a.lat, a.lon) for a in db.session.scalars(select(Address)).all()]
            client = app.test_client()
            warm = WhatsAppResident(client, fake, "31600000000")  # loads the classifier model; not counted
            warm.send_text(DESCRIPTIONS[0])
            warm.send_location(*points[0])
            db.session.remove()
            started_all = time.perf_counter()
            for i in range(conversations):
                resident = WhatsAppResident(client, fake, f"3161{i:07d}")
                resident.send_text(rng.choice(DESCRIPTIONS))
                lat, lon = rng.choice(points)
                before = time.perf_counter()
                resident.send_location(lat, lon)
                elapsed = time.perf_counter() - before
                # The sync backend has run the worker, the intake and the outbox before the post returned.
                last = db.session.scalar(select(OutboundMessage).order_by(OutboundMessage.id.desc()).limit(1))
                if last is None or last.state != "sent" or not find_reference(last.body):
                    raise SystemExit(f"conversation {i}: no reference sent ({last and last.state}: {last and last.body})")
                known += "al bij ons bekend" in last.body
                reported += "al bij ons bekend" not in last.body
                timings.append(elapsed * 1000)
                db.session.remove()
            total_s = time.perf_counter() - started_all
            understanding, baseline = measure_understanding(understanding_rounds)
        from meldingen.extensions import db as _db

        with app.app_context():
            _db.engine.dispose()
    finally:
        stop()
    return {"label": label, "timings": timings, "reported": reported, "known": known, "total_s": total_s,
            "understanding": understanding, "baseline": baseline}


def corpus_messages() -> list[str]:
    """What residents type: every text of the conversation corpus, and the bench's own descriptions."""
    from conversation_corpus import SCRIPTS

    texts = [step[1].replace("{ref1}", "M-ABC234").replace("{ref}", "M-ABC234")
             for script in SCRIPTS for step in script["steps"] if step[0] == "text"]
    return texts + DESCRIPTIONS


def measure_understanding(rounds: int) -> tuple[list[float], list[float]]:
    """Per message, ms: what it means and which slots it fills (intent, then a typed address taken out of
    the sentence through the real address search); and, as the baseline, what main did per text message
    (parse the address and search it when it has a street and a number)."""
    from meldingen.geo.addressparse import parse_address
    from meldingen.intake.slots import address_in_text
    from meldingen.intake.understanding import ConversationState, understand
    from meldingen.pipeline import Prepared

    messages = corpus_messages()
    search_typed_address = Prepared().search_typed_address  # answers remembered, as within one transaction
    state = ConversationState(collecting=False, recently_reported=True, has_open_report=True)
    new, old = [], []
    for _ in range(rounds):
        for text in messages:
            started = time.perf_counter()
            meaning = understand(text, state)
            if meaning.intent == "problem":
                address_in_text(meaning.text, search_typed_address)
            new.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            parsed = parse_address(text)
            if parsed.number and (parsed.street or parsed.postcode):
                search_typed_address(text)
            old.append((time.perf_counter() - started) * 1000)
    return new, old


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--pg", default=os.environ.get("MELDINGEN_BENCH_PG_URL")
                        or os.environ.get("MELDINGEN_TEST_DATABASE_URL") or "")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=20, help="rounds over the corpus messages for understanding")
    parser.add_argument("--out", default=str(ROOT / "docs" / "perf" / "conversations.md"))
    args = parser.parse_args()

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(run_backend("SpatiaLite", f"sqlite:///{tmp}/bench.sqlite", args.conversations, args.seed,
                                   args.rounds))
    if args.pg:
        url, drop = postgres_database(args.pg)
        try:
            results.append(run_backend("PostGIS", url, args.conversations, args.seed, args.rounds))
        finally:
            drop()

    lines = [
        "# Conversations: from the last message to the reply with the reference",
        "",
        f"Measured {date.today().isoformat()} on {machine()}.",
        "",
        "Method: `bench/bench_conversations.py` simulates "
        f"{args.conversations:,} WhatsApp conversations per database, one after another. Each resident sends a "
        "description, then shares a location at a random BAG address of the Amsterdam sample (the last message). "
        "One warm-up conversation (loading the classifier model) is not counted. Every message goes through the signed webhook, the stored event, the channels worker, the intake, the "
        "report pipeline (places, classifier, duplicates, routing, deadline) and the outbox, which sends the "
        "reply to a fake Graph API on loopback. The background work runs in-line (`JOBS_BACKEND=sync`), so the "
        "time of the webhook call for the last message is the time until the reply with the reference has been "
        "sent. The quiet period is 0 here: the figures are the work *beyond* it; in production the reply leaves "
        "`INTAKE_QUIET_SECONDS` plus this after the resident's last message.",
        "",
        "| database | conversations | reports made | merged into a known report | p50 ms | p99 ms | mean ms | max ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        t = r["timings"]
        lines.append(f"| {r['label']} | {len(t):,} | {r['reported']:,} | {r['known']:,} | {percentile(t, 50):.1f} | "
                     f"{percentile(t, 99):.1f} | {statistics.mean(t):.1f} | {max(t):.1f} |")
    messages = len(corpus_messages())
    lines += [
        "",
        "## Understanding one message",
        "",
        f"Method: every text message of the conversation corpus (`tests/conversation_corpus.py`) and the bench's "
        f"descriptions ({messages} messages, {args.rounds} rounds each) is understood on its own, inside the app "
        "with the database above: its meaning (`intake.understanding.understand`: phrase data, typo-tolerant "
        "matching) and, for a problem, its slots (`intake.slots.address_in_text`: a typed address inside the "
        "sentence, found through the real address search, and the words left to describe it). Baseline, "
        "measured in the same run: what main did per text message (parse the address, search it when the text "
        "has a street and a number; no meaning, no split).",
        "",
        "| database | messages timed | understand p50 ms | p99 ms | baseline p50 ms | baseline p99 ms | p50 ratio |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        u, b = r["understanding"], r["baseline"]
        ratio = percentile(u, 50) / percentile(b, 50) if percentile(b, 50) else float("nan")
        lines.append(f"| {r['label']} | {len(u):,} | {percentile(u, 50):.3f} | {percentile(u, 99):.3f} | "
                     f"{percentile(b, 50):.3f} | {percentile(b, 99):.3f} | {ratio:.1f}x |")
    lines += ["", f"Command: `.venv/bin/python bench/bench_conversations.py --conversations {args.conversations}"
              f" --rounds {args.rounds}"
              + (" --pg $MELDINGEN_TEST_DATABASE_URL" if args.pg else "") + "`", ""]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
