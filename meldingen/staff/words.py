"""The words staff read for what the system recorded: a report's history in Dutch (from each event's data, so
rows written before the texts were Dutch read the same), who did it, a count with its noun ("1 dag", "3 dagen"),
why a conversation waits for a person, and why the status table refuses a move. Plain functions; the staff views
register them for the templates."""

from __future__ import annotations

from sqlalchemy import select

from meldingen.extensions import db

# Actors that are not a person's e-mail address.
ACTORS = {"system": "automatisch", "cli": "beheerder (opdrachtregel)", "demo": "voorbeeldgegevens",
          "open311": "Open311-koppeling"}
# Why a conversation waits for a person, for reasons stored as a code (older rows, sample data).
REASONS = {"question": "de melder stelt een vraag", "person": "de melder vraagt om een medewerker",
           "stuck": "de melder komt er niet uit", "failed": "de melding kon niet automatisch worden gemaakt"}
KINDS = {"created": "aangemaakt", "photo": "foto toegevoegd", "routing": "doorgezet", "assign": "toegewezen",
         "merge": "samengevoegd", "unmerge": "weer een eigen melding", "category": "categorie gewijzigd",
         "note": "notitie", "public_text": "openbare omschrijving gewijzigd", "recurrence": "opnieuw gemeld"}
# Kinds whose note the system wrote (the line above says it already); other notes are staff's own words.
SYSTEM_NOTES = frozenset({"routing", "merge", "unmerge", "recurrence"})


def count(n: int, singular: str, plural: str) -> str:
    """ "1 dag", "0 dagen", "3 dagen"."""
    return f"{n} {singular if n == 1 else plural}"


def actor_name(actor: str | None) -> str:
    """Who did it, as staff say it: a colleague's address as it is, "automatisch" for the system, "melder via
    WhatsApp" for a resident on a channel."""
    from meldingen.staff.residents import channel_name

    actor = actor or "system"
    if actor in ACTORS:
        return ACTORS[actor]
    if actor.startswith("melder via "):
        return "melder via " + channel_name(actor.removeprefix("melder via "))
    return actor


def reason_text(reason: str | None) -> str:
    return REASONS.get(reason or "", reason or "")


def status_refusal(current: str, new: str, names: dict) -> str:
    """Why the status table refuses a move from `current` to `new`, in the status names staff know."""
    from meldingen.reports.statuses import load_status_table

    table = load_status_table()
    if new not in table.names:
        return f"de status ‘{new}’ bestaat niet"
    if (current, new) not in table.moves:
        return f"een melding met status ‘{names.get(current, current)}’ kan niet naar ‘{names.get(new, new)}’"
    return f"van ‘{names.get(current, current)}’ naar ‘{names.get(new, new)}’ gaat alleen met een notitie"


def history_lines(report) -> dict[int, str]:
    """{event id: what happened, in Dutch}, for every event of the report except status changes (the page shows
    those as "Gemeld → In behandeling"). Names of organisations, departments, rules and categories are looked up
    once for the whole history."""
    from meldingen.categories.models import Category
    from meldingen.organisations.models import Department, Organisation
    from meldingen.routing.models import RoutingRule
    from meldingen.staff.residents import channel_name

    events = [e for e in report.events if e.kind != "status"]
    organisations = dict(db.session.execute(select(Organisation.code, Organisation.name)).all())
    departments = dict(db.session.execute(select(Department.code, Department.name).where(
        Department.organisation_id == report.organisation_id)).all())
    rule_ids = [e.data.get("rule_id") for e in events if e.kind == "routing" and isinstance(e.data, dict)]
    rules = dict(db.session.execute(select(RoutingRule.id, RoutingRule.name).where(
        RoutingRule.id.in_([r for r in rule_ids if isinstance(r, int)] or [0]))).all())
    slugs = [s for e in events if e.kind == "category" and isinstance(e.data, dict)
             for s in (e.data.get("from"), e.data.get("to")) if s]
    categories = dict(db.session.execute(select(Category.slug, Category.name).where(
        Category.slug.in_(slugs or [""]))).all())

    def department(code):
        return f"{departments[code]} ({code})" if code in departments else (code or "geen afdeling")

    lines = {}
    for event in events:
        data = event.data if isinstance(event.data, dict) else {}
        text = KINDS.get(event.kind, "gewijzigd")
        if event.kind == "created" and data.get("channel") not in (None, "staff"):
            text = f"aangemaakt via {channel_name(data['channel'])}"
        elif event.kind == "routing" and "organisation" in data:
            org = data.get("organisation")
            text = f"doorgezet naar {organisations.get(org, org) if org else 'geen organisatie'}"
            if data.get("department"):
                text += f", afdeling {department(data['department'])}"
            if data.get("rule_id") is not None:
                name = rules.get(data["rule_id"])
                text += f" (volgens regel ‘{name}’)" if name else " (volgens een regel die niet meer bestaat)"
            else:
                text += " (geen regel past: de afdeling van de categorie)"
        elif event.kind == "routing" and isinstance(data.get("department"), list):
            old, new = (data["department"] + [None, None])[:2]
            text = f"andere afdeling: {department(old)} → {department(new)}"
        elif event.kind in ("assign", "routing") and isinstance(data.get("assignee"), list):
            new = (data["assignee"] + [None, None])[1]
            text = f"toegewezen aan {new}" if new else "niet meer aan iemand toegewezen"
        elif event.kind == "category":
            old, new = data.get("from"), data.get("to")
            text = (f"categorie gewijzigd: {categories.get(old, old) if old else 'geen'} → "
                    f"{categories.get(new, new) if new else 'geen'}")
        elif event.kind == "merge" and data.get("into"):
            text = f"samengevoegd met {data['into']}"
        elif event.kind == "merge" and data.get("duplicate"):
            text = f"{data['duplicate']} is met deze melding samengevoegd"
        elif event.kind == "unmerge" and data.get("from"):
            text = f"weer een eigen melding (losgemaakt van {data['from']})"
        elif event.kind == "unmerge" and data.get("duplicate"):
            text = f"{data['duplicate']} is weer een eigen melding"
        elif event.kind == "recurrence" and event.note:
            text = event.note[:1].lower() + event.note[1:]  # "opnieuw gemeld, na M-… afgehandeld op …"
        lines[event.id] = text
    return lines


