"""The GeoReport v2 shapes: categories and reports as the spec's dicts, and those dicts as the spec's XML.

JSON follows the spec's Spark convention: a list of objects where the XML has a root with repeated children.
Only public fields of a report are written: no reporter, no platform ids, no photo URLs (photos are staff-only);
the public description instead of the resident's words, and a rounded point (privacy/public.py).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime

from meldingen.privacy.public import public_address, public_point, public_text
from meldingen.timeutil import AMSTERDAM, as_aware_utc

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
FORMATS = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
MAX_DESCRIPTION = 4000  # the spec's limit for a request's description

# XML element of each item where the JSON has a list (the Spark convention, as in the spec's examples).
LIST_ITEMS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
    "service_requests_updates": "request_update",
}

# Characters XML 1.0 cannot carry at all, even escaped; chat text can contain them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass
class PublicDetails:
    """What the request shape needs beyond the report itself, loaded once for a whole list."""

    open_codes: frozenset[str]
    notes: dict[int, str] = field(default_factory=dict)  # report id → last message to residents, redacted
    notices: dict[tuple[int, int], str] = field(default_factory=dict)  # (organisation, category) → own text

    def service_notice(self, report) -> str | None:
        """The handling text, without what it says about the chat (an Open311 client's user has none with us)."""
        category = report.category
        if category is None:
            return None
        own = self.notices.get((report.organisation_id, category.id)) if report.organisation_id else None
        return without_chat_sentences(own or category.resident_text or "") or None


# A sentence of a handling text that speaks of the resident's chat ("U krijgt een bericht in deze chat …").
_CHAT_SENTENCE = re.compile(r"\b(?:chat|chatten|chatbericht)\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def without_chat_sentences(text: str) -> str:
    """A handling text written for the chat, with the sentences about the chat left out (the rest stays as
    written, line breaks included)."""
    lines = []
    for line in text.splitlines():
        kept: list[str] = []
        for sentence in (s for s in _SENTENCE_END.split(line.strip()) if s):
            if not _CHAT_SENTENCE.search(sentence):
                kept.append(sentence)
            elif kept and sentence.split(" ", 1)[0].lower() in ("dan", "then"):
                kept.pop()  # "Is iets niet duidelijk? Dan vragen we het u in deze chat.": the question goes too
        if kept:
            lines.append(" ".join(kept))
    return "\n".join(lines).strip()


def w3c_datetime(value: datetime | None) -> str | None:
    """ISO 8601 in Dutch local time with its offset, whole seconds: 2026-11-23T21:05:00+01:00."""
    value = as_aware_utc(value)
    return value.astimezone(AMSTERDAM).replace(microsecond=0).isoformat() if value else None


def exact_w3c_datetime(value: datetime | None) -> str | None:
    """As `w3c_datetime`, with the fraction of a second (W3C's "decimal fraction of a second" form)."""
    value = as_aware_utc(value)
    return value.astimezone(AMSTERDAM).isoformat(timespec="microseconds") if value else None


def service_to_dict(category) -> dict:
    parent = category.parent
    keywords = [k for k in (category.name_en, parent.name if parent else None, parent.name_en if parent else None) if k]
    return {
        "service_code": category.slug,
        "service_name": category.name,
        "description": category.name_en or category.name,
        "metadata": False,
        "type": "realtime",
        "keywords": ", ".join(dict.fromkeys(keywords)),
        "group": parent.name if parent else None,
    }


def service_definition_to_dict(category) -> dict:
    return {"service_code": category.slug, "attributes": []}


def status_notes(report, details: PublicDetails) -> str | None:
    if report.duplicate_of is not None:
        return f"Duplicate of {report.duplicate_of.reference}"
    return details.notes.get(report.id)


def request_to_dict(report, details: PublicDetails) -> dict:
    """One service request, in the spec's element order; public fields only."""
    category = report.category
    is_open = report.status in details.open_codes
    updated = report.updated_at if is_open or report.closed_at is None else report.closed_at
    description = public_text(report)  # never the resident's own words
    lat, lon = public_point(report)
    if len(description) > MAX_DESCRIPTION:
        description = description[: MAX_DESCRIPTION - 1] + "…"
    return {
        "service_request_id": report.reference,
        "status": "open" if is_open else "closed",
        "status_notes": status_notes(report, details),
        "service_name": category.name if category else None,
        "service_code": category.slug if category else None,
        "description": description,
        "agency_responsible": report.organisation.name if report.organisation is not None else None,
        "service_notice": details.service_notice(report),
        "requested_datetime": w3c_datetime(report.created_at),
        "updated_datetime": w3c_datetime(updated),
        "expected_datetime": w3c_datetime(report.deadline),
        "address": public_address(report),
        "address_id": report.address_id or None,
        "zipcode": report.address_postcode or None,
        "lat": lat,
        "long": lon,
        "media_url": None,  # photos are shown to staff only
    }


def created_to_dicts(report, details: PublicDetails) -> list[dict]:
    """The answer to POST requests: we create synchronously, so the id and never a token. A request merged into
    a known one at once (the same problem, already reported) answers the known request's id, which stays open and
    is the one to follow, and says so in `service_notice`."""
    known = report.duplicate_of
    if known is not None:
        while known.duplicate_of is not None:
            known = known.duplicate_of
        notice = (f"Dit probleem was al gemeld als {known.reference}. Uw melding is daaraan toegevoegd; volg "
                  f"{known.reference} voor de voortgang.")
        handling = details.service_notice(known)
        return [{"service_request_id": known.reference,
                 "service_notice": f"{notice} {handling}" if handling else notice, "account_id": None}]
    return [{"service_request_id": report.reference, "service_notice": details.service_notice(report),
             "account_id": None}]


def token_to_dicts(report, token: str) -> list[dict]:
    return [{"service_request_id": report.reference, "token": token}]


def discovery_to_dict(endpoint_url: str, changeset: str, contact: str, key_service: str) -> dict:
    return {
        "changeset": changeset,
        "contact": contact,
        "key_service": key_service,
        "endpoints": [{
            "specification": SPECIFICATION,
            "url": endpoint_url,
            "changeset": changeset,
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }],
    }


def errors_to_dicts(status: int, *descriptions: str) -> list[dict]:
    return [{"code": status, "description": text} for text in descriptions]


def to_xml(root: str, data) -> bytes:
    """The spec's XML for `data` under element `root`: lists become repeated children (see LIST_ITEMS)."""
    element = _element(root, data)
    ET.indent(element)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(element, encoding="utf-8") + b"\n"


def _element(tag: str, value) -> ET.Element:
    element = ET.Element(tag)
    if isinstance(value, dict):
        for key, item in value.items():
            element.append(_element(key, item))
    elif isinstance(value, list):
        child = LIST_ITEMS[tag]
        for item in value:
            element.append(_element(child, item))
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = _NOT_XML.sub("", str(value))
    return element
