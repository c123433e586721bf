"""Reply texts for residents: shipped defaults (Dutch and English), administrators' edits, safe rendering.

A text is looked up by key and language, first the organisation's own version, then the general one, then
the default shipped here. Placeholders are `{name}`; only plain names are filled, anything else in braces
(`{a.b}`, `{0}`, `{x!r}`) is left as written, so an administrator's typo can never reach into objects.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from meldingen.extensions import db
from meldingen.notify.models import ReplyTemplate

LANGUAGES = ("nl", "en")

# key → {language: body}. Plain language (B1), one message per situation.
DEFAULT_TEMPLATES: dict[str, dict[str, str]] = {
    "greeting": {
        "nl": "Hallo! Hier meldt u een probleem in de openbare ruimte, zoals een losse stoeptegel, een kapotte "
              "lantaarnpaal of een volle container.\nStuur een foto, de plek en een korte beschrijving.\n"
              "Wilt u weten hoe het met een melding staat? Stuur 'status' en het meldnummer, "
              "bijvoorbeeld: status M-ABC234.",
        "en": "Hello! Here you can report a problem in a public space, such as a loose paving tile, a broken "
              "street light or a full container.\nSend a photo, the location and a short description.\n"
              "Want to know how a report is doing? Send 'status' and the reference, for example: status M-ABC234.",
    },
    "ask_location_and_description": {
        "nl": "Bedankt. Waar is het probleem, en wat is er aan de hand?\nDeel de locatie (of typ het adres) "
              "en beschrijf het probleem in een paar woorden.",
        "en": "Thank you. Where is the problem, and what is wrong?\nShare the location (or type the address) "
              "and describe the problem in a few words.",
    },
    "ask_location": {
        "nl": "Bedankt. Waar is het probleem? Deel de locatie, of typ het adres (bijvoorbeeld: Kerkstraat 12, "
              "Emmen).",
        "en": "Thank you. Where is the problem? Share the location, or type the address (for example: "
              "Kerkstraat 12, Emmen).",
    },
    "ask_description": {
        "nl": "Bedankt. Wat is er aan de hand? Beschrijf het probleem in een paar woorden.",
        "en": "Thank you. What is wrong? Describe the problem in a few words.",
    },
    "confirm_photo_location": {
        "nl": "Uw foto is gemaakt bij {place}. Is het probleem daar?",
        "en": "Your photo was taken at {place}. Is the problem there?",
    },
    "confirm_photo_location_and_description": {
        "nl": "Uw foto is gemaakt bij {place}. Is het probleem daar? Beschrijf ook in een paar woorden wat er "
              "aan de hand is.",
        "en": "Your photo was taken at {place}. Is the problem there? Please also describe in a few words "
              "what is wrong.",
    },
    "photo_location_outside": {
        "nl": "Uw foto is gemaakt {place}. Die plek valt buiten ons gebied. Waar is het probleem? Deel de locatie "
              "of typ het adres.",
        "en": "Your photo was taken {place}. That place is outside our area. Where is the problem? Share the "
              "location or type the address.",
    },
    "photo_location_outside_and_description": {
        "nl": "Uw foto is gemaakt {place}. Die plek valt buiten ons gebied. Waar is het probleem? Deel de locatie "
              "of typ het adres. Beschrijf ook in een paar woorden wat er aan de hand is.",
        "en": "Your photo was taken {place}. That place is outside our area. Where is the problem? Share the "
              "location or type the address. Please also describe in a few words what is wrong.",
    },
    "report_made": {
        "nl": "Bedankt voor uw melding! Uw meldnummer is {reference}.\n{resident_text}\n"
              "Wilt u weten hoe het ermee staat? Stuur: status {reference}",
        "en": "Thank you for your report! Your reference is {reference}.\n{resident_text}\n"
              "Want to know how it is doing? Send: status {reference}",
    },
    "report_made_default_handling": {
        "nl": "We sturen uw melding naar de afdeling die dit oplost. U hoort van ons als er iets verandert.",
        "en": "We send your report to the team that fixes this. You will hear from us when something changes.",
    },
    "report_known": {
        "nl": "Bedankt! Dit probleem is al bij ons bekend onder meldnummer {reference} (status: {status}).\n"
              "We laten u weten wanneer het is opgelost.",
        "en": "Thank you! This problem is already known to us as report {reference} (status: {status}).\n"
              "We will let you know when it is fixed.",
    },
    "outside_area": {
        "nl": "Deze plek ligt in de gemeente {municipality}. Meldingen daar behandelen wij niet. Meld het "
              "probleem bij de gemeente {municipality} zelf: via hun website of telefoonnummer 14 en het "
              "netnummer.\nIs de plek niet goed? Deel dan opnieuw de locatie of typ het adres.",
        "en": "This place is in the municipality of {municipality}. We do not handle reports there. Please "
              "report the problem to the municipality of {municipality} itself, on its website or by phone.\n"
              "Is the place wrong? Share the location again or type the address.",
    },
    "outside_netherlands": {
        "nl": "Deze plek ligt niet in Nederland, dus wij kunnen er geen melding van maken. Meld het bij de "
              "gemeente van die plek.\nIs de plek niet goed? Deel dan opnieuw de locatie of typ het adres.",
        "en": "This place is not in the Netherlands, so we cannot take a report about it. Please report it to "
              "the local municipality there.\nIs the place wrong? Share the location again or type the address.",
    },
    "address_not_found": {
        "nl": "We kunnen het adres \"{address}\" niet vinden. Deel de locatie, of typ straat, huisnummer en "
              "plaats.",
        "en": "We cannot find the address \"{address}\". Share the location, or type street, house number and "
              "town.",
    },
    "address_number_not_found": {
        "nl": "We kunnen het adres \"{address}\" niet vinden: dat huisnummer kennen we niet bij {street}. Typ het "
              "goede huisnummer, of deel de locatie.",
        "en": "We cannot find the address \"{address}\": we do not know that house number on {street}. Type the "
              "right house number, or share the location.",
    },
    "ask_house_number": {
        "nl": "Bedankt. Wat is het huisnummer bij {place}? Typ het nummer, of deel de locatie.",
        "en": "Thank you. What is the house number at {place}? Type the number, or share the location.",
    },
    "status_reply": {
        "nl": "Melding {reference} ({category}): {status}.\n{expected}\n{note}",
        "en": "Report {reference} ({category}): {status}.\n{expected}\n{note}",
    },
    "status_open_reports": {
        "nl": "Dit zijn uw open meldingen, de nieuwste eerst:\n{reports}\n{more}",
        "en": "These are your open reports, newest first:\n{reports}\n{more}",
    },
    "status_line": {
        "nl": "- {reference} ({category}): {status}. {expected}",
        "en": "- {reference} ({category}): {status}. {expected}",
    },
    "status_expected": {
        "nl": "We verwachten het uiterlijk {date} op te lossen.",
        "en": "We expect to deal with it by {date}.",
    },
    "status_more_reports": {
        "nl": "En nog {count} meer. Stuur 'status' en een meldnummer voor één melding.",
        "en": "And {count} more. Send 'status' and a reference for one report.",
    },
    "status_none_open": {
        "nl": "U heeft op dit moment geen open meldingen. Uw laatste melding {reference} is: {status}.\n"
              "Wilt u iets nieuws melden? Stuur een foto, de plek en een korte beschrijving.",
        "en": "You have no open reports right now. Your last report {reference} is: {status}.\n"
              "Want to report something new? Send a photo, the location and a short description.",
    },
    "thanks_reply": {
        "nl": "Graag gedaan! Ziet u nog iets anders? Stuur dan gerust een nieuw bericht.",
        "en": "You're welcome! If you see anything else, just send us a new message.",
    },
    "ask_about_report": {
        "nl": "Bedoelt u uw melding {reference} ({category})?",
        "en": "Do you mean your report {reference} ({category})?",
    },
    "correction_added": {
        "nl": "Dank u. We hebben dit bij melding {reference} gezet, zodat de medewerker het ziet.",
        "en": "Thank you. We have added this to report {reference}, so the person handling it will see it.",
    },
    "edit_added": {
        "nl": "We hebben uw aangepaste bericht bij melding {reference} gezet.",
        "en": "We have added your edited message to report {reference}.",
    },
    "status_reply_merged": {
        "nl": "Melding {own_reference} is samengevoegd met melding {reference} over hetzelfde probleem "
              "({category}): {status}.\n{note}",
        "en": "Report {own_reference} was merged with report {reference} about the same problem "
              "({category}): {status}.\n{note}",
    },
    "status_not_found": {
        "nl": "We vinden geen melding {reference} van u. Kijk of het nummer klopt; het staat in ons eerste "
              "antwoord op uw melding.",
        "en": "We cannot find a report {reference} of yours. Please check the number; it is in our first reply "
              "to your report.",
    },
    "status_no_reports": {
        "nl": "We vinden nog geen meldingen van u. Wilt u iets melden? Stuur een foto, de plek en een korte "
              "beschrijving.",
        "en": "We do not have any reports from you yet. Want to report something? Send a photo, the location "
              "and a short description.",
    },
    "status_changed": {
        "nl": "Nieuws over uw melding {reference}: {status}.\n{note}",
        "en": "News about your report {reference}: {status}.\n{note}",
    },
    "note_line": {
        "nl": "Toelichting: {note}",
        "en": "Note: {note}",
    },
    "cancelled": {
        "nl": "Goed, we stoppen met deze melding. Wilt u later iets melden? Stuur dan een foto of een "
              "beschrijving.",
        "en": "All right, we have stopped this report. Want to report something later? Just send a photo or "
              "a description.",
    },
    "second_problem": {
        "nl": "U noemde ook een ander probleem: \"{other}\". Deze melding gaat alleen over het eerste. Wilt u "
              "het andere ook melden? Stuur het dan in een nieuw bericht, met de plek.",
        "en": "You also mentioned another problem: \"{other}\". This report is only about the first one. Do you "
              "want to report the other one too? Please send it in a new message, with its location.",
    },
    "nothing_to_cancel": {
        "nl": "Er is geen melding bezig. Wilt u iets melden? Stuur een foto, de plek en een korte beschrijving.",
        "en": "There is no report in progress. Want to report something? Send a photo, the location and a "
              "short description.",
    },
    "start_over": {
        "nl": "Prima, we beginnen een nieuwe melding. Stuur een foto, de plek en een korte beschrijving.",
        "en": "Fine, let's start a new report. Send a photo, the location and a short description.",
    },
    "photo_added": {
        "nl": "Bedankt, de foto is toegevoegd aan melding {reference}.",
        "en": "Thank you, the photo was added to report {reference}.",
    },
    "photo_rejected": {
        "nl": "Deze foto kunnen we niet gebruiken: {reason}. Stuur een andere foto, bijvoorbeeld jpg of png.",
        "en": "We cannot use this photo: {reason}. Please send another photo, for example jpg or png.",
    },
    "photo_rejected_words_kept": {
        "nl": "Deze foto kunnen we niet gebruiken: {reason}. Uw tekst hebben we wel ontvangen. U kunt nog een "
              "andere foto sturen, maar dat hoeft niet.",
        "en": "We cannot use this photo: {reason}. We did receive your text. You can send another photo, but "
              "you do not have to.",
    },
    "unsupported": {
        "nl": "Sorry, dit soort berichten (zoals spraakberichten en video's) kunnen we niet lezen. Wilt u het "
              "probleem in een paar woorden typen, of een foto sturen?",
        "en": "Sorry, we cannot read this kind of message (such as voice messages and videos). Could you type "
              "the problem in a few words, or send a photo?",
    },
    "needs_person": {
        "nl": "Dit kunnen we niet automatisch beantwoorden. Een medewerker kijkt ernaar en reageert zo snel "
              "mogelijk, op werkdagen.",
        "en": "We cannot answer this automatically. A member of staff will look at it and reply as soon as "
              "possible, on working days.",
    },
    "question_answer": {
        "nl": "{answer}\n\nWilt u een probleem in de openbare ruimte melden? Stuur dan een foto, de plek en een "
              "korte beschrijving.",
        "en": "{answer}\n\nWant to report a problem in a public space? Send a photo, the location and a short "
              "description.",
    },
    "question_for_person": {
        "nl": "Dit is een vraag, geen melding. Een medewerker beantwoordt uw vraag zo snel mogelijk, hier in de "
              "chat.\nWilt u een probleem in de openbare ruimte melden? Stuur dan een foto, de plek en een korte "
              "beschrijving.",
        "en": "This is a question, not a report. A member of staff will answer it as soon as possible, here in "
              "the chat.\nWant to report a problem in a public space? Send a photo, the location and a short "
              "description.",
    },
    "question_for_person_closed": {
        "nl": "Dit is een vraag, geen melding. Onze medewerkers zijn er nu niet. Een medewerker beantwoordt uw "
              "vraag {when}, hier in de chat.\nWilt u een probleem in de openbare ruimte melden? Dat kan altijd: "
              "stuur een foto, de plek en een korte beschrijving.",
        "en": "This is a question, not a report. Our staff are not available now. A member of staff will answer "
              "your question {when}, here in the chat.\nWant to report a problem in a public space? You can do "
              "that at any time: send a photo, the location and a short description.",
    },
    "button_yes": {"nl": "Ja", "en": "Yes"},
    "button_no": {"nl": "Nee", "en": "No"},
    "button_share_location": {"nl": "📍 Deel locatie", "en": "📍 Share location"},
    "choose_number": {
        "nl": "Antwoord met het nummer:",
        "en": "Reply with the number:",
    },
}

# How a category's reports are handled, per Signalen handling code: Signalen's handling times and the gist of
# its texts, rewritten for chat (no e-mail; the resident does hear in this chat when the report is done).
HANDLING_TEXTS: dict[str, dict[str, str]] = {
    "A3DEC": {
        "nl": "We lossen dit meestal binnen 3 werkdagen op. U krijgt een bericht in deze chat als het klaar is, of "
              "als het langer duurt.",
        "en": "We usually fix this within 3 working days. You will get a message in this chat when it is done, or "
              "if it takes longer.",
    },
    "A3DEVOMC": {
        "nl": "Binnen 3 werkdagen laten we u weten wat we hebben gedaan. Kunnen we het nog niet oppakken, dan hoort "
              "u wanneer wel. U krijgt onze berichten in deze chat.",
        "en": "Within 3 working days we will tell you what we have done. If we cannot deal with it yet, you will "
              "hear when we can. Our messages come in this chat.",
    },
    "A3DMC": {
        "nl": "Binnen 3 werkdagen laten we u weten wat we hebben gedaan. Kunnen we het nog niet oppakken, dan hoort "
              "u wanneer wel. We houden u op de hoogte in deze chat.",
        "en": "Within 3 working days we will tell you what we have done. If we cannot deal with it yet, you will "
              "hear when we can. We will keep you posted in this chat.",
    },
    "A3WEC": {
        "nl": "We lossen dit meestal binnen 3 weken op. U krijgt een bericht in deze chat als het klaar is, of als "
              "het langer duurt.",
        "en": "We usually fix this within 3 weeks. You will get a message in this chat when it is done, or if it "
              "takes longer.",
    },
    "A3WMC": {
        "nl": "Binnen 3 weken laten we u weten wat we hebben gedaan. Kunnen we het nog niet oppakken, dan hoort u "
              "wanneer wel. We houden u op de hoogte in deze chat.",
        "en": "Within 3 weeks we will tell you what we have done. If we cannot deal with it yet, you will hear when "
              "we can. We will keep you posted in this chat.",
    },
    "GLADZC": {
        "nl": "Bij gladheid door sneeuw of bladeren maken we eerst de hoofdwegen en fietsroutes schoon. Andere "
              "plekken komen daarna.",
        "en": "When snow or leaves make roads slippery, we clear the main roads and cycle routes first. Other "
              "places follow after that.",
    },
    "I5DMC": {
        "nl": "We plannen uw melding in. Binnen 5 werkdagen laten we u in deze chat weten hoe en wanneer we het "
              "oplossen.",
        "en": "We will plan your report. Within 5 working days we will tell you in this chat how and when we will "
              "fix it.",
    },
    "KLOKLICHTZC": {
        "nl": "Gevaarlijke situaties lossen we zo snel mogelijk op. Andere dingen kunnen wat langer duren. We kunnen "
              "u niet altijd tussendoor laten weten hoe het gaat.",
        "en": "We fix dangerous situations as soon as possible. Other things can take a little longer. We cannot "
              "always tell you how it is going in the meantime.",
    },
    "REST": {
        "nl": "We bekijken uw melding en sturen hem naar de afdeling die dit oplost. Is iets niet duidelijk? Dan "
              "vragen we het u in deze chat.",
        "en": "We will look at your report and send it to the team that deals with this. If anything is unclear, "
              "we will ask you in this chat.",
    },
    "STOPEC": {
        "nl": "Gevaarlijke situaties lossen we zo snel mogelijk op. Andere situaties meestal binnen 5 werkdagen. "
              "Lukt dat niet, dan laten we u in deze chat weten hoe we het oppakken.",
        "en": "We fix dangerous situations as soon as possible, other situations usually within 5 working days. "
              "If we cannot, we will tell you in this chat how we will deal with it.",
    },
    "WS1EC": {
        "nl": "We geven uw melding door aan de handhavers. Als het kan, komen ze meteen in actie, maar ze zijn niet "
              "altijd snel genoeg ter plekke.\nBlijf overlast melden, ook als we niet meteen iets kunnen doen. We "
              "gebruiken alle meldingen om overlast in de toekomst te beperken.",
        "en": "We pass your report on to the enforcement officers. When they can, they act at once, but they "
              "cannot always be there quickly enough.\nPlease keep reporting nuisance, even when we cannot act at "
              "once. We use every report to reduce nuisance in the future.",
    },
    "WS2EC": {
        "nl": "We geven uw melding door aan onze handhavers. Zij kijken of er meteen iets moet gebeuren, "
              "bijvoorbeeld omdat er olie lekt of omdat de boot gevaarlijk is voor andere boten.\nIs dat niet "
              "nodig, dan pakken we uw melding op buiten het vaarseizoen (september tot maart).",
        "en": "We pass your report on to our enforcement officers. They check whether something must happen at "
              "once, for example because oil is leaking or the boat is a danger to other boats.\nIf not, we will "
              "deal with your report outside the boating season (September to March).",
    },
}
DEFAULT_TEMPLATES.update({f"handling_{code}": texts for code, texts in HANDLING_TEXTS.items()})

_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def install_default_templates() -> int:
    """Add the shipped texts that are not in the database yet; administrators' edits are kept. Returns how many."""
    existing = {
        (key, language)
        for key, language in db.session.execute(
            select(ReplyTemplate.key, ReplyTemplate.language).where(ReplyTemplate.organisation_id.is_(None))
        )
    }
    added = 0
    for key, bodies in DEFAULT_TEMPLATES.items():
        for language, body in bodies.items():
            if (key, language) not in existing:
                db.session.add(ReplyTemplate(key=key, language=language, organisation_id=None, body=body))
                added += 1
    db.session.flush()
    return added


