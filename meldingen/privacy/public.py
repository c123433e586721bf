"""What the public sees of a report: its public description (made by redaction, or written by staff), a point
rounded to what its category needs, and an address without the house number where the category is about a person.

Every output without sign-in (Open311 GET, public pages) goes through these functions; none reads
`Report.description` or `Report.address_text` (the resident's own words) directly. Of a status change, only what
staff chose to send residents (`ReportEvent.resident_message`) may be shown, redacted like the description
(`public_message`); its `note` is internal, always.
"""

from __future__ import annotations

from meldingen.privacy.redaction import redact_text

MAX_PUBLIC_DESCRIPTION = 4000
DEFAULT_DECIMALS = 4  # ≈ 10 m: enough to find a loose tile
PERSON_DECIMALS = 3  # ≈ 100 m: a street, not a front door


class PublicTextError(ValueError):
    """A public description staff cannot save, with the reason (Dutch, shown to staff)."""


def is_person_related(category) -> bool:
    if category is None:
        return False
    parent = category.parent
    return bool(category.person_related or (parent is not None and parent.person_related))


def make_public_description(description: str | None, category) -> str:
    return redact_text(description, person_related=is_person_related(category))


def public_message(message: str | None, category) -> str | None:
    """What staff wrote to residents with a status change, as the public may read it: through the redaction of the
    public description (a phone number or a name in it is replaced by a marker); None when there is none."""
    message = (message or "").strip()
    if not message:
        return None
    return redact_text(message, person_related=is_person_related(category)).strip() or None


def public_text(report) -> str:
    """The report's public description; one made on the spot for a report that has none stored yet."""
    if report.public_description is not None:
        return report.public_description
    return make_public_description(report.description, report.category)


def refresh_public_description(report) -> None:
    """Make the public description again from the resident's words (a new report, or a new category), unless
    staff wrote it themselves."""
    if not report.public_description_edited:
        report.public_description = make_public_description(report.description, report.category)


def set_public_description(report, text: str, *, actor: str, actor_id: int | None = None) -> None:
    """Staff write the public description themselves; it is kept as written through later category changes."""
    from meldingen.reports.services import add_event

    text = (text or "").strip()
    if len(text) > MAX_PUBLIC_DESCRIPTION:
        raise PublicTextError(f"De openbare omschrijving is te lang (meer dan {MAX_PUBLIC_DESCRIPTION} tekens).")
    report.public_description = text
    report.public_description_edited = True
    add_event(report, "public_text", actor=actor, actor_id=actor_id, data={"length": len(text)})


def coordinate_decimals(category) -> int:
    if category is not None:
        for item in (category, category.parent):
            if item is not None and item.public_coordinate_decimals is not None:
                return max(0, min(6, int(item.public_coordinate_decimals)))
    return PERSON_DECIMALS if is_person_related(category) else DEFAULT_DECIMALS


def public_point(report) -> tuple[float | None, float | None]:
    if report.lat is None or report.lon is None:
        return None, None
    decimals = coordinate_decimals(report.category)
    return round(report.lat, decimals), round(report.lon, decimals)


def public_address(report) -> str | None:
    """Most specific first, as Open311 asks ("Westerdoksdijk 40A, 1013AE Amsterdam"); without the house number
    where the category is about a person; a typed address only after redaction."""
    person = is_person_related(report.category)
    if report.address_street:
        number = None if person else report.address_number
        street = " ".join(p for p in (report.address_street, number) if p)
        place = " ".join(p for p in (report.address_postcode, report.address_city) if p)
        return ", ".join(p for p in (street, place) if p)
    if report.address_text:
        return redact_text(report.address_text, person_related=person) or None
    return None
