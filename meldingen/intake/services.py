"""The chat intake: one draft per resident and channel, filled by whatever arrives, turned into a report.

`receive_message` is called by the channels worker for every stored inbound message (the seam named in
`meldingen.channels.tasks.INTAKE_HANDLER`). It fills the draft's slots — photos, location, description — in
any order, answers commands (greeting, status, stop, new report) at once, and after a quiet period
(`INTAKE_QUIET_SECONDS`) `act_on_conversation` asks in one message for what is still missing, or makes the
report through the shared pipeline. Every reply goes through the outbox in the same transaction.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

from flask import current_app
from sqlalchemy import event, or_, select
from sqlalchemy.orm import Session

from meldingen import jobs
from meldingen.channels.messages import InboundMessage
from meldingen.db import begin_write
from meldingen.extensions import db
from meldingen.intake import language as words
from meldingen.intake.models import Conversation, ConversationMessage
from meldingen.media import refusals
from meldingen.media.refusals import refusal_text
from meldingen.notify.hooks import status_name
from meldingen.notify.outbox import queue_message
from meldingen.notify.templates import render
from meldingen.reports import pipeline
from meldingen.reports.models import Photo, Report, Reporter, ReportSubscription
from meldingen.reports.references import find_reference
from meldingen.reports.services import NewReport, OutsideServiceArea, ReportInputError, add_event, create_report
from meldingen.timeutil import as_aware_utc, utcnow

log = logging.getLogger(__name__)

# A photo without words sent this soon after a report was made is added to it.
ADD_PHOTOS_SECONDS = 30 * 60
# Asking the same thing this often without an answer: a person takes over.
STUCK_AFTER_ASKS = 3
# The same question is not asked again within this time.
REPEAT_AFTER_SECONDS = 120
# Short texts that resolve to an address are the location only; longer ones also describe the problem.
ADDRESS_ONLY_WORDS = 5


def receive_message(message: InboundMessage, *, event=None, channel=None, photo_ids=(), media_errors=()) -> None:
    """Handle one inbound message inside the caller's transaction (the caller commits)."""
    resolve_addresses_before_lock(message)
    reporter = reporter_for(message, channel)
    conversation = conversation_for(reporter)
    photo_ids = list(photo_ids or [])
    payload = (event.payload or {}) if event is not None else {}
    if event is not None and not media_errors:
        media_errors = payload.get("media_errors") or []
    # Codes of refused photos (media/refusals.py); an error without a code still gets a plain "unknown".
    refused = list(payload.get("media_refusals") or message.media_refused or ())
    if media_errors and not refused:
        refused = [refusals.UNKNOWN]
    log_inbound(conversation, message, event, photo_ids)
    if message.text:
        conversation.language = words.detect_language(message.text, conversation.language or "nl")
        reporter.language = conversation.language
    Intake(conversation, reporter, message).handle(photo_ids, refused)


handle_inbound_message = receive_message


def resolve_addresses_before_lock(message: InboundMessage) -> None:
    """A typed address is looked up (perhaps at PDOK) now, before the resident's lock is taken; the intake's
    own lookup under the lock is then answered from memory (`pipeline.resolve_typed_address`)."""
    from meldingen.geo.addressparse import parse_address

    text = (message.text or "").strip()
    if message.kind != "text" or not text:
        return
    parsed = parse_address(text)
    if parsed.number and (parsed.street or parsed.postcode):
        pipeline.resolve_typed_address(text)


def reporter_for(message: InboundMessage, channel) -> Reporter:
    """The resident on this channel, created on first contact; locked for the rest of the transaction."""
    begin_write(db.session)  # SQLite: the lock is the database's write lock, taken before the draft is read
    query = select(Reporter).where(Reporter.channel_kind == message.channel_kind,
                                   Reporter.platform_id == message.platform_user_id)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    reporter = db.session.scalar(query)
    if reporter is None:
        _insert_reporter(message, channel)
        reporter = db.session.scalar(query)
    if message.display_name and not reporter.display_name:
        reporter.display_name = message.display_name[:200]
    if channel is not None and channel.channel_id is not None:
        reporter.channel_id = channel.channel_id
    last = as_aware_utc(reporter.last_inbound_at)
    if last is None or message.sent_at > last:
        reporter.last_inbound_at = message.sent_at
    return reporter


