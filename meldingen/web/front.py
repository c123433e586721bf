"""/: the public front page. It decides what a resident is told about the service: what it is for, the ways to
report that are switched on (the website chat, and each chat platform configured, by its public name), and where
staff sign in. It shows no secret, platform address or number (only a contact a stored channel names as public,
`settings["public_contact"]`), and nothing of any resident or report."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template

from meldingen.channels.adapters import all_adapters
from meldingen.channels.registry import channels_of_kind

bp = Blueprint("front", __name__)

@dataclass(frozen=True)
class ReportingWay:
    """One way to report, as the front page lists it."""

    name: str
    contact: str = ""  # only a contact the organisation configured as public


def reporting_ways() -> list[ReportingWay]:
    """The chat platforms switched on (a configured default or an active stored channel), each named once."""
    ways: dict[str, ReportingWay] = {}
    for adapter in all_adapters():
        if adapter.public_name is None:
            continue  # the website chat is the page's own link
        for channel in channels_of_kind(adapter.kind):
            name = adapter.public_channel_name(channel)
            if name is None:
                continue
            contact = str((channel.settings or {}).get("public_contact") or "").strip()[:100]
            known = ways.get(name)
            if known is None or (contact and not known.contact):
                ways[name] = ReportingWay(name, contact)
    return sorted(ways.values(), key=lambda way: way.name.lower())


@bp.get("/")
def front_page():
    return render_template("web/front.html", ways=reporting_ways())
