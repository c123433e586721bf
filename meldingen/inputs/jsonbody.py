"""JSON from outside, parsed with a depth limit and every string cleaned (see `meldingen.inputs.text`).

Python's parser recurses: a body nested 10,000 deep ends in RecursionError, and shallower ones that parse can
still exhaust the stack of code that walks them. `parse_json` refuses anything deeper than `MAX_DEPTH` with a
`ValueError` (Flask's `get_json` turns that into a 400), and is used for request bodies everywhere.
"""

from __future__ import annotations

import json
from typing import Any

from flask.json.provider import DefaultJSONProvider

from meldingen.inputs.text import clean_text

MAX_DEPTH = 32  # no payload of any platform or client nests deeper than about 8


class JSONRefused(ValueError):
    """The body is not JSON we accept; the message says why."""


def parse_json(data: str | bytes | bytearray, *, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value of `data` with its strings and keys cleaned; JSONRefused when not JSON or too deep."""
    try:
        value = json.loads(data, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise JSONRefused(f"JSON is nested deeper than {max_depth} levels") from None
    except JSONRefused:
        raise
    except (ValueError, TypeError) as exc:  # UnicodeDecodeError is a ValueError
        raise JSONRefused(f"body is not JSON: {exc}") from None
    return clean_json(value, max_depth=max_depth)


def _refuse_constant(name: str):
    raise JSONRefused(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise JSONRefused(f"number {text[:20]} is out of range")
    return value


def clean_json(value: Any, *, max_depth: int = MAX_DEPTH) -> Any:
    """A copy of a parsed JSON value, strings cleaned; JSONRefused when deeper than `max_depth`. Iterative, so
    depth never costs Python stack."""
    root: list[Any] = [None]
    # (container to fill, key or index in it, value to copy, depth of that value)
    stack: list[tuple[Any, Any, Any, int]] = [(root, 0, value, 0)]
    while stack:
        parent, slot, item, depth = stack.pop()
        if isinstance(item, dict):
            if depth >= max_depth:
                raise JSONRefused(f"JSON is nested deeper than {max_depth} levels")
            copy: Any = {}
            for key, child in reversed(item.items()):  # reversed: popped, and so inserted, in order
                stack.append((copy, clean_text(key), child, depth + 1))
        elif isinstance(item, list):
            if depth >= max_depth:
                raise JSONRefused(f"JSON is nested deeper than {max_depth} levels")
            copy = [None] * len(item)
            for index, child in reversed(list(enumerate(item))):
                stack.append((copy, index, child, depth + 1))
        elif isinstance(item, str):
            copy = clean_text(item)
        else:
            copy = item
        parent[slot] = copy
    return root[0]


class SafeJSONProvider(DefaultJSONProvider):
    """Flask's JSON, but request bodies go through `parse_json` (depth limit, cleaned strings)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return parse_json(s)
