"""The chat intake: one draft per resident and channel, filled by whatever arrives, turned into a report.

`receive_message` is called by the channels worker for every stored inbound message (it receives
`signals.message_received`, connected by `create_app`). It first decides what the message means (`understanding`:
greeting, thanks, status question, correction, cancel, a request for a person, something about a report
already made, or a problem) and answers the first kinds at once; a problem fills the draft's slots (photos,
location, description; `slots` takes a typed address out of a sentence) in any order, and after a quiet period
(`INTAKE_QUIET_SECONDS`) `reporting.act_on_conversation` asks in one message for what is still missing, or
makes the report. What is not text is answered by kind: a reaction, a sticker or a live location's update
("quiet") is only logged; a voice note, a poll or a file gets "please type", unless it carries words (a video's
or a document's caption), which are read like a photo's caption. Every reply goes through the outbox in the
same transaction; the caller commits.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from flask import current_app
from sqlalchemy import select

from meldingen.channels.messages import InboundMessage
from meldingen.extensions import db
from meldingen.geo.search import known_street
from meldingen.geo.typed import TypedAddress
from meldingen.intake import language as words
from meldingen.intake.draft import (
    MAX_DRAFT_SOURCES,
    RECENT_REPORT_SECONDS,
    Intake,
    category_name,
    flag_for_person,
    parse_time,
    within_draft_bounds,
)
from meldingen.intake.inbound import conversation_for, edited_original, log_inbound, platform_message_key, reporter_for
from meldingen.intake.questions import answer_question
from meldingen.intake.replies import replied_report
from meldingen.intake.reporting import act_after_quiet_period, act_if_due, act_on_conversation, record_act_failure
from meldingen.intake.slots import address_in_text, completed_address, number_only, place_without_number
from meldingen.intake.status import answer_status, open_reports
from meldingen.intake.understanding import Understanding, house_number_only, normalise, understand
from meldingen.media import refusals
from meldingen.media.models import Photo
from meldingen.media.refusals import refusal_text
from meldingen.notify.outbox import release_held_messages
from meldingen.pipeline import Prepared
from meldingen.reports.models import Report
from meldingen.reports.services import add_event
from meldingen.residents.models import Conversation, ConversationMessage, Reporter
from meldingen.timeutil import as_aware_utc, utcnow

log = logging.getLogger(__name__)

__all__ = ["receive_message", "handle_inbound_message", "act_if_due", "act_on_conversation", "flag_for_person",
           "record_act_failure"]

# A photo without words sent this soon after a report was made is added to it.
ADD_PHOTOS_SECONDS = RECENT_REPORT_SECONDS


def receive_message(message: InboundMessage, *, event=None, channel=None, photo_ids=(), media_errors=()) -> None:
    """Handle one inbound message inside the caller's transaction (the caller commits)."""
    prepared = resolve_addresses_before_lock(message)
    reporter = reporter_for(message, channel)
    release_held_messages(reporter)  # the resident wrote: WhatsApp's 24-hour window is open again
    conversation = conversation_for(reporter)
    photo_ids = list(photo_ids or [])
    payload = (event.payload or {}) if event is not None else {}
    if event is not None and not media_errors:
        media_errors = payload.get("media_errors") or []
    # Codes of refused photos (media/refusals.py); an error without a code still gets a plain "unknown".
    refused = list(payload.get("media_refusals") or message.media_refused or ())
    if media_errors and not refused:
        refused = [refusals.UNKNOWN]
    key = platform_message_key(message, event)
    original = edited_original(conversation, key) if message.edited else None
    log_inbound(conversation, message, event, photo_ids, key)
    if message.kind == "quiet":
        # A reaction, a sticker, a live location moving: logged for the inbox, acknowledged by the platform's
        # 200, and nothing more: no question, no "please type", no draft, the quiet period left as it was.
        return
    if message.text:
        conversation.language = words.detect_language(message.text, conversation.language or "nl")
        reporter.language = conversation.language
    MessageIntake(conversation, reporter, message, key, prepared).handle(photo_ids, refused, original)


handle_inbound_message = receive_message


def resolve_addresses_before_lock(message: InboundMessage) -> Prepared:
    """A typed address (alone or inside a sentence or caption) is looked up, perhaps at PDOK, now, before the
    resident's lock is taken; the intake's own lookups under the lock (and the pipeline's, when the message
    makes the report) are then answered from the returned `Prepared`."""
    prepared = Prepared()
    text = (message.text or "").strip()
    if message.kind in ("text", "photo") and text:
        address_in_text(text, prepared.match_address)
        _complete_address_before_lock(message, text, prepared)
    return prepared


