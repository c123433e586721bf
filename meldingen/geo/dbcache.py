"""In-process caches of values built from the database (area polygons, street names), one per database.

A cached value is rebuilt when its signature query answers differently (asked at most every `check_seconds`,
so other processes' imports show up within that time) and at once when `invalidate()` is called: the code that
writes what a cache is built from (the geo imports) says so itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from meldingen.extensions import db


class _Entry:
    def __init__(self):
        self.value = None
        self.signature = None
        self.checked_at = 0.0
        self.lock = threading.Lock()


class PerDatabaseCache:
    def __init__(self, build: Callable[[], object], signature: Callable[[], tuple], *, check_seconds: float = 10.0):
        self.build, self.signature, self.check_seconds = build, signature, check_seconds
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def get(self):
        """The value for the current app's database, rebuilt first when it is stale."""
        key = db.engine.url.render_as_string(hide_password=True)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                if len(self._entries) >= 8:  # tests make many databases; keep only a few
                    self._entries.clear()
                entry = self._entries[key] = _Entry()
        if entry.value is not None and time.monotonic() - entry.checked_at < self.check_seconds:
            return entry.value
        with entry.lock:
            signature = tuple(self.signature())
            if entry.value is None or signature != entry.signature:
                entry.value = self.build()
                entry.signature = signature
            entry.checked_at = time.monotonic()
            return entry.value

    def invalidate(self) -> None:
        """Forget every database's value: the next `get()` builds it again."""
        with self._lock:
            self._entries.clear()
