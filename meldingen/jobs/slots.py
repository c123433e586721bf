"""Concurrency limits: at most N pieces of work of one kind at once, across every worker of the deployment.

A platform that hangs must not take every worker that sends replies: each send first takes a slot of its
platform channel (`notify/tasks.py`), and a send that finds the slots taken is not made to wait in the worker
but put back with a short delay, so the worker goes on with other residents' messages on other platforms.

Slots live where the workers meet: in Redis with the job queue (a sorted set of leases, taken and freed by
one Lua script each), in the process for the embedded default. A slot is a lease, not a lock: a worker killed
during its send frees the slot when the lease runs out.
"""

from __future__ import annotations

import threading
import time
import uuid
from contextlib import contextmanager

_ACQUIRE = """
local key, now, lease_ms, limit, token = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
if redis.call('ZCARD', key) < limit then
  redis.call('ZADD', key, now + lease_ms, token)
  redis.call('PEXPIRE', key, lease_ms)
  return 1
end
return 0
"""


class RedisSlots:
    """Leases in one sorted set per key (member: a token, score: when its lease ends, in ms)."""

    prefix = "meldingen:slots:"

    def __init__(self, connection):
        self.connection = connection
        self._acquire = connection.register_script(_ACQUIRE)

    def acquire(self, key: str, limit: int, lease_seconds: float) -> str | None:
        token = uuid.uuid4().hex
        now_ms = int(time.time() * 1000)
        taken = self._acquire(keys=[self.prefix + key], args=[now_ms, int(lease_seconds * 1000), limit, token])
        return token if taken == 1 else None

    def release(self, key: str, token: str) -> None:
        self.connection.zrem(self.prefix + key, token)

    def in_use(self, key: str) -> int:
        return int(self.connection.zcount(self.prefix + key, int(time.time() * 1000), "+inf"))


class LocalSlots:
    """The same leases inside one process (the embedded default runs all its work in one)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._leases: dict[str, dict[str, float]] = {}

    def acquire(self, key: str, limit: int, lease_seconds: float) -> str | None:
        now = time.monotonic()
        with self._lock:
            leases = {t: end for t, end in self._leases.get(key, {}).items() if end > now}
            if len(leases) >= limit:
                self._leases[key] = leases
                return None
            token = uuid.uuid4().hex
            leases[token] = now + lease_seconds
            self._leases[key] = leases
            return token

    def release(self, key: str, token: str) -> None:
        with self._lock:
            self._leases.get(key, {}).pop(token, None)

    def in_use(self, key: str) -> int:
        now = time.monotonic()
        with self._lock:
            return sum(1 for end in self._leases.get(key, {}).values() if end > now)


@contextmanager
def slot(slots, key: str, limit: int | None, lease_seconds: float):
    """Yield True with a slot held (freed afterwards), or False when all `limit` are taken; no limit: True."""
    if not limit or limit <= 0:
        yield True
        return
    token = slots.acquire(key, limit, lease_seconds)
    if token is None:
        yield False
        return
    try:
        yield True
    finally:
        slots.release(key, token)