def template_body(key: str, language: str = "nl", organisation_id: int | None = None) -> str:
    """The text for `key`: the organisation's own, else the general one, in the language, else in Dutch."""
    language = language if language in LANGUAGES else "nl"
    rows = db.session.execute(
        select(ReplyTemplate.language, ReplyTemplate.organisation_id, ReplyTemplate.body).where(
            ReplyTemplate.key == key, ReplyTemplate.language.in_({language, "nl"})
        )
    ).all()

    found = {(row.organisation_id, row.language): row.body for row in rows}
    shipped = DEFAULT_TEMPLATES.get(key, {})
    for lang in dict.fromkeys((language, "nl")):
        for owner in ((organisation_id, None) if organisation_id is not None else (None,)):
            if (owner, lang) in found:
                return found[(owner, lang)]
        if lang in shipped:
            return shipped[lang]
    raise KeyError(f"no reply template {key!r}")


def fill(body: str, values: dict) -> str:
    """Replace `{name}` with values[name] (as text); unknown or non-simple fields stay as they are."""

    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name not in values or values[name] is None:
            return "" if name in values else match.group(0)
        return str(values[name])

    return _FIELD.sub(replace, body.replace("{{", "\x00").replace("}}", "\x01")).replace("\x00", "{").replace(
        "\x01", "}")


def render(key: str, language: str = "nl", organisation_id: int | None = None, **values) -> str:
    """The filled-in text for a resident; lines left empty by missing values are dropped."""
    text = fill(template_body(key, language, organisation_id), values)
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line).strip()
