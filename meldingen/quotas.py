"""Counting against a configured rate limit outside a route's decorator: a channel's deliveries, an unverified
sender. Limits are Flask-Limiter's, in its storage (memory, or Redis at scale), read from the app's config."""

from __future__ import annotations

from flask import current_app
from limits import parse_many

from meldingen.extensions import limiter


def within_limit(config_key: str, *identifiers: str) -> bool:
    """Count one against the limit `config_key` names; False when it is exceeded. Always True when limits are off."""
    if not limiter.enabled or not current_app.config.get("RATELIMIT_ENABLED", True):
        return True
    strategy = limiter.limiter
    return all(strategy.hit(item, *identifiers) for item in parse_many(current_app.config[config_key]))
