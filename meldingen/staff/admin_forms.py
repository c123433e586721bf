"""Administrators' forms turned into plain data, or refused with a Dutch reason: handling days, and routing rules
built from pickers (categories, areas, organisations, weekdays, times) instead of typed JSON. Pure functions over
the form's values; what must exist (categories, areas, departments) is checked by the routing services."""

from __future__ import annotations

import re
from collections.abc import Mapping

MAX_HANDLING_DAYS = 365
WEEKDAYS = [(0, "ma"), (1, "di"), (2, "wo"), (3, "do"), (4, "vr"), (5, "za"), (6, "zo")]
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class FormRefused(ValueError):
    """What an administrator typed cannot be saved; the message (Dutch, plain) says why and what is allowed."""


def parse_handling_days(text: str | None) -> int | None:
    """Handling days as a whole number from 0 to 365; empty means "no deadline". "drie", -3 and 3.5 are refused."""
    value = (text or "").strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_HANDLING_DAYS:
        raise FormRefused(f"Afhandeltermijn ‘{value[:20]}’ kan niet: vul een heel aantal dagen in, van 0 tot "
                          f"{MAX_HANDLING_DAYS} (bijvoorbeeld 3), of laat het leeg voor geen termijn.")
    return int(value)


def _values(form, name: str) -> list[str]:
    getlist = getattr(form, "getlist", None)
    raw = getlist(name) if getlist is not None else form.get(name) or []
    if isinstance(raw, str):
        raw = [raw]
    out: list[str] = []
    for item in raw:
        for part in str(item).replace(";", ",").split(","):
            if part.strip() and part.strip() not in out:
                out.append(part.strip())
    return out


def rule_from_form(form: Mapping) -> dict:
    """A routing rule's data (as the routing services take it) from the rule form's fields."""
    conditions: dict = {}
    for key in ("main_slugs", "sub_slugs"):
        if values := [v.lower() for v in _values(form, key)]:
            conditions[key] = values
    if values := [v.upper() for v in _values(form, "organisation_codes")]:
        conditions["organisation_codes"] = values
    if values := [v.upper() for v in _values(form, "area_codes")]:
        conditions["area_codes"] = values
    if values := _values(form, "asset_types"):
        conditions["asset_types"] = values
    days = _values(form, "weekdays")
    if days:
        if not all(d.isdigit() and 0 <= int(d) <= 6 for d in days):
            raise FormRefused("Kies de dagen met de vakjes ma tot en met zo.")
        conditions["weekdays"] = sorted({int(d) for d in days})
    time_from, time_to = (form.get("time_from") or "").strip(), (form.get("time_to") or "").strip()
    if time_from or time_to:
        if not (_TIME.match(time_from) and _TIME.match(time_to)):
            raise FormRefused("Vul bij een tijdvak zowel ‘van’ als ‘tot’ in als uu:mm, bijvoorbeeld 22:00 tot 07:00.")
        if time_from == time_to:
            raise FormRefused("‘Van’ en ‘tot’ van het tijdvak moeten verschillen.")
        conditions["time_from"], conditions["time_to"] = time_from, time_to
    name = (form.get("name") or "").strip()
    if not name:
        raise FormRefused("Geef de regel een naam, zodat u hem later terugvindt.")
    data = {
        "name": name[:200],
        "active": form.get("active") == "1",
        "conditions": conditions,
        "organisation_code": (form.get("organisation_code") or "").strip().upper() or None,
        "department_code": (form.get("department_code") or "").strip().upper() or None,
    }
    if not data["organisation_code"] and not data["department_code"]:
        raise FormRefused("Kies waar de melding heen gaat: een afdeling, een organisatie of allebei.")
    position = (form.get("position") or "").strip()
    if position:
        if not (position.isascii() and position.isdigit()) or int(position) > 1_000_000:
            raise FormRefused("De positie is een heel getal van 0 tot 1000000 (lager gaat eerst).")
        data["position"] = int(position)
    return data