def _insert_reporter(message: InboundMessage, channel) -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db.session.execute(
        insert(Reporter).values(
            channel_kind=message.channel_kind, platform_id=message.platform_user_id,
            channel_id=channel.channel_id if channel is not None else None,
            display_name=(message.display_name or None) and message.display_name[:200],
            language="nl", created_at=utcnow(),
        ).on_conflict_do_nothing(index_elements=["channel_kind", "platform_id"])
    )


def conversation_for(reporter: Reporter) -> Conversation:
    conversation = db.session.scalar(
        select(Conversation).where(Conversation.reporter_id == reporter.id,
                                   Conversation.channel_kind == reporter.channel_kind)
        .order_by(Conversation.id.desc()).limit(1)
    )
    if conversation is None:
        conversation = Conversation(reporter_id=reporter.id, channel_kind=reporter.channel_kind,
                                    channel_id=reporter.channel_id, state="collecting", draft={},
                                    language=reporter.language or "nl", version=0)
        db.session.add(conversation)
        db.session.flush()
    return conversation


def log_inbound(conversation: Conversation, message: InboundMessage, event, photo_ids: list[int]) -> None:
    data: dict = {}
    if message.location:
        data["location"] = {"lat": message.location.lat, "lon": message.location.lon,
                            "name": message.location.name, "address": message.location.address}
    if photo_ids:
        data["photo_ids"] = photo_ids
    if message.reply_id:
        data["reply"] = {"id": message.reply_id, "title": message.reply_title}
    if message.unsupported_type:
        data["unsupported"] = message.unsupported_type
    db.session.add(ConversationMessage(
        conversation_id=conversation.id, direction="in", at=message.sent_at, kind=message.kind,
        text=message.text or message.reply_title, data=data,
        inbound_event_id=getattr(event, "id", None),
    ))
    conversation.last_inbound_at = message.sent_at
    conversation.version = (conversation.version or 0) + 1


def flag_for_person(conversation: Conversation, reason: str) -> None:
    if not conversation.needs_person:
        conversation.needs_person = True
        conversation.needs_person_since = utcnow()
    conversation.needs_person_reason = reason[:200]


