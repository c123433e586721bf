"""Small per-process caches of rows that are read on every request and change a few times a year (channels, the
category tree). Each entry lives a few seconds; a change this process commits to one of the watched models drops
every entry at once, so staff never see their own change late. Another process sees it when the entry expires.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

DEFAULT_SECONDS = 5.0
_KEY = "meldingen_process_cache"
_clock = time.monotonic
_watched: set[type] = set()


def watch(*models: type) -> None:
    """Drop the cache whenever this process commits a change to one of `models`."""
    _watched.update(models)


def cached(name: str, load: Callable[[], object], seconds: float | None = None):
    """The value stored under `name` while fresh, else `load()` (stored for CACHE_SECONDS)."""
    store = current_app.extensions.setdefault(_KEY, {})
    now = _clock()
    entry = store.get(name)
    if entry is not None and entry[0] > now:
        return entry[1]
    value = load()
    if seconds is None:
        seconds = float(current_app.config.get("CACHE_SECONDS", DEFAULT_SECONDS))
    if seconds > 0:
        store[name] = (now + seconds, value)
    return value


def clear() -> None:
    if has_app_context():
        current_app.extensions.pop(_KEY, None)


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, _context) -> None:
    if _watched and any(isinstance(obj, tuple(_watched)) for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info["meldingen_cache_stale"] = True


@event.listens_for(Session, "do_orm_execute")
def _note_statements(state) -> None:
    """A bulk UPDATE, DELETE or INSERT on a watched model's table counts as a change too."""
    if not (_watched and (state.is_update or state.is_delete or state.is_insert)):
        return
    mapper = state.bind_mapper
    if mapper is not None and any(issubclass(mapper.class_, model) for model in _watched):
        state.session.info["meldingen_cache_stale"] = True


@event.listens_for(Session, "after_commit")
def _drop_after_commit(session: Session) -> None:
    if session.info.pop("meldingen_cache_stale", False):
        clear()


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the whole transaction: its changes are gone
        session.info.pop("meldingen_cache_stale", None)
