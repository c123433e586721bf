"""Paging reports by change: `sort=updated_at` walks reports oldest change first by a cursor on (updated_at, id).

A cursor names the last report a page ended with, by its change time and id; the next page starts strictly after
that key. Offsets would skip a report when one before it moved away (it changed, so it went to the end) and
repeat one when a report arrived before it; a key does neither: a report that changes while a client pages
moves to the end of the walk and is met there, once, in its new state (a report the client already had comes
again only because it changed again, with its new `updated_at`). Every change to a report moves `updated_at`
(reports/services.add_event), so a client that keeps the last `next` it followed, or the last report's
`updated_at`, misses nothing.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from urllib.parse import urlencode

from flask import request
from marshmallow import ValidationError
from sqlalchemy import and_, or_

from meldingen.reports.models import Report
from meldingen.timeutil import as_aware_utc

CURSOR_FIELD = "cursor"


def encode_cursor(report: Report) -> str:
    key = {"u": report.updated_at.astimezone(UTC).isoformat(), "i": report.id}
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(text: str) -> tuple[datetime, int]:
    """The (updated_at, id) a cursor carries; a ValidationError for anything this API did not hand out."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        key = json.loads(raw)
        updated_at = as_aware_utc(datetime.fromisoformat(key["u"]))
        report_id = key["i"]
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise ValidationError("not a cursor this API gave: follow the `next` link of the previous page",
                              CURSOR_FIELD) from None
    if not isinstance(report_id, int) or isinstance(report_id, bool) or not 0 <= report_id < 2**31 \
            or updated_at is None:
        raise ValidationError("not a cursor this API gave: follow the `next` link of the previous page",
                              CURSOR_FIELD)
    return updated_at, report_id


def after_key(query, key: tuple[datetime, int]):
    updated_at, report_id = key
    return query.where(or_(Report.updated_at > updated_at,
                           and_(Report.updated_at == updated_at, Report.id > report_id)))


def up_to_key(query, key: tuple[datetime, int]):
    updated_at, report_id = key
    return query.where(or_(Report.updated_at < updated_at,
                           and_(Report.updated_at == updated_at, Report.id <= report_id)))


def by_change(query):
    return query.order_by(Report.updated_at.asc(), Report.id.asc())


def next_link(last: Report) -> str:
    """This request's URL with the cursor after `last` (and no page number)."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k not in (CURSOR_FIELD, "page")]
    args.append((CURSOR_FIELD, encode_cursor(last)))
    return f"{request.base_url}?{urlencode(args)}"