class Intake:
    """One message's effect on one conversation."""

    def __init__(self, conversation: Conversation, reporter: Reporter, message: InboundMessage | None = None):
        self.conversation = conversation
        self.reporter = reporter
        self.message = message
        self.language = conversation.language or "nl"
        self.draft = dict(conversation.draft or {})

    # --- replies ---

    def text(self, key: str, **values) -> str:
        return render(key, self.language, self.conversation.organisation_id, **values)

    def reply(self, key: str, cause: str, *, values: dict | None = None, buttons=None, location_request=False,
              report_id: int | None = None) -> None:
        values = values or {}
        body = self.text(key, **values)
        if buttons and self.reporter.channel_kind == "twilio":  # SMS has no buttons: numbered choices
            body += "\n" + self.text("choose_number") + "\n" + "\n".join(
                f"{i + 1}. {b['title']}" for i, b in enumerate(buttons))
        if buttons:
            self.draft["options"] = buttons
        payload_label = {}
        if location_request and self.reporter.channel_kind == "telegram":
            payload_label = {"location_label": self.text("button_share_location")}
        outbound = queue_message(self.reporter, body, key=f"{cause}:{key}", conversation=self.conversation,
                                 report_id=report_id, template_key=key, values=values, buttons=buttons,
                                 location_request=location_request)
        if payload_label:
            outbound.payload = {**(outbound.payload or {}), **payload_label}

    def cause(self) -> str:
        """The idempotency root of replies caused by this message (a redelivered message causes nothing new)."""
        if self.message is not None:
            return f"in:{self.message.channel_kind}:{self.message.external_id}"
        return f"conv:{self.conversation.id}:v{self.conversation.version}"

    def save(self) -> None:
        self.conversation.draft = dict(self.draft)

    # --- one inbound message ---

    def handle(self, photo_ids: list[int], refused: list[str]) -> None:
        message = self.message
        text = (message.text or "").strip()
        if refused and not photo_ids and message.kind == "photo" and (text or message.location):
            # The photo is refused, the rest of its message is not: the caption counts as typed words.
            return self._photo_refused_words_kept(refused, text)
        plain = words.normalise(text)
        if message.kind == "reply" or (plain and self._answers_option(plain)):
            if self._handle_choice(message.reply_id or self._option_for(plain), message.reply_title or text):
                return self._after_input()
        if message.kind == "text":
            if self._handle_command(text, plain):
                return self.save()
        if message.kind == "unsupported" and not photo_ids:
            self.reply("unsupported", self.cause())
            return self.save()
        if refused:
            self.reply("photo_rejected", self.cause(), values={"reason": refusal_text(refused, self.language)})
            if not photo_ids and message.kind == "photo":
                return self.save()
        if self.conversation.state == "reported":
            if message.kind == "photo" and not text and photo_ids and self._add_to_last_report(photo_ids):
                return self.save()
            self._start_new_draft()
        self._fill_slots(message, text, photo_ids)
        self._after_input()

    def _photo_refused_words_kept(self, refused: list[str], text: str) -> None:
        """Tell why the photo cannot be used, in the resident's language, and use the words and place anyway."""
        self.reply("photo_rejected_words_kept", self.cause(),
                   values={"reason": refusal_text(refused, self.language)})
        self.message = replace(self.message, kind="text" if text else "location", media=())
        if self.conversation.state == "reported":
            self._start_new_draft()
        self._fill_slots(self.message, text, [])
        self._after_input()

    def _after_input(self) -> None:
        self.save()
        quiet = int(current_app.config.get("INTAKE_QUIET_SECONDS", 8))
        if quiet <= 0:
            act_on_conversation(self.conversation, reporter=self.reporter, cause=self.cause())
            return
        self.conversation.act_after = utcnow() + timedelta(seconds=quiet)
        _act_after_commit(self.conversation.id, quiet)

    # --- commands ---

    def _handle_command(self, text: str, plain: str) -> bool:
        if plain in words.GREETINGS:
            self.reply("greeting", self.cause())
            return True
        if plain in words.CANCEL:
            if self._draft_has_content():
                self._start_new_draft()
                self.reply("cancelled", self.cause())
            else:
                self.reply("nothing_to_cancel", self.cause())
            self.conversation.act_after = None
            return True
        if plain in words.START_OVER:
            self._start_new_draft()
            self.conversation.act_after = None
            self.reply("start_over", self.cause())
            return True
        reference = find_reference(text)
        is_status = bool(words.STATUS_WORD.search(text)) or (reference is not None and len(plain.split()) <= 2)
        if is_status and (reference is not None or plain in ("status", "status?")):
            self._answer_status(reference)
            return True
        if words.PERSON.search(text) and not self._draft_has_content():
            flag_for_person(self.conversation, "de melder vraagt om een medewerker")
            self.reply("needs_person", self.cause())
            return True
        return False

    def _answer_status(self, reference: str | None) -> None:
        own = (select(Report).where(or_(
            Report.reporter_id == self.reporter.id,
            Report.id.in_(select(ReportSubscription.report_id)
                          .where(ReportSubscription.reporter_id == self.reporter.id)))))
        if reference is not None:
            report = db.session.scalar(own.where(Report.reference == reference))
            if report is None:
                self.reply("status_not_found", self.cause(), values={"reference": reference})
                return
        else:
            report = db.session.scalar(own.order_by(Report.created_at.desc(), Report.id.desc()).limit(1))
            if report is None:
                self.reply("status_no_reports", self.cause())
                return
        shown = report
        while shown.duplicate_of_id is not None and shown.status == "duplicate":
            shown = db.session.get(Report, shown.duplicate_of_id)
        note = _last_public_note(shown)
        values = {"reference": shown.reference, "own_reference": report.reference,
                  "status": status_name(shown.status, self.language),
                  "category": _category_name(shown, self.language),
                  "note": self.text("note_line", note=note) if note else ""}
        self.reply("status_reply_merged" if shown is not report else "status_reply", self.cause(),
                   values=values, report_id=shown.id)

    # --- choices (buttons, numbered answers) ---

    def _answers_option(self, plain: str) -> bool:
        return bool(self.draft.get("options")) and self._option_for(plain) is not None

    def _option_for(self, plain: str) -> str | None:
        options = self.draft.get("options") or []
        if plain.isdigit() and 1 <= int(plain) <= len(options):
            return options[int(plain) - 1]["id"]
        for option in options:
            if plain == words.normalise(option["title"]):
                return option["id"]
        if self.draft.get("awaiting") == "gps_confirm":
            if plain in words.YES:
                return "gps:yes"
            if plain in words.NO:
                return "gps:no"
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
            return True
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
        if message.location is not None:
            loc = message.location
            self.draft["location"] = {"lat": loc.lat, "lon": loc.lon,
                                      "source": "venue" if loc.name or loc.address else "pin",
                                      "name": loc.name, "address": loc.address}
            self.draft.pop("gps_candidate", None)
            self.draft.pop("awaiting", None)
            self.draft.pop("address_failed", None)
        if text:
            used_as_address = False
            if not self.draft.get("location") and message.kind == "text":
                used_as_address = self._try_typed_address(text)
            if not used_as_address:
                parts = list(self.draft.get("description") or [])
                if text not in parts:
                    parts.append(text)
                self.draft["description"] = parts

    def _try_typed_address(self, text: str) -> bool:
        """A typed address fills the location; a short text that is only an address is not the description."""
        from meldingen.geo.addressparse import parse_address

        parsed = parse_address(text)
        if not (parsed.number and (parsed.street or parsed.postcode)):
            return False
        found, geocoder_down = pipeline.resolve_typed_address(text)
        short = len(text.split()) <= ADDRESS_ONLY_WORDS
        if found is None and geocoder_down:
            # Degrade, don't refuse: the geocoder is down, not the address wrong. The report is made with the
            # typed address and no point, routed to a person who places it; the resident is not told that
            # their address cannot be found.
            self.draft["location"] = {"lat": None, "lon": None, "source": "address", "address_text": text,
                                      "unplaced": True}
            self.draft.pop("address_failed", None)
            return short
        if found is None:
            if short:
                self.draft["address_failed"] = text
                return True
            return False
        self.draft["location"] = {"lat": found["lat"], "lon": found["lon"], "source": "address",
                                  "address_text": text}
        self.draft.pop("gps_candidate", None)
        self.draft.pop("address_failed", None)
        return short

    def _draft_has_content(self) -> bool:
        return bool(self.draft.get("photos") or self.draft.get("location") or self.draft.get("description"))

    def _start_new_draft(self) -> None:
        for photo in db.session.scalars(select(Photo).where(Photo.id.in_(self.draft.get("photos") or []),
                                                            Photo.report_id.is_(None))):
            photo.conversation_id = self.conversation.id  # kept with the conversation for staff, not a report
        self.draft = {}
        self.conversation.state = "collecting"

    def _add_to_last_report(self, photo_ids: list[int]) -> bool:
        report_id = self.conversation.last_report_id
        reported_at = as_aware_utc(_parse_time(self.draft.get("reported_at")))
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