# What each reply text to residents is for, as the administrators' page names it (the key is what the code uses).
REPLY_TEXT_NAMES = {
    "address_not_found": "adres niet gevonden", "ask_about_report": "vraag: gaat het over deze melding?",
    "ask_description": "vraag om een beschrijving", "ask_location": "vraag om de plek",
    "ask_location_and_description": "vraag om de plek en een beschrijving", "button_no": "knop ‘nee’",
    "button_share_location": "knop ‘deel locatie’", "button_yes": "knop ‘ja’",
    "cancelled": "melding gestopt door de melder", "choose_number": "vraag: kies een nummer",
    "confirm_photo_location": "vraag: is het probleem op de plek van de foto?",
    "confirm_photo_location_and_description": "vraag: plek van de foto goed, en wat is er aan de hand?",
    "correction_added": "aanvulling bij de melding gezet", "edit_added": "aangepast bericht bij de melding gezet",
    "greeting": "begroeting", "needs_person": "een medewerker kijkt ernaar", "note_line": "regel met toelichting",
    "nothing_to_cancel": "niets om te stoppen", "outside_area": "plek in een andere gemeente",
    "outside_netherlands": "plek buiten Nederland", "photo_added": "foto toegevoegd aan de melding",
    "photo_location_outside": "foto gemaakt buiten ons gebied",
    "photo_location_outside_and_description": "foto buiten ons gebied, vraag om plek en beschrijving",
    "photo_rejected": "foto niet te gebruiken", "photo_rejected_words_kept": "foto niet te gebruiken, tekst wel",
    "report_known": "probleem is al bekend", "report_made": "melding gemaakt, met meldnummer",
    "report_made_default_handling": "wat er met de melding gebeurt (algemeen)",
    "start_over": "nieuwe melding beginnen", "status_changed": "nieuws over de melding",
    "status_expected": "wanneer het klaar moet zijn", "status_line": "regel in het overzicht van meldingen",
    "status_more_reports": "en nog meer meldingen", "status_no_reports": "geen meldingen gevonden",
    "status_none_open": "geen open meldingen", "status_not_found": "meldnummer niet gevonden",
    "status_open_reports": "overzicht van open meldingen", "status_reply": "antwoord op ‘hoe staat het?’",
    "status_reply_merged": "antwoord op ‘hoe staat het?’ bij een samengevoegde melding",
    "thanks_reply": "antwoord op ‘bedankt’", "unsupported": "bericht dat niet te lezen is",
}
LANGUAGE_NAMES = {"nl": "Nederlands", "en": "Engels"}


def reply_text_name(key: str) -> str:
    """ "report_made" → "melding gemaakt, met meldnummer"; a category's handling text by its code."""
    if key in REPLY_TEXT_NAMES:
        return REPLY_TEXT_NAMES[key]
    if key.startswith("handling_"):
        return f"wat er gebeurt bij afhandelcode {key.removeprefix('handling_')}"
    return key
