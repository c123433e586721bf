"""Numbers and dates from paths and parameters, bounded to what the database and Python can hold.

A path id of 99999999999999999999 overflows PostgreSQL's integer; a date of 0001-01-01T00:00:00+14:00 has no UTC
value in Python; page 9…9 makes an OFFSET no database accepts. The URL converters here make such paths not
match (404), and the marshmallow fields refuse such values with a 422 that names the field.
"""

from __future__ import annotations

from datetime import UTC, datetime

from marshmallow import ValidationError, fields, validate
from werkzeug.routing import IntegerConverter, PathConverter, UnicodeConverter
from werkzeug.routing import ValidationError as NoMatch

from meldingen.inputs.text import has_unstorable

MAX_ID = 2**31 - 1  # PostgreSQL's integer, the type of every id column
MAX_PAGE = 1_000_000
EARLIEST_YEAR = 1900
LATEST_YEAR = 2200
MAX_PATH_SEGMENT = 200


class BoundedIntegerConverter(IntegerConverter):
    """`<int:x>` that only matches 0..2**31-1 (an id the database can hold)."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ID,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class TextConverter(UnicodeConverter):
    """`<x>` / `<string:x>`: one path segment of at most 200 characters, without NUL or control characters."""

    def __init__(self, map, minlength: int = 1, maxlength: int | None = MAX_PATH_SEGMENT,
                 length: int | None = None) -> None:
        super().__init__(map, minlength=minlength, maxlength=maxlength, length=length)

    def to_python(self, value: str) -> str:
        if has_unstorable(value):
            raise NoMatch()
        return value


class CleanPathConverter(PathConverter):
    """`<path:x>` without NUL or control characters."""

    def to_python(self, value: str) -> str:
        if has_unstorable(value):
            raise NoMatch()
        return value


CONVERTERS = {"int": BoundedIntegerConverter, "default": TextConverter, "string": TextConverter,
              "path": CleanPathConverter}


def in_date_range(value: datetime) -> bool:
    return EARLIEST_YEAR <= value.year <= LATEST_YEAR


class BoundedDateTime(fields.AwareDateTime):
    """An ISO 8601 date-time with its zone (UTC when none is given), years 1900..2200, answered in UTC."""

    def __init__(self, **kwargs):
        kwargs.setdefault("default_timezone", UTC)
        metadata = kwargs.setdefault("metadata", {})
        metadata.setdefault("description", f"ISO 8601 date-time, years {EARLIEST_YEAR}..{LATEST_YEAR}")
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        if not in_date_range(result):
            raise ValidationError(f"a date between {EARLIEST_YEAR} and {LATEST_YEAR}")
        try:
            return result.astimezone(UTC)
        except (OverflowError, ValueError):
            raise ValidationError(f"a date between {EARLIEST_YEAR} and {LATEST_YEAR}") from None


def page_field(**kwargs) -> fields.Integer:
    return fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE), **kwargs)


def bounded_int(text: str | None, default: int, low: int, high: int) -> int:
    """A query parameter as a whole number within low..high; `default` when absent, empty or not such a number."""
    if text is None or not text.strip().lstrip("-").isdigit() or len(text.strip()) > 12:
        return default
    value = int(text)
    return value if low <= value <= high else default