def act_on_conversation(conversation: Conversation, *, reporter: Reporter | None = None,
                        cause: str | None = None) -> str:
    """The quiet period is over: ask for what is missing (one message), or make the report. Returns what it did."""
    reporter = reporter or db.session.get(Reporter, conversation.reporter_id)
    intake = Intake(conversation, reporter)
    cause = cause or intake.cause()
    conversation.act_after = None
    draft = intake.draft
    if conversation.state == "reported" or not intake._draft_has_content():
        return "nothing"
    location, description = draft.get("location"), " ".join(draft.get("description") or []).strip()
    if location and description:
        return make_report(intake, cause)
    if draft.get("address_failed") and not location:
        missing = "address_not_found"
        intake.reply("address_not_found", cause, values={"address": draft.pop("address_failed")},
                     location_request=True)
        return _asked(intake, missing)
    if not location and draft.get("gps_candidate") and not draft.get("gps_refused"):
        named = _name_photo_place(draft["gps_candidate"], intake.language)
        if named is not None and not named.served:
            # Taken abroad or in another municipality: say where, in words, and ask for the real place.
            draft.pop("gps_candidate", None)
            draft["gps_refused"] = True
            key = "photo_location_outside" if description else "photo_location_outside_and_description"
            intake.reply(key, cause, values={"place": named.text}, location_request=True)
            return _asked(intake, key)
        key = "confirm_photo_location" if description else "confirm_photo_location_and_description"
        candidate = draft["gps_candidate"]
        draft["awaiting"] = "gps_confirm"
        buttons = [{"id": "gps:yes", "title": intake.text("button_yes")},
                   {"id": "gps:no", "title": intake.text("button_no")}]
        if _already_asked(draft, key):
            intake.save()
            return "waiting"
        intake.reply(key, cause, values={"place": _describe_point(candidate["lat"], candidate["lon"])},
                     buttons=buttons)
        return _asked(intake, key)
    key = ("ask_location_and_description" if not location and not description
           else "ask_location" if not location else "ask_description")
    if _already_asked(draft, key):
        intake.save()
        return "waiting"
    intake.reply(key, cause, location_request=not location)
    return _asked(intake, key)


