"""One conversation's draft as the intake works on it: its slots, its replies (through the outbox) and the
state the understanding of a message needs. Shared by the message handling (`services`), the status answers
(`status`) and the quiet-period decision (`reporting`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from meldingen.channels.adapter import Reply
from meldingen.channels.adapters import find_adapter
from meldingen.channels.messages import InboundMessage
from meldingen.extensions import db
from meldingen.intake.understanding import ConversationState
from meldingen.media.models import Photo
from meldingen.notify.outbox import queue_message, supersede_questions
from meldingen.notify.templates import render
from meldingen.reports.models import Report
from meldingen.residents.models import Conversation, Reporter
from meldingen.timeutil import as_aware_utc, utcnow

# A report made this recently is what "nee, bij nummer 12" or a photo without words is about.
RECENT_REPORT_SECONDS = 30 * 60


class Intake:
    """One message's (or one timer's) effect on one conversation."""

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
        # What the platform cannot show is said in words (SMS: numbered choices), what it needs is added.
        reply = Reply(self.text(key, **values), tuple(buttons or ()), location_request)
        adapter = find_adapter(self.reporter.channel_kind)
        if adapter is not None:
            reply = adapter.format_reply(reply, self.text)
        if buttons:
            self.draft["options"] = buttons
        outbound = queue_message(self.reporter, reply.text, key=f"{cause}:{key}", conversation=self.conversation,
                                 report_id=report_id, template_key=key, values=values, buttons=buttons,
                                 location_request=location_request)
        if reply.payload:
            outbound.payload = {**(outbound.payload or {}), **reply.payload}

    def drop_unsent_questions(self) -> None:
        """The draft changed: a question about it that has not left yet would ask what is now known. What is
        still missing is asked afresh (not held back as "asked a moment ago")."""
        if supersede_questions(self.conversation.id) and self.draft.get("asked"):
            self.draft["asked"] = {**self.draft["asked"], "at": None}

    def cause(self) -> str:
        """The idempotency root of replies caused by this message (a redelivered message causes nothing new)."""
        if self.message is not None:
            return f"in:{self.message.channel_kind}:{self.message.external_id}"
        return f"conv:{self.conversation.id}:v{self.conversation.version}"

    def save(self) -> None:
        self.conversation.draft = dict(self.draft)

    # --- the draft ---

    def has_content(self) -> bool:
        return bool(self.draft.get("photos") or self.draft.get("location") or self.draft.get("description")
                    or self.draft.get("place_hint") or self.draft.get("number_hint"))

    def description(self) -> str:
        return draft_description(self.draft)

    def start_new_draft(self) -> None:
        for photo in db.session.scalars(select(Photo).where(Photo.id.in_(self.draft.get("photos") or []),
                                                            Photo.report_id.is_(None))):
            photo.conversation_id = self.conversation.id  # kept with the conversation for staff, not a report
        self.draft = {}
        self.conversation.state = "collecting"

    def recent_report(self) -> Report | None:
        """The report this conversation made a short while ago, if any."""
        report_id = self.conversation.last_report_id
        reported_at = as_aware_utc(parse_time(self.draft.get("reported_at")))
        if report_id is None or reported_at is None or self.conversation.state != "reported":
            return None
        if (utcnow() - reported_at).total_seconds() > RECENT_REPORT_SECONDS:
            return None
        return db.session.get(Report, report_id)

    def state(self, has_open_report: bool) -> ConversationState:
        collecting = self.conversation.state != "reported"
        return ConversationState(
            collecting=collecting, has_draft=collecting and self.has_content(),
            has_location=bool(self.draft.get("location")), has_description=bool(self.draft.get("description")),
            recently_reported=not collecting and self.recent_report() is not None,
            has_open_report=has_open_report,
        )


# A draft is the working copy of one report in the making, rewritten whole on every message: bounded, so that one
# sender's thousands of texts cannot make each message cost more than the last. Every message itself stays in
# the conversation's history (and a report's description holds what came before the bound).
MAX_DRAFT_PARTS = 40
MAX_DRAFT_CHARS = 8000
MAX_DRAFT_SOURCES = 60


def within_draft_bounds(parts: list[str], more: str) -> bool:
    """May these words still join the draft's description?"""
    if not parts:
        return True  # the first words are kept whole, however long the platform let them be
    return len(parts) < MAX_DRAFT_PARTS and sum(len(p) for p in parts) + len(more) <= MAX_DRAFT_CHARS


def draft_description(draft: dict) -> str:
    """The resident's words so far, as the report's description."""
    return " ".join(draft.get("description") or []).strip()


def category_name(report: Report, language: str) -> str:
    category = report.category
    if category is None:
        return "-"
    return category.name_en if language == "en" and category.name_en else category.name


def flag_for_person(conversation: Conversation, reason: str) -> None:
    if not conversation.needs_person:
        conversation.needs_person = True
        conversation.needs_person_since = utcnow()
    conversation.needs_person_reason = reason[:200]


def parse_time(value) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
