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
from meldingen.db import begin_write
from meldingen.extensions import db
from meldingen.intake.draft import Intake, category_name, draft_description, flag_for_person, parse_time
from meldingen.notify.hooks import status_name
from meldingen.reports.models import Report
from meldingen.reports.services import NewReport, OutsideServiceArea, ReportInputError
from meldingen.residents.models import Conversation, Reporter
from meldingen.timeutil import as_aware_utc, utcnow

log = logging.getLogger(__name__)

# Asking the same thing this often without an answer: a person takes over.
STUCK_AFTER_ASKS = 3
# The same question is not asked again within this time.
REPEAT_AFTER_SECONDS = 120


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
    new = NewReport(
        description=intake.description(),
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
    except ReportInputError as exc:
        flag_for_person(conversation, f"melding kon niet worden gemaakt: {exc}")
        intake.reply("needs_person", cause)
        intake.save()
        return "needs_person"
    answer_report(intake, cause, report)
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
                                    address_text=location.get("address_text"))
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
    result = act_on_conversation(conversation, reporter=reporter, prepared=prepared)
    conversation.act_attempts = 0
    conversation.act_error = None
    conversation.parked_at = None
    return result


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
