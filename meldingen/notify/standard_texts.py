"""Standard texts: ready replies staff pick from when they write to a report's residents, per status and
category, and reply texts for the shared inbox's conversations (purpose "inbox"), kept by administrators as
data. General texts (no organisation) and an organisation's own ones."""

from __future__ import annotations

from sqlalchemy import or_, select

from meldingen.extensions import db
from meldingen.notify.models import StandardText

MAX_TITLE = 200
MAX_BODY = 2000
# What a text is for: the status message to a report's residents, or an agent's reply in the inbox.
PURPOSES = {"report": "bericht aan melder bij een status", "inbox": "antwoord in de inbox"}


class StandardTextRefused(ValueError):
    """A standard text that cannot be saved; the message (Dutch) says why."""


def texts_for_report(report, status: str | None = None) -> list[StandardText]:
    """The active texts that fit the report: its organisation's own and the general ones, for its sub or main
    category or any category, for `status` (or every status when None) or any status. Most specific first."""
    category = report.category
    category_ids = [c.id for c in (category, category.parent if category is not None else None) if c is not None]
    query = select(StandardText).where(
        StandardText.active.is_(True), StandardText.purpose == "report",
        or_(StandardText.organisation_id.is_(None), StandardText.organisation_id == report.organisation_id),
        or_(StandardText.category_id.is_(None), StandardText.category_id.in_(category_ids or [0])),
    )
    if status is not None:
        query = query.where(or_(StandardText.status.is_(None), StandardText.status == status))
    texts = db.session.scalars(query).all()

    def specificity(text: StandardText):
        return (text.category_id is None, text.status is None, text.organisation_id is None, text.position,
                text.title)

    return sorted(texts, key=specificity)


def texts_for_inbox(organisation_id: int | None) -> list[StandardText]:
    """The active inbox reply texts for a conversation of this organisation (its own first, then the general
    ones), in their order."""
    texts = db.session.scalars(select(StandardText).where(
        StandardText.active.is_(True), StandardText.purpose == "inbox",
        or_(StandardText.organisation_id.is_(None), StandardText.organisation_id == organisation_id))).all()
    return sorted(texts, key=lambda t: (t.organisation_id is None, t.position, t.title))


def save_standard_text(data: dict, text: StandardText | None = None, *, organisation_ids: list[int | None]):
    """Create or change a standard text from plain form data; `organisation_ids` are those the administrator
    keeps (None: the general texts). Raises StandardTextRefused with a Dutch reason. Does not commit."""
    from meldingen.categories.models import Category
    from meldingen.reports.models import Status

    title = (data.get("title") or "").strip()
    body = (data.get("body") or "").strip()
    if not title or not body:
        raise StandardTextRefused("Geef een titel en een tekst.")
    if len(title) > MAX_TITLE or len(body) > MAX_BODY:
        raise StandardTextRefused(f"De titel mag hoogstens {MAX_TITLE} en de tekst {MAX_BODY} tekens lang zijn.")
    purpose = (data.get("purpose") or "report").strip()
    if purpose not in PURPOSES:
        raise StandardTextRefused("Kies waarvoor de tekst is: een statusbericht of een antwoord in de inbox.")
    status = (data.get("status") or "").strip() or None
    if status is not None and db.session.get(Status, status) is None:
        raise StandardTextRefused(f"De status ‘{status}’ bestaat niet.")
    category_id = None
    raw_category = str(data.get("category_id") or "").strip()
    if raw_category:
        if not raw_category.isdigit() or db.session.get(Category, int(raw_category)) is None:
            raise StandardTextRefused("Deze categorie bestaat niet.")
        category_id = int(raw_category)
    organisation_id = data.get("organisation_id")
    if organisation_id not in organisation_ids:
        raise StandardTextRefused("U beheert de teksten van deze organisatie niet.")
    if text is not None and text.organisation_id not in organisation_ids:
        raise StandardTextRefused("U beheert de teksten van deze organisatie niet.")
    raw_position = str(data.get("position") or "0").strip()
    if not raw_position.isdigit() or int(raw_position) > 10_000:
        raise StandardTextRefused("De volgorde is een heel getal van 0 tot 10000.")
    if text is None:
        text = StandardText()
        db.session.add(text)
    if purpose == "inbox":  # a conversation has no status or category of its own
        status, category_id = None, None
    text.title, text.body, text.status, text.category_id = title, body, status, category_id
    text.purpose = purpose
    text.organisation_id = organisation_id
    text.position = int(raw_position)
    text.active = bool(data.get("active", True))
    db.session.flush()
    return text


DEFAULT_INBOX_TEXTS = [
    ("Welke plek?", "Kunt u de plek precies doorgeven? Deel uw locatie of noem het adres of een huisnummer in de "
                    "buurt."),
    ("Foto graag", "Wilt u een foto sturen? Dan zien we meteen wat er aan de hand is."),
    ("Doorgestuurd", "Bedankt voor uw bericht. We hebben het doorgestuurd naar de afdeling die erover gaat."),
]

DEFAULT_STANDARD_TEXTS = [
    # (status, main category slug or None, title, body)
    ("done", None, "Opgelost", "Het probleem is opgelost. Bedankt dat u het meldde!"),
    ("done", None, "Niet gevonden", "Op de plek die u doorgaf, hebben we het probleem niet gevonden. Is het er "
                                    "nog? Maak dan een nieuwe melding met een foto."),
    ("planned", None, "Ingepland", "We hebben het werk ingepland. U hoort van ons als het klaar is."),
    ("in_progress", None, "Wordt bekeken", "Een medewerker gaat ernaar kijken."),
    ("cancelled", None, "Niet van de gemeente", "Dit valt niet onder de gemeente. We hebben uw melding daarom "
                                                "gestopt."),
    ("done", "afval", "Opgeruimd", "Het afval is opgehaald. Bedankt voor uw melding!"),
    ("done", "wegen-verkeer-straatmeubilair", "Hersteld", "De bestrating is hersteld. Bedankt voor uw melding!"),
]


def install_default_standard_texts() -> int:
    """The shipped general texts, added once (when there are no general texts yet). Returns how many."""
    from meldingen.categories.models import Category
    from meldingen.reports.models import Status

    if db.session.scalar(select(StandardText.id).where(StandardText.organisation_id.is_(None)).limit(1)):
        return 0
    added = 0
    for position, (status, main_slug, title, body) in enumerate(DEFAULT_STANDARD_TEXTS):
        if db.session.get(Status, status) is None:
            continue
        category_id = None
        if main_slug is not None:
            category_id = db.session.scalar(select(Category.id).where(Category.slug == main_slug,
                                                                      Category.parent_id.is_(None)))
            if category_id is None:
                continue
        db.session.add(StandardText(status=status, category_id=category_id, title=title, body=body,
                                    position=position, active=True))
        added += 1
    for position, (title, body) in enumerate(DEFAULT_INBOX_TEXTS):
        db.session.add(StandardText(purpose="inbox", title=title, body=body, position=position, active=True))
        added += 1
    db.session.flush()
    return added
