"""The quiet period is over: ask in one message for what the draft still lacks, or make the report through the
shared pipeline and queue the answer (reference, handling time in the resident's language) from the report it
returns, in the same transaction. Also the quiet-period timers and what a failed attempt leaves behind.

Nothing here commits: the intake's task (`intake/tasks.py`) and the channels' processing task do.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from meldingen import jobs, pipeline
from meldingen.classify.services import suggest_categories
from meldingen.db import begin_write
from meldingen.extensions import db
from meldingen.intake.draft import Intake, category_name, draft_description, flag_for_person, parse_time
from meldingen.intake.inbound import unprocessed_messages
from meldingen.intake.problems import two_problems
from meldingen.notify.hooks import status_name
from meldingen.reports.models import Report
from meldingen.reports.services import NewReport, OutsideServiceArea, ReportInputError, add_event
from meldingen.residents.models import Conversation, Reporter
from meldingen.timeutil import as_aware_utc, utcnow

log = logging.getLogger(__name__)

# Asking the same thing this often without an answer: a person takes over.
STUCK_AFTER_ASKS = 3
# The same question is not asked again within this time.
REPEAT_AFTER_SECONDS = 120
# A decision held back for the resident's messages still being taken in looks again after this long.
WAIT_FOR_MESSAGES_SECONDS = 1


def act_on_conversation(conversation: Conversation, *, reporter: Reporter | None = None,
                        cause: str | None = None, prepared: pipeline.Prepared | None = None) -> str:
    """The quiet period is over: ask for what is missing (one message), or make the report (with the answers
    `prepared` before the caller's lock). Returns what it did."""
    reporter = reporter or db.session.get(Reporter, conversation.reporter_id)
    intake = Intake(conversation, reporter)
    cause = cause or intake.cause()
    conversation.act_after = None
    draft = intake.draft
    if conversation.state == "reported" or not intake.has_content():
        return "nothing"
    location, description = draft.get("location"), intake.description()
    if location and not description and (draft.get("pending") or {}).get("text"):
        # "Nog steeds kapot" was answered with "about M-…?", and the place came instead of a yes or no: those
        # words describe it. The duplicates check joins it to the known report when it is that problem.
        draft["description"] = [draft.pop("pending")["text"]]
        draft.pop("awaiting", None)
        description = intake.description()
    if location and description:
        return make_report(intake, cause, prepared)
    if draft.get("address_failed") and not location:
        failed = draft.pop("address_failed")
        street = (draft.get("place_hint") or {}).get("street")
        # A known street without that number: the number is what to type again ("Westerdoksdijk 999").
        missing = "address_number_not_found" if street and failed.startswith(street) else "address_not_found"
        intake.reply(missing, cause, values={"address": failed, "street": street or ""}, location_request=True)
        return _asked(intake, missing)
    hint = draft.get("place_hint") or {}
    if not location and description and (hint.get("street") or hint.get("postcode")):
        # "Grofvuil bij de houtmankade": the street is known, the number is what is missing.
        key = "ask_house_number"
        if _already_asked(draft, key):
            intake.save()
            return "waiting"
        place = hint.get("street") or f"postcode {hint['postcode'][:4]} {hint['postcode'][4:]}"
        intake.reply(key, cause, values={"place": place}, location_request=True)
        return _asked(intake, key)
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
    at = as_aware_utc(parse_time(asked.get("at")))
    return asked.get("key") == key and at is not None and (utcnow() - at).total_seconds() < REPEAT_AFTER_SECONDS


def _asked(intake: Intake, key: str) -> str:
    asked = intake.draft.get("asked") or {}
    count = asked.get("count", 0) + 1 if asked.get("key") == key else 1
    intake.draft["asked"] = {"key": key, "count": count, "at": utcnow().isoformat()}
    if count >= STUCK_AFTER_ASKS:
        flag_for_person(intake.conversation, "de melder komt er niet uit: dezelfde vraag drie keer gesteld")
    intake.save()
    return f"asked:{key}"


def make_report(intake: Intake, cause: str, prepared: pipeline.Prepared | None = None) -> str:
    """Location and description are known: the report, through the shared pipeline; the answer with it."""
    conversation, reporter, draft = intake.conversation, intake.reporter, intake.draft
    location = draft["location"]
    description, other = intake.description(), None
    found = _two_problems(draft)
    if found is not None:  # one report of the first; the other is named in the answer, not hidden in it
        description, other = found.first, found.second
    new = NewReport(
        description=description,
        channel=conversation.channel_kind,
        lat=location.get("lat"), lon=location.get("lon"),
        address_text=location.get("address_text") or location.get("address"),
        reporter_id=reporter.id,
        actor=f"melder via {conversation.channel_kind}",
        photo_ids=list(draft.get("photos") or []),
    )
    db.session.flush()
    try:
        report = pipeline.create_report(new, prepared)
    except OutsideServiceArea as outside:
        draft.pop("location", None)
        draft.pop("gps_candidate", None)
        if outside.in_netherlands:
            intake.reply("outside_area", cause, values={"municipality": outside.municipality_name
                                                        or outside.municipality_code})
        else:
            intake.reply("outside_netherlands", cause)
        intake.save()
        return "outside"
    except ReportInputError:
        flag_for_person(conversation, "de melding kon niet worden gemaakt: de gegevens zijn niet compleet")
        intake.reply("needs_person", cause)
        intake.save()
        return "needs_person"
    answer_report(intake, cause, report)
    if other is not None:
        add_event(report, "note", actor=f"melder via {conversation.channel_kind}",
                  note=f"De melder noemde ook een ander probleem: {other}"[:2000], data={"from_resident": True})
        intake.reply("second_problem", cause, values={"other": other})
    return "duplicate" if report.duplicate_of_id else "reported"


def answer_report(intake: Intake, cause: str, report: Report) -> None:
    """The conversation is done: its report is made (or merged into a known one, `duplicate_of_id`), and the
    resident gets the reference in the same transaction."""
    conversation = intake.conversation
    conversation.state = "reported"
    conversation.last_report_id = report.id
    conversation.organisation_id = report.organisation_id
    conversation.act_after = None
    intake.draft = {"report_id": report.id, "reported_at": utcnow().isoformat()}
    intake.drop_unsent_questions()  # "Wat is er aan de hand?" must not follow the answer with the reference
    if report.duplicate_of_id is not None:
        known = db.session.get(Report, report.duplicate_of_id)
        intake.reply("report_known", cause, report_id=known.id, values={
            "reference": known.reference, "status": status_name(known.status, intake.language),
            "own_reference": report.reference})
    else:
        intake.reply("report_made", cause, report_id=report.id, values={
            "reference": report.reference, "resident_text": handling_text(intake, report),
            "category": category_name(report, intake.language)})
    intake.save()


# --- helpers ---


def _two_problems(draft: dict):
    """The draft's words split into two different problems, or None (also when the classifier cannot tell)."""
    try:
        return two_problems(". ".join(draft.get("description") or []), lambda text: suggest_categories(text, k=3))
    except Exception:  # no suggestion now: the words make one report, as before
        log.warning("two problems or one: the classifier could not tell", exc_info=True)
        return None


def handling_text(intake: Intake, report: Report) -> str:
    """What the resident is told about how the report is handled, written for chat, in their language: the
    organisation's own text for the category, else the category's (Dutch) text, else the reply template for
    the category's handling code (`handling_<CODE>`, editable per organisation and language), else the default."""
    category = report.category
    if category is None:
        return intake.text("report_made_default_handling")
    if intake.language == "nl":
        own = _organisation_text(report)
        if own or category.resident_text:
            return own or category.resident_text
    if category.handling_code:
        try:
            return intake.text(f"handling_{category.handling_code}")
        except KeyError:
            pass
    return intake.text("report_made_default_handling")


def _organisation_text(report: Report) -> str | None:
    from meldingen.categories.models import CategoryOverride

    if report.organisation_id is None or report.category_id is None:
        return None
    return db.session.scalar(select(CategoryOverride.resident_text).where(
        CategoryOverride.organisation_id == report.organisation_id,
        CategoryOverride.category_id == report.category_id))


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


def act_after_quiet_period(conversation: Conversation, quiet: int) -> None:
    """Act on the conversation `quiet` seconds from now (the caller set `act_after`): the timer starts once the
    caller commits; the sweep (`intake.act_due`) catches a timer that is lost."""
    conversation.act_after = utcnow() + timedelta(seconds=quiet)
    jobs.after_commit("intake.act", delay=quiet, conversation_id=conversation.id)


def act_if_due(conversation_id: int, now=None) -> str:
    """The timer fired: act when no newer message moved the moment on (that message started its own timer).
    Returns what it did; the caller commits (`intake/tasks.py`)."""
    now = now or utcnow()
    conversation = db.session.get(Conversation, conversation_id)
    if conversation is None:
        return "gone"
    draft = conversation.draft or {}
    location = draft.get("location") or {}
    prepared = None
    if conversation.state != "reported":
        # The report's place and category (a typed address perhaps at PDOK), worked out before the lock that
        # every webhook's insert waits for: no network call and no classifier run while it is held.
        prepared = pipeline.prepare(location.get("lat"), location.get("lon"), draft_description(draft),
                                    address_text=location.get("address_text") or location.get("address"))
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
    if conversation.state != "reported" and _waits_for_stored_messages(conversation, reporter, now):
        return "waiting-for-messages"
    result = act_on_conversation(conversation, reporter=reporter, prepared=prepared)
    conversation.act_attempts = 0
    conversation.act_error = None
    conversation.parked_at = None
    return result


def _waits_for_stored_messages(conversation: Conversation, reporter: Reporter | None, now) -> bool:
    """Messages of the resident that arrived before this moment but are not taken in yet (the words sent 30 ms
    after the location, still queued behind other residents' work, or waiting for this lock) are part of what
    the decision is about: acting now would ask "Wat is er aan de hand?" of a resident who said it. The decision
    waits for them: the timer looks again shortly (the message, once taken in, sets the quiet period anew)."""
    if reporter is None or not unprocessed_messages(reporter):
        return False
    conversation.act_after = now + timedelta(seconds=WAIT_FOR_MESSAGES_SECONDS)
    jobs.after_commit("intake.act", delay=WAIT_FOR_MESSAGES_SECONDS, conversation_id=conversation.id)
    return True


def due_conversations(now=None, limit: int = 200) -> list[int]:
    """The conversations whose quiet period is over (lost timers, restarts, earlier failures), oldest first."""
    now = now or utcnow()
    return list(db.session.scalars(
        select(Conversation.id).where(Conversation.act_after.is_not(None), Conversation.act_after <= now)
        .order_by(Conversation.act_after).limit(limit)
    ))


def record_act_failure(conversation_id: int, exc: BaseException, now=None) -> str:
    """Acting on a draft failed (its transaction is rolled back): try again after the backoff, or park the
    conversation for a person. The caller commits; the retry's timer starts then."""
    from meldingen.recovery.policy import retry_delay, short_reason, should_park

    now = now or utcnow()
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
        return "parked"
    delay = retry_delay(conversation.act_attempts)
    conversation.act_after = now + timedelta(seconds=delay)
    log.warning("conversation %s: acting failed (%s); again in %ss", conversation_id, conversation.act_error, delay)
    jobs.after_commit("intake.act", delay=delay, conversation_id=conversation_id)
    return "retry"
