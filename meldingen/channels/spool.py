"""The embedded default's inbox spool: a verified delivery is written to a file and acknowledged; the background
process moves it into the database.

On SQLite one writer holds the database at a time, and the background work (a resident's draft, a report being
made) holds it for milliseconds at a stretch. A webhook that inserted its raw event itself waited for that lock,
and SQLite's busy handler waits in growing sleeps: acknowledgements of a second at 100 requests a second. Here
the web process only writes the delivery to a file of its own (written whole, then renamed into place: a crash
leaves either nothing or the whole delivery) and answers; the background process imports each file in its own
transaction, exactly as the web process stored it before (`store_delivery`), and deletes it after the commit.

The guarantee is the database's own: a file that has been renamed into place survives the process, as a
committed transaction in SQLite's WAL mode with `synchronous=NORMAL` does. A file imported twice (a crash between
the commit and the delete) inserts nothing the second time: events are keyed per platform message. A file whose
import keeps failing is stored raw as a parked inbound event (on the staff stuck list, with its reason); only
when even that fails is it kept aside as `*.failed`.

Used when the database is SQLite and the background work runs in the web process's child (`INBOX_SPOOL=auto`);
PostgreSQL takes the inserts of many web processes at once and needs no spool.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from pathlib import Path

from flask import current_app

log = logging.getLogger(__name__)

SUFFIX = ".delivery.json"
CLAIMED = ".claimed"
FAILED = ".failed"
# A claimed file older than this belonged to a process that died during its import: it is taken up again.
CLAIM_LEASE_SECONDS = 60.0
MAX_ATTEMPTS = 5


def spool_dir() -> Path:
    """INBOX_SPOOL_DIR, else beside the SQLite database it belongs to (`meldingen.sqlite` → `meldingen.inbox/`):
    a spool is only ever imported into its own database."""
    configured = current_app.config.get("INBOX_SPOOL_DIR")
    if configured:
        return Path(configured)
    url = str(current_app.config.get("SQLALCHEMY_DATABASE_URI") or "")
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        database = Path(url.removeprefix("sqlite:///").split("?", 1)[0])
        return database.with_name(database.stem + ".inbox")
    return Path(current_app.instance_path) / "inbox"


def enabled() -> bool:
    """Spool verified deliveries? `INBOX_SPOOL`: "on", "off", or "auto" (SQLite with a background process)."""
    setting = str(current_app.config.get("INBOX_SPOOL", "auto")).lower()
    if setting in ("on", "true", "1", "yes"):
        return True
    if setting != "auto":
        return False
    from meldingen.extensions import db
    from meldingen.jobs.backends import ProcessBackend

    return (db.engine.dialect.name == "sqlite"
            and isinstance(current_app.extensions.get("meldingen_jobs"), ProcessBackend))


def write(delivery: dict) -> Path:
    """Write one delivery where the background process will find it; returns its path."""
    folder = spool_dir()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{time.time_ns():020d}-{uuid.uuid4().hex}"
    temporary = folder / f".{name}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump({**delivery, "attempts": 0}, handle, ensure_ascii=False, separators=(",", ":"))
    final = folder / f"{name}{SUFFIX}"
    os.replace(temporary, final)  # whole or not at all
    return final


def import_waiting(limit: int = 1000) -> int:
    """Move waiting deliveries into the database, oldest first; returns how many were imported."""
    from meldingen.channels.receiving import commit_and_enqueue, store_delivery
    from meldingen.extensions import db

    folder = spool_dir()
    if not folder.is_dir():
        return 0
    _take_up_abandoned(folder)
    imported = 0
    for path in sorted(folder.glob(f"*{SUFFIX}"))[:limit]:
        claimed = path.with_name(path.name + f"{CLAIMED}.{os.getpid()}.{uuid.uuid4().hex[:8]}")
        try:
            os.replace(path, claimed)  # one importer per file, across threads and processes
            os.utime(claimed)  # the claim's age, not the delivery's, decides when it counts as abandoned
        except FileNotFoundError:
            continue
        try:
            delivery = json.loads(claimed.read_text(encoding="utf-8"))
            event_ids, kind, channel_key = store_delivery(delivery)
            commit_and_enqueue(event_ids, kind, channel_key)
        except Exception as exc:
            db.session.rollback()
            _failed(claimed, path, exc)
            continue
        claimed.unlink(missing_ok=True)
        imported += 1
    return imported


def waiting_count() -> int:
    folder = spool_dir()
    return len(list(folder.glob(f"*{SUFFIX}"))) if folder.is_dir() else 0


def failed_files() -> list[Path]:
    folder = spool_dir()
    return sorted(folder.glob(f"*{FAILED}")) if folder.is_dir() else []


def _failed(claimed: Path, original: Path, exc: Exception) -> None:
    """Put the file back to be tried again, or aside for a person after MAX_ATTEMPTS."""
    from meldingen.recovery.policy import short_reason

    reason = short_reason(exc)
    try:
        delivery = json.loads(claimed.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        delivery = None
    if not isinstance(delivery, dict):  # not readable at all: aside at once
        os.replace(claimed, original.with_name(original.name + FAILED))
        log.error("inbox spool: %s cannot be read and is kept aside: %s", original.name, reason)
        return
    delivery["attempts"] = int(delivery.get("attempts", 0)) + 1
    delivery["last_error"] = reason
    if delivery["attempts"] >= MAX_ATTEMPTS and _park_in_database(original.name, delivery, reason):
        claimed.unlink(missing_ok=True)
        return
    target = original if delivery["attempts"] < MAX_ATTEMPTS else original.with_name(original.name + FAILED)
    temporary = original.with_name(f".{original.name}.retry.tmp")
    temporary.write_text(json.dumps(delivery, ensure_ascii=False), encoding="utf-8")
    os.replace(temporary, target)
    claimed.unlink(missing_ok=True)
    log.warning("inbox spool: %s not imported (attempt %s): %s", original.name, delivery["attempts"], reason)


def _park_in_database(name: str, delivery: dict, reason: str) -> bool:
    """A delivery that cannot be stored after MAX_ATTEMPTS: kept raw as a parked inbound event, so it is on the
    staff stuck list with its reason. False when even that fails (the database is away): the file stays."""
    from meldingen.channels.inbound import insert_event
    from meldingen.extensions import db
    from meldingen.timeutil import utcnow

    try:
        event_id = insert_event(str(delivery.get("kind") or "unknown"), f"spool:{name}", None,
                                {"spooled": delivery}, state="parked", error=reason)
        if event_id is not None:
            from meldingen.channels.models import InboundEvent

            event = db.session.get(InboundEvent, event_id)
            event.parked_at = utcnow()
            event.attempts = int(delivery.get("attempts", 0))
        db.session.commit()
        log.error("inbox spool: %s could not be stored; parked for staff: %s", name, reason)
        return True
    except Exception:
        db.session.rollback()
        return False


def _take_up_abandoned(folder: Path) -> None:
    now = time.time()
    for claimed in folder.glob(f"*{SUFFIX}{CLAIMED}.*"):
        try:
            if now - claimed.stat().st_mtime < CLAIM_LEASE_SECONDS:
                continue
            os.replace(claimed, claimed.with_name(claimed.name.split(CLAIMED, 1)[0]))
        except FileNotFoundError:
            continue
