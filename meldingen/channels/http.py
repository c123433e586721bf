"""One HTTP client per process for every call to a chat platform (sends, receipts, media, checks).

A new `httpx.Client` builds its TLS context from the CA bundle each time: 20-50 ms of CPU, paid per reply when
each send made its own. One shared client (thread-safe) keeps that to once per process and reuses the platform's
connections. Timeouts are given per call (`channels/base.py`); a process made by fork gets a client of its own.
"""

from __future__ import annotations

import os
import threading

import httpx

_lock = threading.Lock()
_client: httpx.Client | None = None
_owner_pid: int | None = None


def platform_client() -> httpx.Client:
    global _client, _owner_pid
    client = _client
    if client is not None and _owner_pid == os.getpid() and not client.is_closed:
        return client
    with _lock:
        if _client is None or _owner_pid != os.getpid() or _client.is_closed:
            _client = httpx.Client(limits=httpx.Limits(max_connections=100, max_keepalive_connections=20,
                                                       keepalive_expiry=30))
            _owner_pid = os.getpid()
        return _client