def _already_asked(draft: dict, key: str) -> bool:
    """The same question was asked a moment ago (a second photo, say, needs no second question)."""
    asked = draft.get("asked") or {}
    at = as_aware_utc(_parse_time(asked.get("at")))
    return asked.get("key") == key and at is not None and (utcnow() - at).total_seconds() < REPEAT_AFTER_SECONDS


def _asked(intake: Intake, key: str) -> str:
    asked = intake.draft.get("asked") or {}
    count = asked.get("count", 0) + 1 if asked.get("key") == key else 1
    intake.draft["asked"] = {"key": key, "count": count, "at": utcnow().isoformat()}
    if count >= STUCK_AFTER_ASKS:
        flag_for_person(intake.conversation, "de melder komt er niet uit: dezelfde vraag drie keer gesteld")
    intake.save()
    return f"asked:{key}"


def make_report(intake: Intake, cause: str) -> str:
    """Location and description are known: the report, through the shared pipeline; the answer with it."""
    conversation, reporter, draft = intake.conversation, intake.reporter, intake.draft
    location = draft["location"]
    new = NewReport(
        description=" ".join(draft.get("description") or []).strip(),
        channel=conversation.channel_kind,
        lat=location.get("lat"), lon=location.get("lon"),
        address_text=location.get("address_text") or location.get("address"),
        reporter_id=reporter.id,
        actor=f"melder via {conversation.channel_kind}",
        photo_ids=list(draft.get("photos") or []),
    )
    db.session.flush()
    session_info = db.session.info
    session_info[_EXPECTING] = {"intake": intake, "cause": cause}
    try:
        report = create_report(new)  # commits, and with it the answer (see _answer_before_commit)
    except OutsideServiceArea as outside:
        session_info.pop(_EXPECTING, None)
        draft.pop("location", None)
        draft.pop("gps_candidate", None)
        if outside.in_netherlands:
            intake.reply("outside_area", cause, values={"municipality": outside.municipality_name
                                                        or outside.municipality_code})
        else:
            intake.reply("outside_netherlands", cause)
        intake.save()
        return "outside"
    except ReportInputError as exc:
        session_info.pop(_EXPECTING, None)
        flag_for_person(conversation, f"melding kon niet worden gemaakt: {exc}")
        intake.reply("needs_person", cause)
        intake.save()
        return "needs_person"
    finally:
        session_info.pop(_EXPECTING, None)
    return "duplicate" if report.duplicate_of_id else "reported"