def _complete_address_before_lock(message: InboundMessage, text: str, prepared: Prepared) -> None:
    """A house number alone completes the street (or postcode) the draft holds, a street alone the number it
    holds: that address is looked up now too, from the draft as it is before the lock (read, not locked)."""
    number = number_only(text)
    hint = None if number is not None else place_without_number(text, known_street)
    if number is None and hint is None:
        return
    draft = db.session.scalar(
        select(Conversation.draft).join(Reporter, Reporter.id == Conversation.reporter_id)
        .where(Reporter.channel_kind == message.channel_kind, Reporter.platform_id == message.platform_user_id,
               Conversation.channel_kind == message.channel_kind)
        .order_by(Conversation.id.desc()).limit(1)) or {}
    place = draft.get("place_hint") if number is not None else (hint.as_dict() if hint else None)
    number = number if number is not None else draft.get("number_hint")
    if place and number and not draft.get("location"):
        prepared.match_address(completed_address(place, number))


class MessageIntake(Intake):
    """What one inbound message does: its meaning first, then the slots it fills."""

    def __init__(self, conversation: Conversation, reporter: Reporter, message: InboundMessage, key: str,
                 prepared: Prepared | None = None):
        super().__init__(conversation, reporter, message)
        self.key = key
        self.prepared = prepared or Prepared()  # typed addresses looked up before the lock

    def handle(self, photo_ids: list[int], refused: list[str], original: ConversationMessage | None) -> None:
        message = self.message
        text = (message.text or "").strip()
        if refused and not photo_ids and message.kind == "photo" and (text or message.location):
            # The photo is refused, the rest of its message is not: the caption counts as typed words.
            return self._photo_refused_words_kept(refused, text)
        plain = normalise(text)
        if message.edited and original is not None and message.kind in ("text", "photo"):
            if self._apply_edit(text):
                return
        if message.kind == "reply" or (plain and self._answers_option(plain)):
            if self._handle_choice(message.reply_id or self._option_for(plain), message.reply_title or text):
                return
        if message.kind == "text":
            replied = replied_report(self.reporter, self.message.context_id if self.message else None)
            meaning = understand(text, replace(self.state(has_open_report=True),
                                               replying_to_report=replied is not None))
            if meaning.intent == "status" and meaning.reference is None and replied is not None:
                meaning = replace(meaning, reference=replied.reference)  # the report the replied message named
            handler = self._HANDLERS.get(meaning.intent)
            if handler is not None and handler(self, meaning) is not False:
                return
            text = meaning.text or text  # "Hallo, boom om" describes "boom om"
            if answer_question(self, text, self.cause()):  # "hoe verleng ik mijn paspoort": not a report
                return
        if message.kind == "unsupported" and not photo_ids:
            if text:  # a video's or a file's caption: the words count, as a photo's would
                return self._photo_refused_words_kept([refusals.NOT_IMAGE], text)
            self.reply("unsupported", self.cause())
            return self.save()
        if refused:
            self.reply("photo_rejected", self.cause(), values={"reason": refusal_text(refused, self.language)})
            if not photo_ids and message.kind == "photo":
                return self.save()
        if self.conversation.state == "reported":
            if message.kind == "photo" and not text and photo_ids and self._add_to_last_report(photo_ids):
                return self.save()
            self.start_new_draft()
        self.drop_unsent_questions()
        self._fill_slots(message, text, photo_ids)
        self._after_input()

    def _photo_refused_words_kept(self, refused: list[str], text: str) -> None:
        """Tell why the photo (or the video, the file) cannot be used, in the resident's language, and use the
        words and place anyway."""
        self.reply("photo_rejected_words_kept", self.cause(),
                   values={"reason": refusal_text(refused, self.language)})
        self.message = replace(self.message, kind="text" if text else "location", media=())
        if self.conversation.state == "reported":
            self.start_new_draft()
        self.drop_unsent_questions()
        self._fill_slots(self.message, text, [])
        self._after_input()

    def _after_input(self) -> None:
        self.save()
        quiet = int(current_app.config.get("INTAKE_QUIET_SECONDS", 8))
        if quiet <= 0:
            act_on_conversation(self.conversation, reporter=self.reporter, cause=self.cause(),
                                prepared=self.prepared)
            return
        act_after_quiet_period(self.conversation, quiet)

    # --- what the message means (each returns False when the message is a problem after all) ---

    def _greeting(self, meaning: Understanding):
        self.reply("greeting", self.cause())
        self.save()

    def _thanks(self, meaning: Understanding):
        if self.conversation.state != "reported" and self.has_content():
            return self.save()  # mid-draft: nothing to add; the question that is due still comes
        self.reply("thanks_reply", self.cause())
        self.save()

    def _cancel(self, meaning: Understanding):
        report = self.recent_report() if meaning.text else None
        if report is not None:  # "laat maar, is al opgeruimd" just after the report: staff should know
            add_event(report, "note", actor=f"melder via {self.reporter.channel_kind}",
                      note=f"Aanvulling van de melder: {meaning.text}"[:2000], data={"from_resident": True})
            self.reply("correction_added", self.cause(), report_id=report.id,
                       values={"reference": report.reference})
            return self.save()
        if self.conversation.state != "reported" and self.has_content():
            self.drop_unsent_questions()
            self.start_new_draft()
            self.reply("cancelled", self.cause())
        else:
            self.reply("nothing_to_cancel", self.cause())
        self.conversation.act_after = None
        self.save()

    def _start_over(self, meaning: Understanding):
        self.drop_unsent_questions()
        self.start_new_draft()
        self.conversation.act_after = None
        self.reply("start_over", self.cause())
        self.save()

    def _status(self, meaning: Understanding):
        answer_status(self, self.cause(), meaning.reference)
        self.save()

    def _person(self, meaning: Understanding):
        flag_for_person(self.conversation, "de melder vraagt om een medewerker")
        self.reply("needs_person", self.cause())
        self.save()

    def _about_existing(self, meaning: Understanding):
        """"De lamp is nog steeds kapot": about a report already made, or a new problem? Ask, do not guess."""
        reports = open_reports(self.reporter)
        if not reports:
            return False
        report = reports[0]
        if self.conversation.state == "reported":
            self.start_new_draft()
        self.draft["awaiting"] = "about_report"
        self.draft["pending"] = {"text": meaning.text, "reference": report.reference}
        buttons = [{"id": "about:yes", "title": self.text("button_yes")},
                   {"id": "about:no", "title": self.text("button_no")}]
        self.reply("ask_about_report", self.cause(), buttons=buttons, report_id=report.id, values={
            "reference": report.reference, "category": self._category(report)})
        self.save()

    def _category(self, report: Report) -> str:
        return category_name(report, self.language)

    def _correction(self, meaning: Understanding):
        """"nee, het is bij nummer 12", "sorry, ik bedoel de lantaarnpaal": the place or the words just sent."""
        corrected = meaning.text
        if self.conversation.state == "reported":
            report = self.recent_report()
            if report is None:
                return False
            add_event(report, "note", actor=f"melder via {self.reporter.channel_kind}",
                      note=f"Aanvulling van de melder: {corrected}"[:2000], data={"from_resident": True})
            self.reply("correction_added", self.cause(), report_id=report.id,
                       values={"reference": report.reference})
            return self.save()
        self.drop_unsent_questions()
        number = house_number_only(corrected)
        if number is not None:
            self._move_to_number(number)
        else:
            place = address_in_text(corrected, self.prepared.search_typed_address)
            if place is not None and place.found is not None:
                self._set_address(place.found, place.address_text)
                if place.description:
                    self._replace_last_words(place.description)
            else:
                self._replace_last_words(corrected)
        self._after_input()

    def _move_to_number(self, number: str) -> None:
        if not self.draft.get("location") and self.draft.get("place_hint"):  # "bij de houtmankade" … "nee, 14"
            return self._complete_address(self.draft["place_hint"], number)
        street, city = self._known_street()
        if street is None:
            self.draft["address_failed"] = number
            self.draft.pop("location", None)
            return
        typed = f"{street} {number}" + (f", {city}" if city else "")
        found = self.prepared.search_typed_address(typed)
        if found is None or found.get("match") not in (None, "address"):
            self.draft["address_failed"] = typed
            self.draft.pop("location", None)
            return
        self._set_address(found, typed)

    def _known_street(self) -> tuple[str | None, str | None]:
        location = self.draft.get("location") or {}
        address = location.get("found_address") or {}
        if address and address.get("street"):
            return address["street"], address.get("city")
        if location.get("lat") is not None:
            try:
                from meldingen.geo.lookup import lookup_point

                place = lookup_point(location["lat"], location["lon"])
            except Exception:  # no street known: the resident is asked for the whole address
                log.info("no street for a corrected house number", exc_info=True)
                return None, None
            if place is not None and place.address and place.address.get("street"):
                return place.address["street"], place.address.get("city")
        return None, None

    def _replace_last_words(self, corrected: str) -> None:
        parts = list(self.draft.get("description") or [])
        if parts:
            parts[-1] = corrected
        else:
            parts = [corrected]
        self.draft["description"] = parts

    _HANDLERS = {
        "greeting": _greeting, "thanks": _thanks, "cancel": _cancel, "start_over": _start_over,
        "status": _status, "person": _person, "about_existing": _about_existing, "correction": _correction,
    }

    # --- an edit (Telegram edited_message): the new words replace the ones they edit ---

    def _apply_edit(self, text: str) -> bool:
        """True when the edit was applied; False when it is to be handled as a new message (it edits a
        message that filled no slot of this draft, such as a greeting)."""
        source = (self.draft.get("sources") or {}).get(self.key)
        if self.conversation.state == "reported":
            report = self.recent_report()
            if report is not None and text:
                add_event(report, "note", actor=f"melder via {self.reporter.channel_kind}",
                          note=f"De melder heeft een bericht aangepast: {text}"[:2000], data={"from_resident": True})
                self.reply("edit_added", self.cause(), report_id=report.id, values={"reference": report.reference})
            self.save()
            return True
        if source is None:
            return False
        self.drop_unsent_questions()
        parts = list(self.draft.get("description") or [])
        if source.get("description") in parts:
            parts.remove(source["description"])
        self.draft["description"] = parts
        if source.get("address"):
            self.draft.pop("location", None)
            self.draft.pop("address_failed", None)
        self._fill_slots(self.message, text, [])
        self._after_input()
        return True

    # --- choices (buttons, numbered answers) ---

    def _answers_option(self, plain: str) -> bool:
        return bool(self.draft.get("options")) and self._option_for(plain) is not None

    def _option_for(self, plain: str) -> str | None:
        options = self.draft.get("options") or []
        if plain.isdigit() and 1 <= int(plain) <= len(options):
            return options[int(plain) - 1]["id"]
        for option in options:
            if plain == normalise(option["title"]):
                return option["id"]
        awaiting = self.draft.get("awaiting")
        prefix = {"gps_confirm": "gps", "about_report": "about"}.get(awaiting or "")
        if prefix:
            if plain in words.YES:
                return f"{prefix}:yes"
            if plain in words.NO:
                return f"{prefix}:no"
        return None

    def _handle_choice(self, choice: str | None, title: str | None) -> bool:
        if not choice:
            return False
        self.draft.pop("options", None)
        if choice in ("gps:yes", "gps:no") and self.draft.get("gps_candidate"):
            candidate = self.draft.pop("gps_candidate")
            self.draft.pop("awaiting", None)
            if choice == "gps:yes" and not self.draft.get("location"):
                self.draft["location"] = {"lat": candidate["lat"], "lon": candidate["lon"], "source": "photo"}
            else:
                self.draft["gps_refused"] = True
            self.drop_unsent_questions()
            self._after_input()
            return True
        if choice in ("about:yes", "about:no") and self.draft.get("pending"):
            pending = self.draft.pop("pending")
            self.draft.pop("awaiting", None)
            if choice == "about:yes":
                answer_status(self, self.cause(), pending.get("reference"))
                self.save()
                return True
            self._fill_slots(self.message, pending.get("text") or "", [])
            self._after_input()
            return True
        self.save()
        return False

    # --- slots ---

    def _fill_slots(self, message: InboundMessage, text: str, photo_ids: list[int]) -> None:
        self.draft.setdefault("started_at", utcnow().isoformat())
        if photo_ids:
            known = list(self.draft.get("photos") or [])
            self.draft["photos"] = known + [p for p in photo_ids if p not in known]
            for photo in db.session.scalars(select(Photo).where(Photo.id.in_(photo_ids))):
                photo.conversation_id = self.conversation.id
                if photo.gps_lat is not None and photo.gps_lon is not None and not self.draft.get("gps_candidate"):
                    self.draft["gps_candidate"] = {"lat": photo.gps_lat, "lon": photo.gps_lon, "photo_id": photo.id}
        if message is not None and message.location is not None:
            loc = message.location
            self.draft["location"] = {"lat": loc.lat, "lon": loc.lon,
                                      "source": "venue" if loc.name or loc.address else "pin",
                                      "name": loc.name, "address": loc.address}
            self.draft.pop("gps_candidate", None)
            self.draft.pop("awaiting", None)
            self.draft.pop("address_failed", None)
        if not text:
            return
        source = {"address": False, "description": None}
        description = text
        if not self.draft.get("location"):
            description = self._take_address(text)
            source["address"] = description != text
        if description:
            parts = list(self.draft.get("description") or [])
            if description not in parts and within_draft_bounds(parts, description):
                parts.append(description)
                source["description"] = description
            self.draft["description"] = parts
        sources = dict(self.draft.get("sources") or {})
        sources[self.key] = source
        self.draft["sources"] = dict(list(sources.items())[-MAX_DRAFT_SOURCES:])

    def _take_address(self, text: str) -> str:
        """An address typed in the text places the report; returns the words that are left to describe it.

        A house number alone completes the street or postcode typed before ("bij de houtmankade" … "nr 14"), a
        street alone the number typed before; an address that is not found is named back to the resident."""
        number = number_only(text)
        if number is not None:
            if self.draft.get("place_hint"):
                self._complete_address(self.draft["place_hint"], number)
            else:
                self.draft["number_hint"] = number
            return ""
        place = address_in_text(text, self.prepared.match_address)
        if place is None:
            hint = place_without_number(text, known_street)
            if hint is None:
                return text
            self.draft["place_hint"] = hint.as_dict()
            if self.draft.get("number_hint"):
                self._complete_address(hint.as_dict(), self.draft["number_hint"])
            return hint.description
        typed = place.typed or TypedAddress(place.address_text)
        if place.found is None and typed.geocoder_unavailable:
            # Degrade, don't refuse: the geocoder is down, not the address wrong. The report is made with the
            # typed address and no point, routed to a person who places it; the resident is not told that
            # their address cannot be found.
            self.draft["location"] = {"lat": None, "lon": None, "source": "address",
                                      "address_text": place.address_text, "unplaced": True}
            self.draft.pop("address_failed", None)
            return place.description
        if place.found is None:
            self.draft["address_failed"] = typed.looked_for if typed.street else place.address_text
            if typed.names_a_place:  # "Westerdoksdijk 999" … "sorry, 99": the number completes the street
                self.draft["place_hint"] = {"street": typed.street, "postcode": typed.postcode}
            return place.description
        self.prepared.remember_address(place.address_text, typed)
        self._set_address(place.found, place.address_text)
        return place.description

    def _complete_address(self, hint: dict, number: str) -> None:
        """The street (or postcode) known from earlier messages with the house number just typed."""
        typed_text = completed_address(hint, number)
        typed = self.prepared.match_address(typed_text)
        self.draft.pop("number_hint", None)
        if typed.found is not None:
            self._set_address(typed.found, typed_text)
        elif typed.geocoder_unavailable:
            self.draft["location"] = {"lat": None, "lon": None, "source": "address", "address_text": typed_text,
                                      "unplaced": True}
            self.draft.pop("address_failed", None)
        else:
            self.draft["address_failed"] = typed.looked_for

    def _set_address(self, found: dict, typed: str) -> None:
        self.draft["location"] = {"lat": found["lat"], "lon": found["lon"], "source": "address",
                                  "address_text": typed, "found_address": found.get("address")}
        for key in ("gps_candidate", "address_failed", "place_hint", "number_hint"):
            self.draft.pop(key, None)

    def _add_to_last_report(self, photo_ids: list[int]) -> bool:
        report_id = self.conversation.last_report_id
        reported_at = as_aware_utc(parse_time(self.draft.get("reported_at")))
        if report_id is None or reported_at is None:
            return False
        if (utcnow() - reported_at).total_seconds() > ADD_PHOTOS_SECONDS:
            return False
        report = db.session.get(Report, report_id)
        if report is None:
            return False
        for photo in db.session.scalars(select(Photo).where(Photo.id.in_(photo_ids))):
            photo.report_id = report.id
            photo.conversation_id = self.conversation.id
        add_event(report, "photo", actor=f"melder via {self.reporter.channel_kind}",
                  data={"photo_ids": photo_ids})
        self.reply("photo_added", self.cause(), values={"reference": report.reference}, report_id=report.id)
        return True