# The answer with the reference is written inside the report's own transaction: the pipeline commits, and
# just before it does (after every after-create hook, so a merge into a known report is visible), the
# conversation is closed and the answer queued.

_EXPECTING = "meldingen_intake_expecting"
_MADE = "meldingen_intake_report"


def _remember_report(report: Report) -> None:
    if _EXPECTING in db.session.info:
        db.session.info[_MADE] = report


if _remember_report not in pipeline.AFTER_CREATE_HOOKS:
    pipeline.AFTER_CREATE_HOOKS.insert(0, _remember_report)


@event.listens_for(Session, "before_commit")
def _answer_before_commit(session: Session) -> None:
    if session.in_nested_transaction() or _MADE not in session.info:
        return
    report = session.info.pop(_MADE)
    expecting = session.info.pop(_EXPECTING, None)
    if expecting is None:
        return
    intake, cause = expecting["intake"], expecting["cause"]
    conversation = intake.conversation
    conversation.state = "reported"
    conversation.last_report_id = report.id
    conversation.organisation_id = report.organisation_id
    conversation.act_after = None
    intake.draft = {"report_id": report.id, "reported_at": utcnow().isoformat()}
    if report.duplicate_of_id is not None:
        known = session.get(Report, report.duplicate_of_id)
        intake.reply("report_known", cause, report_id=known.id, values={
            "reference": known.reference, "status": status_name(known.status, intake.language),
            "own_reference": report.reference})
    else:
        resident_text = None
        if report.category is not None:
            resident_text = report.category.resident_text if intake.language == "nl" else None
        intake.reply("report_made", cause, report_id=report.id, values={
            "reference": report.reference,
            "resident_text": resident_text or intake.text("report_made_default_handling"),
            "category": _category_name(report, intake.language)})
    intake.save()


# --- helpers ---


def _category_name(report: Report, language: str) -> str:
    category = report.category
    if category is None:
        return "-"
    return category.name_en if language == "en" and category.name_en else category.name


def _last_public_note(report: Report) -> str | None:
    """The last message staff wrote to the residents with a status change (internal notes never)."""
    for item in reversed(report.events):
        if item.kind == "status" and (item.resident_message or "").strip():
            return item.resident_message.strip()
    return None


def _name_photo_place(candidate: dict, language: str):
    """The photo's GPS named for the resident (geo/places.py), or None when it cannot be looked up."""
    try:
        from meldingen.geo.places import name_place

        return name_place(candidate["lat"], candidate["lon"], language)
    except Exception:  # the question still makes sense without a name: ask as before
        log.info("no place name for photo location", exc_info=True)
        return None


def _describe_point(lat: float, lon: float) -> str:
    try:
        from meldingen.geo.lookup import lookup_point

        place = lookup_point(lat, lon)
    except Exception:  # the question still makes sense without an address
        log.info("no address for photo location", exc_info=True)
        place = None
    if place is not None and place.address:
        address = place.address
        return " ".join(str(p) for p in (address.get("street"), address.get("number")) if p) + (
            f", {address['city']}" if address.get("city") else "")
    if place is not None:  # no address near: the neighbourhood and town, not raw coordinates
        names = [place.area_names.get(level) for level in ("neighbourhood", "municipality")]
        if any(names):
            return ", ".join(dict.fromkeys(n for n in names if n))
    return f"{lat:.5f}, {lon:.5f}"


def _parse_time(value):
    from datetime import datetime

    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _act_after_commit(conversation_id: int, quiet: int) -> None:
    pending = db.session.info.setdefault(_TIMERS, set())
    pending.add((conversation_id, quiet))


_TIMERS = "meldingen_intake_timers"


@event.listens_for(Session, "after_commit")
def _start_timers(session: Session) -> None:
    if session.in_nested_transaction():
        return
    for conversation_id, quiet in session.info.pop(_TIMERS, set()):
        jobs.enqueue_in(quiet, "intake.act", conversation_id=conversation_id)


@event.listens_for(Session, "after_rollback")
def _forget_timers(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_TIMERS, None)


def act_if_due(conversation_id: int, now=None) -> str:
    """The timer fired: act when no newer message moved the moment on (that message started its own timer)."""
    now = now or utcnow()
    conversation = db.session.get(Conversation, conversation_id)
    if conversation is None:
        return "gone"
    location = (conversation.draft or {}).get("location") or {}
    if location.get("address_text") and location.get("lat") is None:
        pipeline.resolve_typed_address(location["address_text"])  # before the lock: no network call under it
    begin_write(db.session)  # SQLite: two timers firing together must not both act (PostgreSQL: row lock below)
    reporter_query = select(Reporter).where(Reporter.id == conversation.reporter_id)
    if db.session.get_bind().dialect.name == "postgresql":
        reporter_query = reporter_query.with_for_update()
    reporter = db.session.scalar(reporter_query)
    db.session.refresh(conversation)
    due = as_aware_utc(conversation.act_after)
    if due is None:
        return "nothing"
    if due > now + timedelta(milliseconds=200):
        return "later"
    result = act_on_conversation(conversation, reporter=reporter)
    conversation.act_attempts = 0
    conversation.act_error = None
    conversation.parked_at = None
    db.session.commit()
    return result


def act_on_due_conversations(now=None, limit: int = 200) -> int:
    """The sweep: every conversation whose quiet period is over (lost timers, restarts, earlier failures)."""
    now = now or utcnow()
    ids = db.session.scalars(
        select(Conversation.id).where(Conversation.act_after.is_not(None), Conversation.act_after <= now)
        .order_by(Conversation.act_after).limit(limit)
    ).all()
    for conversation_id in ids:
        try:
            act_if_due(conversation_id, now)
        except Exception as exc:  # one conversation's failure does not stop the sweep for the others
            record_act_failure(conversation_id, exc, now)
    return len(ids)


def record_act_failure(conversation_id: int, exc: BaseException, now=None) -> str:
    """Acting on a draft failed: try again after the backoff, or park the conversation for a person."""
    from meldingen.recovery.policy import retry_delay, short_reason, should_park

    now = now or utcnow()
    db.session.rollback()
    conversation = db.session.get(Conversation, conversation_id)
    if conversation is None:
        return "gone"
    conversation.act_attempts = (conversation.act_attempts or 0) + 1
    conversation.act_error = short_reason(exc)
    if should_park(conversation.act_attempts):
        conversation.act_after = None
        conversation.parked_at = now
        flag_for_person(conversation, "de melding kon niet automatisch worden gemaakt")
        log.error("conversation %s parked: %s", conversation_id, conversation.act_error)
        db.session.commit()
        return "parked"
    delay = retry_delay(conversation.act_attempts)
    conversation.act_after = now + timedelta(seconds=delay)
    db.session.commit()
    log.warning("conversation %s: acting failed (%s); again in %ss", conversation_id, conversation.act_error, delay)
    jobs.enqueue_in(delay, "intake.act", conversation_id=conversation_id)
    return "retry"
